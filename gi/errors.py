"""Errors a user can act on: each names the field (or file, row) and the problem."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: ``field`` names what is wrong, ``problem`` says how; str() is ``"field: problem"``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFoundError(LookupError):
    """A product, area, sample or plan that does not exist."""
