"""The audit log's hashes, computed independently of the database: leaves, RFC 6962 Merkle trees, entry texts.

Everything here is pure and mirrors docs/audit.md byte for byte; `gi audit verify` recomputes the log with these
functions rather than trusting the database's own (which a superuser could replace).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)  # the "previous hash" of the first entry
ENTRY_HEADER = "gi-audit-entry v1"

_sha256 = hashlib.sha256


def leaf_hash(line: bytes) -> bytes:
    """SHA-256(0x00 || line): the leaf of one row, ``line`` being its COPY text line without the newline."""
    return _sha256(b"\x00" + line).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an inner node of the Merkle tree (RFC 6962 § 2.1)."""
    return _sha256(b"\x01" + left + right).digest()


def split_leaves(blob: bytes) -> list[bytes]:
    """32-byte leaf hashes from their concatenation."""
    if len(blob) % HASH_SIZE:
        raise ValueError(f"{len(blob)} bytes is not a list of {HASH_SIZE}-byte hashes")
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of leaf hashes (an odd node at the end of a level moves up unchanged)."""
    if not leaves:
        return _sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        nxt = [_sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` (RFC 6962 § 2.1.1), bottom up."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} of {len(leaves)}")
    path = []
    level = list(leaves)
    i = index
    while len(level) > 1:
        sibling = i ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        nxt = [node_hash(level[j], level[j + 1]) for j in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        i //= 2
    return path


def root_from_proof(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root that leaf ``index`` of a tree of ``size`` leaves and its audit path imply (RFC 9162 § 2.1.3.2)."""
    if not 0 <= index < size:
        raise IndexError(f"leaf {index} of {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            raise ValueError("audit path is too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("audit path is too short")
    return r


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


@dataclass(frozen=True)
class EntryFields:
    """What an entry's hash covers (besides the previous entry's hash)."""

    seq: int
    kind: str
    op: str
    columns: tuple[str, ...]
    leaf_count: int
    merkle_root: bytes
    actor: str
    db_role: str
    recorded_at: datetime
    note: str

    def text(self) -> str:
        """The canonical text of the entry (docs/audit.md)."""
        at = self.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return (
            "\n".join(
                (
                    ENTRY_HEADER,
                    str(self.seq),
                    self.kind,
                    self.op,
                    ",".join(self.columns),
                    str(self.leaf_count),
                    self.merkle_root.hex(),
                    _escape(self.actor),
                    _escape(self.db_role),
                    at,
                    _escape(self.note),
                )
            )
            + "\n"
        )

    def hash(self, prev: bytes) -> bytes:
        """SHA-256(prev || canonical text): this entry's hash after ``prev``."""
        return _sha256(prev + self.text().encode("utf-8")).digest()
