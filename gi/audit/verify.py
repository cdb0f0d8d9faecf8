"""`gi audit verify`: recompute the hash chain and every recorded row's leaf, in one consistent snapshot.

Nothing the database computed is trusted: entry hashes, Merkle roots and leaves are recomputed here from the
stored entry fields and from the rows as ``COPY ... TO STDOUT`` writes them (docs/audit.md). Findings name the
entry or row and what is wrong; with a checkpoint published earlier it also proves the log only grew since.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from psycopg import sql
from sqlalchemy import Engine, text

from gi.audit.archive import ArchivedMonth, archived_months
from gi.audit.hashing import ZERO_HASH, EntryFields, leaf_hash, merkle_root, split_leaves
from gi.audit.log import Checkpoint
from gi.db.archive import (
    ARCHIVE_ORDER,
    DIGEST_SQL,
    REFUSE_CHANGE,
    REFUSE_TRUNCATE,
    ArchivedTable,
    archived_tables,
)
from gi.errors import NotFoundError

# The session settings under which a row's COPY text is its canonical text (the capture trigger sets the same).
CANONICAL_SETTINGS = (
    ("extra_float_digits", "1"),
    ("timezone", "UTC"),
    ("datestyle", "ISO, YMD"),
    ("intervalstyle", "postgres"),
    ("bytea_output", "hex"),
    ("client_encoding", "UTF8"),
)
# Triggers that must be present and enabled ("D" is disabled) for the protection to hold.
_CAPTURE = ("audit_capture_insert",)
_MUTABLE_CAPTURE = ("audit_capture_update", "audit_capture_delete")
_FROZEN = ("audit_refuse_change",)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Finding:
    """One thing wrong: where (an entry, a table row, the checkpoint, a trigger) and what."""

    where: str
    problem: str

    def text(self) -> str:
        """``where: problem``, as the CLI prints it."""
        return f"{self.where}: {self.problem}"


@dataclass
class Verification:
    """What `gi audit verify` found."""

    origin: str | None = None
    entries: int = 0
    head_hash: bytes | None = None
    rows: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        """True when the chain, every recorded row and the checkpoint (if any) check out."""
        return not self.findings

    def add(self, where: str, problem: str) -> None:
        """Note one finding."""
        self.findings.append(Finding(where, problem))


class _Recorded(NamedTuple):
    leaf: bytes | None  # None: the row was deleted by this entry
    seq: int
    op: str
    columns: tuple[str, ...]


def verify_log(
    engine: Engine, checkpoint: Checkpoint | None = None, progress: Progress | None = None
) -> Verification:
    """Recompute the whole log and check every row of every table under it (and ``checkpoint``, if given)."""
    say = progress or (lambda _step: None)
    result = Verification(checkpoint=checkpoint)
    with engine.connect() as conn:
        archivable = [
            t
            for t in (*ARCHIVE_ORDER, "data_archive")
            if conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": t}).scalar_one()
        ]
        conn.rollback()
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cur:
                # Before the snapshot is taken (the first query takes it): a `gi db archive` either committed
                # before, or waits until this verification ends; never half-seen (month gone, record not yet).
                if archivable:
                    cur.execute(f"LOCK TABLE ONLY {', '.join(archivable)} IN ACCESS SHARE MODE")
                for name, value in CANONICAL_SETTINGS:
                    cur.execute("SELECT set_config(%s, %s, true)", (name, value))
                tracked = {
                    r[0]: (tuple(r[1]), bool(r[2]))
                    for r in cur.execute(
                        "SELECT table_name, audit_columns(table_name), append_only FROM audit_table"
                        " WHERE to_regclass(table_name) IS NOT NULL"
                    )
                }
                genesis = cur.execute(
                    "SELECT note FROM audit_entry WHERE seq = 1 AND op = 'genesis'"
                ).fetchone()
                result.origin = genesis[0] if genesis else None
            archives = archived_months(conn)
            data_archives = archived_tables(conn)
            if archives and result.origin is None:
                result.origin = archives[0].origin
            recorded: dict[str, dict[int, _Recorded]] = {}
            start = _check_archives(raw, archives, tracked, recorded, result, say)
            say("chain")
            chain = _check_chain(raw, tracked, result, say, recorded, start)
            if checkpoint is not None:
                _check_checkpoint(checkpoint, chain, result, archives, raw)
            _check_protection(raw, tracked, result)
            kept = _check_data_archives(raw, data_archives, result, say)
            for table in sorted(set(tracked) | set(recorded)):
                say(f"rows of {table}")
                current = tracked.get(table, ((), False))[0]
                _check_rows(raw, table, current, recorded.get(table, {}), result, kept.get(table, []))
    return result


def _check_data_archives(
    raw: Any, archives: list[ArchivedTable], result: Verification, say: Progress
) -> dict[str, list[ArchivedTable | None]]:
    """Each archived data month must be in the database, protected, and hold the rows ``data_archive`` recorded
    (count and digest: this covers the samples, which the log does not record row by row); table -> its archives
    (None for one that is gone, so that its rows are not reported one by one as deleted)."""
    kept: dict[str, list[ArchivedTable | None]] = {}
    for archive in archives:
        where = f"{archive.parent} archive {archive.month:%Y-%m}"
        if not _table_exists(raw, archive.table_name):
            result.add(
                where,
                f"its table {archive.table_name} is not in the database: restore it from its dump to verify "
                f"the {archive.rows:,} rows it holds",
            )
            kept.setdefault(archive.parent, []).append(None)
            continue
        say(f"archive {archive.table_name}")
        kept.setdefault(archive.parent, []).append(archive)
        with raw.cursor() as cur:
            count, digest = cur.execute(
                sql.SQL(DIGEST_SQL).format(sql.Identifier(archive.table_name))
            ).fetchone()
            triggers = dict(
                cur.execute(
                    "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal",
                    (archive.table_name,),
                ).fetchall()
            )
        if (int(count), int(digest)) != (archive.rows, archive.digest):
            result.add(
                where,
                f"{archive.table_name} holds {int(count):,} rows with another digest than data_archive recorded "
                f"({archive.rows:,} rows): rows were altered, added or removed",
            )
        for trigger in (REFUSE_CHANGE, REFUSE_TRUNCATE):
            state = triggers.get(trigger)
            if state is None:
                result.add(f"{archive.table_name} (protection)", f"trigger {trigger} is missing")
            elif state == "D":
                result.add(f"{archive.table_name} (protection)", f"trigger {trigger} is disabled")
    return kept


def verify_archive(engine: Engine, month: date, progress: Progress | None = None) -> Verification:
    """`gi audit verify --archived YYYY-MM`: recompute one archived month's chain from the hash it links to, and
    check it ends at the head ``audit_archive`` recorded and that the next month (or the live log) links to it."""
    say = progress or (lambda _step: None)
    result = Verification()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            archives = archived_months(conn)
            found = [a for a in archives if a.month == month]
            if not found:
                raise NotFoundError(f"{month:%Y-%m} is not an archived month of the audit log", field="month")
            archive = found[0]
            result.origin = archive.origin
            raw = conn.connection.driver_connection
            assert raw is not None
            where = f"archive {month:%Y-%m}"
            if not _table_exists(raw, archive.table_name):
                raise NotFoundError(
                    f"{archive.table_name} is not in the database: restore it from its dump first",
                    field="month",
                )
            say(archive.table_name)
            _check_chain(
                raw,
                {},
                result,
                say,
                {},
                _Start(archive.first_seq, archive.first_prev_hash),
                archive.table_name,
            )
            if archive.first_seq == 1 and archive.first_prev_hash != ZERO_HASH:
                result.add(where, "the log's first entry does not link to the zero hash")
            if result.entries != archive.last_seq or result.head_hash != archive.head_hash:
                result.add(
                    where,
                    f"it ends at entry {result.entries:,} with another hash than audit_archive recorded "
                    f"(entry {archive.last_seq:,}): the archive was altered",
                )
            later = [a for a in archives if a.first_seq == archive.last_seq + 1]
            links: bytes | None
            if later:
                links = later[0].first_prev_hash
            else:
                with raw.cursor() as cur:
                    row = cur.execute(
                        "SELECT prev_hash FROM audit_entry WHERE seq = %s", (archive.last_seq + 1,)
                    ).fetchone()
                links = bytes(row[0]) if row else None
            if links is not None and links != archive.head_hash:
                result.add(where, f"entry {archive.last_seq + 1:,} does not link to this archive's head")
    return result


def _entries(raw: Any, table: str = "audit_entry") -> Iterator[Any]:
    with raw.cursor(name="gi_audit_entries") as cur:
        cur.itersize = 200
        cur.execute(
            sql.SQL(
                "SELECT seq, kind, op, columns, leaf_count, merkle_root, actor, db_role, recorded_at, note, "
                "prev_hash, entry_hash, row_ids, leaves FROM {} ORDER BY seq"
            ).format(sql.Identifier(table))
        )
        yield from cur


@dataclass(frozen=True)
class _Start:
    """Where a walk of the chain starts: the first entry expected, and the hash it links to."""

    seq: int = 1
    prev_hash: bytes = ZERO_HASH


def _table_exists(raw: Any, table: str) -> bool:
    with raw.cursor() as cur:
        return bool(cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0])


def _check_archives(
    raw: Any,
    archives: list[ArchivedMonth],
    tracked: dict[str, tuple[tuple[str, ...], bool]],
    recorded: dict[str, dict[int, _Recorded]],
    result: Verification,
    say: Progress,
) -> _Start:
    """The archived months must form one chain from genesis; their entries' leaves are read for the row checks
    (their hashes are recomputed by ``--archived``); where the live chain starts."""
    start = _Start()
    for archive in archives:
        where = f"archive {archive.month:%Y-%m}"
        if archive.first_seq != start.seq or archive.first_prev_hash != start.prev_hash:
            result.add(
                where, f"it does not continue the chain at entry {start.seq}: an archive is missing or forged"
            )
        if not _table_exists(raw, archive.table_name):
            result.add(
                where,
                f"its table {archive.table_name} is not in the database: restore it from its dump to verify the "
                "rows it recorded",
            )
        else:
            say(f"leaves of {archive.table_name}")
            _collect(raw, archive.table_name, tracked, recorded, result)
        start = _Start(archive.last_seq + 1, archive.head_hash)
    return start


def _collect(
    raw: Any,
    table: str,
    tracked: dict[str, tuple[tuple[str, ...], bool]],
    recorded: dict[str, dict[int, _Recorded]],
    result: Verification,
) -> None:
    """What each row should be, from an archived month's entries (no hashing: ``--archived`` does that)."""
    for row in _entries(raw, table):
        seq, kind, op, columns, ids, blob = row[0], row[1], row[2], row[3], row[12], bytes(row[13])
        if kind == "audit":
            continue
        try:
            leaves = split_leaves(blob)
        except ValueError as exc:
            result.add(f"entry {seq}", f"its leaf hashes are malformed ({exc})")
            continue
        _record(recorded, tracked, kind, op, seq, tuple(columns), ids, leaves, result)


