"""Deterministic randomness of a draw, derived from its 32-byte seed by SHA-256 so that anyone can re-implement it.

Every random number of a draw is ``SHA-256(seed || label)``, where ``label`` is an ASCII string such as
``order|2|1234`` that names what the number is for; integers are read big-endian from the first bytes of the
digest. Because each number is named, the result does not depend on the order in which numbers are asked for.
"""

from __future__ import annotations

import hashlib

TICKS = 1 << 32  # resolution of inclusion probabilities and of the systematic start: pi = ticks / 2**32


class SeedStream:
    """Named random integers from one seed."""

    __slots__ = ("_base", "seed")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError("a draw seed is exactly 32 bytes (a SHA-256 digest)")
        self.seed = seed
        self._base = hashlib.sha256(seed)

    def digest(self, label: str) -> bytes:
        """SHA-256(seed || label as ASCII)."""
        h = self._base.copy()
        h.update(label.encode("ascii"))
        return h.digest()

    def key64(self, label: str) -> int:
        """An unsigned 64-bit sort key: the digest's first 8 bytes, big-endian."""
        return int.from_bytes(self.digest(label)[:8], "big")

    def keys64(self, prefix: str, ids: list[int]) -> list[int]:
        """``key64(prefix + str(id))`` for many ids at once (the same numbers, computed faster)."""
        base, head = self._base, prefix.encode("ascii")
        out = []
        for i in ids:
            h = base.copy()
            h.update(head + str(i).encode("ascii"))
            out.append(int.from_bytes(h.digest()[:8], "big"))
        return out

    def ticks(self, label: str) -> int:
        """A uniform integer in [0, 2**32): the digest's first 4 bytes, big-endian."""
        return int.from_bytes(self.digest(label)[:4], "big")
