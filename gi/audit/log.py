"""Reading the audit log: its checkpoint (size, head hash, time) and the entry that records a given row."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gi.audit.hashing import HASH_SIZE, inclusion_proof, split_leaves
from gi.errors import InputError, NotFoundError

CHECKPOINT_TIME = "time "


@dataclass(frozen=True)
class Checkpoint:
    """A published state of the log, in the C2SP tlog-checkpoint body format: origin, size, head hash (base64),
    and a ``time`` extension line (when the head entry was recorded, UTC)."""

    origin: str
    size: int
    head_hash: bytes
    time: datetime | None = None

    def text(self) -> str:
        """The checkpoint as published (each line ends with a newline)."""
        lines = [self.origin, str(self.size), base64.b64encode(self.head_hash).decode("ascii")]
        if self.time is not None:
            lines.append(CHECKPOINT_TIME + self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, note: str) -> Checkpoint:
        """Read a checkpoint's text (a signed note's signature lines, after the blank line, are ignored)."""
        body = note.replace("\r\n", "\n").split("\n\n", 1)[0]
        lines = [line for line in body.split("\n") if line != ""]
        if len(lines) < 3:
            raise InputError("checkpoint", "needs three lines: origin, size, head hash (base64)")
        origin, size_text, hash_text = lines[0].strip(), lines[1].strip(), lines[2].strip()
        if not size_text.isdigit():
            raise InputError("checkpoint", f"size {size_text!r} is not a whole number")
        try:
            head = base64.b64decode(hash_text, validate=True)
        except (binascii.Error, ValueError):
            head = b""
        if len(head) != HASH_SIZE:
            raise InputError("checkpoint", f"head hash {hash_text!r} is not a base64 SHA-256 hash")
        at = None
        for line in lines[3:]:
            if line.startswith(CHECKPOINT_TIME):
                try:
                    at = datetime.strptime(line[len(CHECKPOINT_TIME) :].strip(), "%Y-%m-%dT%H:%M:%S.%fZ")
                except ValueError:
                    raise InputError("checkpoint", f"unreadable time line {line!r}") from None
                at = at.replace(tzinfo=UTC)
        return cls(origin, int(size_text), head, at)


def log_origin(session: Session) -> str:
    """The log's name, from its genesis entry (``gi-audit/<uuid>``)."""
    origin = session.execute(text("SELECT note FROM audit_entry WHERE seq = 1 AND op = 'genesis'")).scalar()
    if origin is None and session.execute(text("SELECT to_regclass('audit_archive')")).scalar() is not None:
        # The genesis month was archived (gi audit archive): the archive keeps the log's name.
        origin = session.execute(text("SELECT origin FROM audit_archive ORDER BY first_seq LIMIT 1")).scalar()
    if origin is None:
        raise NotFoundError("the audit log has no genesis entry; run `gi db upgrade`")
    return str(origin)


def head(session: Session) -> Checkpoint:
    """The checkpoint of the log as committed now: publish it where the operator cannot rewrite it."""
    origin = log_origin(session)
    row = session.execute(
        text("SELECT seq, entry_hash, recorded_at FROM audit_entry ORDER BY seq DESC LIMIT 1")
    ).first()
    if row is None:  # every entry archived: the head is the last archive's
        row = session.execute(
            text(
                "SELECT last_seq AS seq, head_hash AS entry_hash, head_recorded_at AS recorded_at "
                "FROM audit_archive ORDER BY last_seq DESC LIMIT 1"
            )
        ).one()
    return Checkpoint(origin, int(row.seq), bytes(row.entry_hash), row.recorded_at)


@dataclass(frozen=True)
class AuditRef:
    """Where a row is recorded: the latest entry whose leaves include it."""

    table: str
    row_id: int
    seq: int
    op: str
    entry_hash: bytes
    leaf_hash: bytes
    position: int
    leaf_count: int
    merkle_root: bytes
    recorded_at: datetime
    actor: str

    @property
    def short(self) -> str:
        """The first 16 hex digits of the entry hash, as records print it."""
        return self.entry_hash.hex()[:16]

    def label(self) -> str:
        """One line naming the entry: ``audit entry #42 3f9a…`` style, for records and notices."""
        return f"#{self.seq} {self.short}"


_REFS = text(
    """
    SELECT DISTINCT ON (r.id) r.id, e.seq, e.op, e.entry_hash, e.leaf_count, e.merkle_root, e.recorded_at, e.actor,
           array_position(e.row_ids, r.id) AS position,
           substring(e.leaves FROM 32 * (array_position(e.row_ids, r.id) - 1) + 1 FOR 32) AS leaf
      FROM unnest(CAST(:ids AS bigint[])) AS r(id)
      JOIN audit_entry e ON e.id_range @> r.id AND e.kind = :kind AND r.id = ANY (e.row_ids)
     ORDER BY r.id, e.seq DESC
    """
)


def _table_of(subject: Any) -> tuple[str, int]:
    if isinstance(subject, tuple):
        table, row_id = subject
        return str(table), int(row_id)
    table = getattr(type(subject), "__tablename__", None)
    row_id = getattr(subject, "id", None)
    if table is None or row_id is None:
        raise TypeError(f"{subject!r} is not a stored row of a table under the audit log")
    return str(table), int(row_id)


def entries_for(session: Session, table: str, ids: Sequence[int]) -> dict[int, AuditRef]:
    """The latest audit entry of each row ``ids`` of ``table`` (rows not recorded are absent)."""
    if not ids:
        return {}
    rows = session.execute(_REFS, {"ids": list(ids), "kind": table})
    return {
        int(r.id): AuditRef(
            table,
            int(r.id),
            int(r.seq),
            str(r.op),
            bytes(r.entry_hash),
            bytes(r.leaf),
            int(r.position) - 1,
            int(r.leaf_count),
            bytes(r.merkle_root),
            r.recorded_at,
            str(r.actor),
        )
        for r in rows
    }


def entry_for(session: Session, subject: Any) -> AuditRef | None:
    """The audit entry recording ``subject`` (a stored verdict, area version, ... or ``(table, id)``), if any.

    Only committed entries count: a row stored in the current, uncommitted transaction has none yet.
    """
    table, row_id = _table_of(subject)
    return entries_for(session, table, [row_id]).get(row_id)


def inclusion(session: Session, ref: AuditRef) -> list[bytes]:
    """The RFC 6962 audit path proving that ``ref``'s leaf is in its entry's Merkle root."""
    blob = session.execute(
        text("SELECT leaves FROM audit_entry WHERE seq = :seq"), {"seq": ref.seq}
    ).scalar_one()
    return inclusion_proof(split_leaves(bytes(blob)), ref.position)