def _record(
    recorded: dict[str, dict[int, _Recorded]],
    tracked: dict[str, tuple[tuple[str, ...], bool]],
    kind: str,
    op: str,
    seq: int,
    columns: tuple[str, ...],
    ids: list[int],
    leaves: list[bytes],
    result: Verification,
) -> None:
    """Note what an entry says each of its rows is."""
    table = recorded.setdefault(kind, {})
    append_only = tracked.get(kind, ((), False))[1]
    where = f"entry {seq}"
    if append_only and op in ("update", "delete"):
        result.add(where, f"records an {op.upper()} of {kind}, whose rows are append-only")
    for row_id, leaf in zip(ids, leaves, strict=False):
        before = table.get(row_id)
        if append_only and op == "insert" and before is not None:
            result.add(
                f"{kind} {row_id}",
                f"recorded as inserted twice (entries {before.seq} and {seq}) in an append-only table",
            )
        table[row_id] = _Recorded(None if op == "delete" else leaf, seq, op, columns)


def _check_chain(
    raw: Any,
    tracked: dict[str, tuple[tuple[str, ...], bool]],
    result: Verification,
    say: Progress,
    recorded: dict[str, dict[int, _Recorded]],
    start: _Start,
    table: str = "audit_entry",
) -> list[bytes]:
    """Walk the entries of ``table`` from ``start``: sequence, links, hashes and Merkle roots; collect what each
    row should be into ``recorded``. ``chain[i]``: the recomputed hash after entry ``start.seq + i``."""
    chain: list[bytes] = []
    recomputed = start.prev_hash
    prev_stored = start.prev_hash
    expected_seq = start.seq
    for row in _entries(raw, table):
        (seq, kind, op, columns, count, root, actor, role, at, note, prev, stored, ids, blob) = row
        prev, stored, root, blob = bytes(prev), bytes(stored), bytes(root), bytes(blob)
        where = f"entry {seq}"
        if seq != expected_seq:
            missing = (
                f"entry {expected_seq} is missing"
                if seq == expected_seq + 1
                else f"entries {expected_seq}-{seq - 1} are missing"
            )
            result.add(where, f"{missing}: the sequence jumps from {expected_seq - 1} to {seq}")
            chain.extend([b""] * (seq - expected_seq))  # no hash to compare a checkpoint of that size with
        if seq == 1 and op != "genesis":
            result.add(where, "the first entry is not the log's genesis entry")
        fields = EntryFields(seq, kind, op, tuple(columns), count, root, actor, role, at, note)
        if prev != prev_stored:
            result.add(
                where,
                f"its previous hash does not match entry {expected_seq - 1}'s hash: an entry was inserted, "
                "removed or replaced before it",
            )
        if fields.hash(prev) != stored:
            result.add(where, "its hash does not match its contents: the entry was altered")
        recomputed = fields.hash(recomputed)
        chain.append(recomputed)
        prev_stored = stored
        expected_seq = seq + 1
        leaves = _leaves(blob, ids, count, root, where, result)
        if kind != "audit":
            _record(recorded, tracked, kind, op, seq, tuple(columns), ids, leaves, result)
        if seq % 1000 == 0:
            say(f"chain: {seq:,} entries")
    result.entries = expected_seq - 1
    result.head_hash = prev_stored if result.entries else None
    return chain


