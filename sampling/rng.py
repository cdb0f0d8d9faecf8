"""Deterministic randomness of a draw, derived from its 32-byte seed by SHA-256 so that anyone can
re-implement it.

Every random number of a draw is ``SHA-256(seed || label)``: ``seed`` is the raw 32-byte digest (not its hex
form) and ``label`` an ASCII string such as ``order|2|1234`` that names what the number is for; integers are
read big-endian from the first bytes of the digest. Because each number is named, the result does not depend
on the order in which numbers are asked for.
"""

from __future__ import annotations

import hashlib

TICKS = 1 << 32  # resolution of inclusion probabilities and of the systematic start: pi = ticks / 2**32
_U64 = 1 << 64


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

    def key8(self, label: str) -> bytes:
        """The digest's first 8 bytes (sorts like ``key64``)."""
        return hashlib.sha256(self.seed + label.encode("ascii")).digest()[:8]

    def sort_keys(self, prefix: str, ids: list[int]) -> list[bytes]:
        """The first 8 digest bytes of ``prefix + str(id)`` for many ids: as bytes they sort exactly like the
        big-endian integers ``key64`` returns, and are much cheaper to make."""
        head = self.seed + prefix.encode("ascii")
        sha = hashlib.sha256
        return [sha(head + b"%d" % i).digest()[:8] for i in ids]

    def ticks(self, label: str) -> int:
        """A uniform integer in [0, 2**32): the digest's first 4 bytes, big-endian."""
        return int.from_bytes(self.digest(label)[:4], "big")

    def below(self, label: str, m: int) -> int:
        """An exactly uniform integer in [0, m) by rejection: the first ``x = key64(label + "|" + k)``, k = 0, 1,
        ..., below the largest multiple of m not above 2**64, taken modulo m."""
        if m < 1:
            raise ValueError("below(m) needs m >= 1")
        limit = _U64 - _U64 % m
        k = 0
        while True:
            x = self.key64(f"{label}|{k}")
            if x < limit:
                return x % m
            k += 1
