"""The tamper-evident audit log's tables (created, with their triggers, by migration 0005; see docs/audit.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INT8RANGE
from sqlalchemy.orm import Mapped, mapped_column

from gi.models.base import Base


class AuditTable(Base):
    """A table under the log, and whether it is append-only (its rows' leaves cover all its columns)."""

    __tablename__ = "audit_table"

    table_name: Mapped[str] = mapped_column(Text, primary_key=True)
    append_only: Mapped[bool] = mapped_column(Boolean)


class AuditEntry(Base):
    """One entry of the hash chain: the rows one statement stored, as leaf hashes under a Merkle root.

    ``entry_hash`` = SHA-256(``prev_hash`` || canonical entry text); written only by the commit-time trigger,
    never updated or deleted.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        CheckConstraint("seq > 0", name="seq_positive"),
        CheckConstraint("op IN ('genesis', 'snapshot', 'insert', 'update', 'delete')", name="op_known"),
        CheckConstraint("leaf_count >= 0", name="leaf_count_non_negative"),
        CheckConstraint(
            "length(merkle_root) = 32 AND length(prev_hash) = 32 AND length(entry_hash) = 32",
            name="hash_sizes",
        ),
        Index("ix_audit_entry_kind_seq", "kind", "seq"),
        # Partitioned by recorded_at month (docs/scale.md): its keys hold the partition key.
        UniqueConstraint("entry_hash", "recorded_at", name="uq_audit_entry_entry_hash"),
        Index(
            "ix_audit_entry_id_range",
            "id_range",
            postgresql_using="gist",
            postgresql_where=text("id_range IS NOT NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(
        Text, comment="the table whose rows the entry records ('audit': genesis)"
    )
    op: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[str]] = mapped_column(ARRAY(Text), comment="the columns each leaf covers, in order")
    leaf_count: Mapped[int] = mapped_column(Integer)
    merkle_root: Mapped[bytes] = mapped_column(LargeBinary)
    actor: Mapped[str] = mapped_column(Text, comment="user as the application names it")
    db_role: Mapped[str] = mapped_column(Text, comment="database role as PostgreSQL authenticated it")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, server_default="")
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary)
    row_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    id_range: Mapped[Any | None] = mapped_column(INT8RANGE)
    leaves: Mapped[bytes] = mapped_column(LargeBinary, comment="32-byte leaf hashes of row_ids, concatenated")


class AuditPending(Base):
    """Captures of the current transaction waiting for its commit to be chained (empty between transactions)."""

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    op: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[str]] = mapped_column(ARRAY(Text))
    row_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    leaves: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_count: Mapped[int] = mapped_column(Integer)
    merkle_root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text, server_default="")


class AuditArchive(Base):
    """A month of the log detached by `gi audit archive`: its entry range and the hash at its end, from which
    the live chain continues; the entries are kept in ``table_name`` (docs/audit.md, "Archived months")."""

    __tablename__ = "audit_archive"
    __table_args__ = (
        CheckConstraint("first_seq >= 1 AND entries = last_seq - first_seq + 1", name="seq_range"),
        UniqueConstraint("table_name", name="uq_audit_archive_table_name"),
    )

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    table_name: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(BigInteger)
    first_prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary)
    head_recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    archived_by: Mapped[str] = mapped_column(Text)


class DataArchive(Base):
    """A month of a data table (a sample-keyed table or ``listing``) detached by `gi db archive`: the table it is
    kept in, its row count and an order-independent digest of its rows (docs/scale.md, "Partitioned history")."""

    __tablename__ = "data_archive"
    __table_args__ = (
        CheckConstraint("row_count >= 0", name="row_count_non_negative"),
        UniqueConstraint("table_name", name="uq_data_archive_table_name"),
    )

    parent: Mapped[str] = mapped_column(Text, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    table_name: Mapped[str] = mapped_column(Text)
    row_count: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[Any] = mapped_column(Numeric)
    archived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    archived_by: Mapped[str] = mapped_column(Text)