def _leaves(
    blob: bytes, ids: list[int], count: int, root: bytes, where: str, result: Verification
) -> list[bytes]:
    try:
        leaves = split_leaves(blob)
    except ValueError as exc:
        result.add(where, f"its leaf hashes are malformed ({exc})")
        return []
    if not (len(leaves) == len(ids) == count):
        result.add(where, f"it counts {count} rows but lists {len(ids)} ids and {len(leaves)} leaf hashes")
    if merkle_root(leaves) != root:
        result.add(where, "its leaf hashes do not match its Merkle root: a leaf was altered")
    return leaves


def _check_checkpoint(
    checkpoint: Checkpoint,
    chain: list[bytes],
    result: Verification,
    archives: list[ArchivedMonth] | None = None,
    raw: Any = None,
) -> None:
    """The log's first ``size`` entries must still hash to the checkpoint's head (an archived size: the archive's
    stored hash at that entry, which ``--archived`` recomputes)."""
    where = "checkpoint"
    offset = archives[-1].last_seq if archives else 0
    if archives and 0 < checkpoint.size <= offset:
        if result.origin is not None and checkpoint.origin != result.origin:
            result.add(where, f"it is of log {checkpoint.origin!r}, not of this log ({result.origin!r})")
            return
        archive = next(a for a in archives if a.first_seq <= checkpoint.size <= a.last_seq)
        stored = None
        if _table_exists(raw, archive.table_name):
            with raw.cursor() as cur:
                found = cur.execute(
                    sql.SQL("SELECT entry_hash FROM {} WHERE seq = %s").format(
                        sql.Identifier(archive.table_name)
                    ),
                    (checkpoint.size,),
                ).fetchone()
                stored = bytes(found[0]) if found else None
        if stored != checkpoint.head_hash:
            result.add(
                where,
                f"entry {checkpoint.size:,} in archive {archive.month:%Y-%m} does not have the checkpoint's head "
                "hash: the log was rewritten since it was published",
            )
        return
    chain = [b""] * offset + chain
    if result.origin is not None and checkpoint.origin != result.origin:
        result.add(where, f"it is of log {checkpoint.origin!r}, not of this log ({result.origin!r})")
        return
    if checkpoint.size > len(chain):
        result.add(
            where,
            f"it has {checkpoint.size:,} entries but the log now has {len(chain):,}: entries were removed",
        )
        return
    if checkpoint.size == 0:
        return
    if chain[checkpoint.size - 1] != checkpoint.head_hash:
        result.add(
            where,
            f"the log's first {checkpoint.size:,} entries no longer hash to its head: the log was rewritten "
            "(not only appended to) since it was published",
        )


def _check_protection(
    raw: Any, tracked: dict[str, tuple[tuple[str, ...], bool]], result: Verification
) -> None:
    """The capture and refusal triggers must be in place and enabled; the pending table empty."""
    with raw.cursor() as cur:
        triggers = {
            (r[0], r[1]): r[2]
            for r in cur.execute(
                "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname LIKE 'audit%' AND NOT t.tgisinternal"
            )
        }
        pending = cur.execute("SELECT count(*) FROM audit_pending").fetchone()[0]
    if pending:
        result.add("audit_pending", f"{pending} committed captures were never chained into the log")
    wanted = [("audit_entry", t) for t in _FROZEN] + [("audit_pending", "audit_chain")]
    for table, (_, append_only) in tracked.items():
        wanted += [(table, t) for t in _CAPTURE + (_FROZEN if append_only else _MUTABLE_CAPTURE)]
    for table, trigger in wanted:
        state = triggers.get((table, trigger))
        if state is None:
            result.add(f"{table} (protection)", f"trigger {trigger} is missing")
        elif state == "D":
            result.add(f"{table} (protection)", f"trigger {trigger} is disabled")


def _copy_lines(raw: Any, table: str, columns: tuple[str, ...]) -> Iterator[tuple[int, bytes]]:
    """(id, canonical line) of every row of ``table``, as COPY TO writes them."""
    query = sql.SQL("COPY (SELECT {cols} FROM {table}) TO STDOUT").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns), table=sql.Identifier(table)
    )
    with raw.cursor() as cur, cur.copy(query) as copy:
        carry = b""
        for block in copy:
            data = carry + bytes(block)
            lines = data.split(b"\n")
            carry = lines.pop()
            for line in lines:
                yield int(line[: line.index(b"\t")] if b"\t" in line else line), line
        if carry:
            yield int(carry[: carry.index(b"\t")] if b"\t" in carry else carry), carry


def _check_rows(
    raw: Any,
    table: str,
    current: tuple[str, ...],
    recorded: dict[int, _Recorded],
    result: Verification,
    archives: list[ArchivedTable | None] | None = None,
) -> None:
    """Every row must be what its latest entry recorded; every recorded row must still be there, in the table or
    in one of its archived months (``archives``; None for an archive whose table is gone)."""
    archives = archives or []
    sources = [table] + [a.table_name for a in archives if a is not None]
    if not _table_exists(raw, table):
        if any(r.leaf is not None for r in recorded.values()):
            result.add(table, "the table is gone but the log records rows of it")
        return
    layouts = {r.columns for r in recorded.values() if r.leaf is not None}
    if current:
        layouts.add(current)
    for columns in sorted(layouts):
        gone = [c for c in columns if c not in current]
        if current and gone:
            stale = sum(1 for r in recorded.values() if r.leaf is not None and r.columns == columns)
            result.add(
                table,
                f"{stale:,} rows were recorded with column(s) {', '.join(gone)}, which the table no longer has: "
                "they cannot be re-verified (a migration that drops a column records the rows again with "
                "audit_snapshot)",
            )
            layouts.discard(columns)
    present: set[int] = set()
    checked = 0
    for columns in sorted(layouts, key=lambda c: c != current):
        for row_id, line in (pair for source in sources for pair in _copy_lines(raw, source, columns)):
            present.add(row_id)
            entry = recorded.get(row_id)
            if entry is None or entry.leaf is None or entry.columns != columns:
                continue
            checked += 1
            if leaf_hash(line) != entry.leaf:
                result.add(
                    f"{table} {row_id}",
                    f"the row differs from what entry {entry.seq} recorded ({entry.op}): it was altered outside "
                    "the application",
                )
    missing = sorted(i for i, e in recorded.items() if e.leaf is not None and i not in present)
    if missing and None in archives:
        # An archive is gone (reported above): its rows are not each reported as deleted.
        result.add(
            table,
            f"{len(missing):,} recorded rows are neither live nor in an archived month still in the database: "
            "restore the missing archive tables from their dumps",
        )
        missing = []
    for row_id in missing:
        entry = recorded[row_id]
        result.add(
            f"{table} {row_id}", f"recorded by entry {entry.seq} ({entry.op}) but missing: it was deleted"
        )
    for row_id in sorted(present - recorded.keys()):
        result.add(
            f"{table} {row_id}", "the row is not in the audit log: it was inserted outside the application"
        )
    for row_id in sorted(present):
        entry = recorded.get(row_id)
        if entry is not None and entry.leaf is None:
            result.add(f"{table} {row_id}", f"deleted by entry {entry.seq} but present again")
    result.rows[table] = checked
