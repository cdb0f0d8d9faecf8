"""The tamper-evident audit log on a real PostGIS: capture, chain, verification, tampering, roles, concurrency.

Tampering is done as an attacker would: plain SQL, with the triggers bypassed by a superuser
(``session_replication_role = replica``). Each such test works on a throw-away copy of the register database.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from fixtures import database_copy, gi
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gi.audit import (
    Checkpoint,
    EntryFields,
    acting_as,
    entry_for,
    head,
    inclusion,
    inclusion_proof,
    merkle_root,
    root_from_proof,
    verify_log,
)
from gi.audit.archive import ArchivedMonth, archive_month
from gi.audit.hashing import ZERO_HASH, node_hash
from gi.audit.verify import verify_archive
from gi.db import get_engine, session_scope
from gi.db.local import libpq_dsn
from gi.db.partitions import PARTITION_ZONE, add_months, month_start
from gi.errors import ErrorKind, InputError, classify
from gi.models import GIProduct, OriginOutcome, OriginVerdictRecord, Producer, QualityRule, Sample
from gi.origin.batch import record_samples
from gi.origin.intake import record_sample

pytestmark = pytest.mark.postgis


# ------------------------------------------------------------------ helpers


def _rfc6962(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 § 2.1 defines it (split at the largest power of two below n)."""
    import hashlib

    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_rfc6962(leaves[:k]), _rfc6962(leaves[k:]))


def _leaves(n: int) -> list[bytes]:
    import hashlib

    return [hashlib.sha256(b"\x00" + i.to_bytes(4, "big")).digest() for i in range(n)]


def _as_superuser(url: str, *statements: str) -> None:
    """Run SQL with every trigger bypassed, as a superuser attacker would."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def _rows(n: int, start: int = 0) -> list[tuple[int, dict[str, str]]]:
    return [
        (
            i + 1,
            {
                "product": "xihu-longjing",
                "collected_at": "2026-04-02T09:40:00+08:00",
                "x": f"{120.10 + (start + i) * 1e-4:.6f}",
                "y": "30.226843",
                "crs": "WGS84",
                "gps_accuracy_m": "5",
                "lot_number": f"AUDIT-{start + i}",
            },
        )
        for i in range(n)
    ]


@pytest.fixture
def audit_db(register_template: str) -> Iterator[str]:
    """A throw-away copy of the register database."""
    with database_copy(register_template, "gi_audit") as url:
        yield url


@pytest.fixture
def stored(audit_db: str) -> str:
    """The copy with 300 samples stored by the batch path (two entries' worth) and one by the single path."""
    engine = get_engine(audit_db)
    with acting_as("inspector-wang"), session_scope(engine) as session:
        result = record_samples(session, _rows(300), source="audit test", chunk=200)
        assert len(result.stored) == 300
    with session_scope(engine) as session:
        record_sample(session, _rows(1, start=1000)[0][1])
    return audit_db


def _verdict_ids(url: str) -> list[int]:
    with session_scope(get_engine(url)) as session:
        return list(session.scalars(select(OriginVerdictRecord.id).order_by(OriginVerdictRecord.id)))


# ------------------------------------------------------------------ hashes


def test_merkle_root_is_rfc6962_and_proofs_verify(session: Session) -> None:
    for n in range(0, 34):
        leaves = _leaves(n)
        root = merkle_root(leaves)
        assert root == _rfc6962(leaves)
        sql_root = session.execute(text("SELECT audit_merkle_root(:b)"), {"b": b"".join(leaves)}).scalar_one()
        assert bytes(sql_root) == root, n
        for i in range(n):
            assert root_from_proof(leaves[i], i, n, inclusion_proof(leaves, i)) == root
    leaves = _leaves(7)
    assert root_from_proof(leaves[2], 3, 7, inclusion_proof(leaves, 2)) != merkle_root(leaves)


def test_entry_text_is_the_documented_bytes() -> None:
    fields = EntryFields(
        seq=2,
        kind="origin_verdict",
        op="insert",
        columns=("id", "verdict"),
        leaf_count=1,
        merkle_root=bytes(range(32)),
        actor="王\\a\nb",
        db_role="gi",
        recorded_at=datetime(2026, 4, 2, 1, 40, 0, 5, tzinfo=UTC),
        note="",
    )
    assert fields.text() == (
        "gi-audit-entry v1\n2\norigin_verdict\ninsert\nid,verdict\n1\n"
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
        "王\\\\a\\nb\ngi\n2026-04-02T01:40:00.000005Z\n\n"
    )
    assert fields.hash(ZERO_HASH) != fields.hash(bytes([1]) * 32)


# ------------------------------------------------------------------ append and verify


def test_every_writer_is_recorded_with_its_actor_and_verifies(stored: str) -> None:
    engine = get_engine(stored)
    with acting_as("qa-li"), session_scope(engine) as session:
        product = session.scalars(select(GIProduct).where(GIProduct.code == "xihu-longjing")).one()
        # Text a COPY line must escape, JSON with backslashes, floats, booleans, dates, a geometry, numerics.
        session.add(
            QualityRule(
                product_id=product.id,
                kind="guard_band",
                guard_factor=Decimal("1.5"),
                valid_from=date(2026, 1, 1),
                note='tab\there, line\nbreak, back\\slash, CR\r, VT\x0b, BS\x08, FF\x0c, "quote", 龙井',
            )
        )
        session.add(
            Producer(
                product_id=product.id,
                name="测试茶厂\t(audit)",
                credit_code="91330106MA2AUDIT1",
                location=from_shape(Point(120.1, 30.2), srid=4326),
                authorized_from=date(2025, 1, 1),
                synthetic=True,
            )
        )
        sample = session.scalars(select(Sample).limit(1)).one()
        session.add(
            OriginVerdictRecord(
                sample_id=sample.id,
                product_id=product.id,
                verdict=OriginOutcome.UNCERTAIN,
                distance_m=1e16,
                band_m=0.1 + 0.2,
                flags=["a b", 'q"uote', "c,d", "{x}", "back\\slash"],
                other_areas=[{"k": "v\\w", "n": 1e-05}],
                rule="correction:\tre-judged",
                inputs={"z": 100.0, "a": [1, 2.5, None, True], "s": "新\n行"},
            )
        )
    result = verify_log(engine)
    assert result.ok, [f.text() for f in result.findings]
    assert result.rows["origin_verdict"] == 302
    assert result.rows["quality_rule"] == 1 and result.rows["producer"] == 1
    assert result.rows["production_area"] >= 15 and result.rows["gi_product"] >= 14
    with session_scope(engine) as session:
        actors = dict(
            session.execute(
                text("SELECT kind, array_agg(DISTINCT actor) FROM audit_entry GROUP BY kind")
            ).all()
        )
        seqs = list(session.scalars(text("SELECT seq FROM audit_entry ORDER BY seq")))
    assert seqs == list(range(1, len(seqs) + 1))
    assert "inspector-wang" in actors["origin_verdict"] and "qa-li" in actors["quality_rule"]
    assert (
        set(actors["sample"] if "sample" in actors else []) == set()
    )  # samples are covered via their verdicts


def test_entry_for_a_verdict_and_its_inclusion_proof(stored: str) -> None:
    engine = get_engine(stored)
    with session_scope(engine) as session:
        verdict = session.scalars(
            select(OriginVerdictRecord).order_by(OriginVerdictRecord.id).offset(150)
        ).first()
        assert verdict is not None
        ref = entry_for(session, verdict)
        assert ref is not None and ref.op == "insert" and ref.actor == "inspector-wang"
        path = inclusion(session, ref)
        assert root_from_proof(ref.leaf_hash, ref.position, ref.leaf_count, path) == ref.merkle_root
        assert len(ref.short) == 16 and ref.label().startswith(f"#{ref.seq} ")
        assert entry_for(session, ("origin_verdict", 10**9)) is None
    shown = gi(stored, "audit", "proof", "origin_verdict", str(verdict.id))
    assert shown.returncode == 0, shown.stderr
    assert "inclusion proof holds" in shown.stdout and ref.entry_hash.hex() in shown.stdout


def test_an_unchanged_register_reload_records_nothing(audit_db: str) -> None:
    from gi.register.loader import load_register_into_db

    engine = get_engine(audit_db)
    with session_scope(engine) as session:
        before = head(session).size
        load_register_into_db(session)
    with session_scope(engine) as session:
        assert head(session).size == before


# ------------------------------------------------------------------ tampering


def test_an_altered_verdict_field_is_caught_and_named(stored: str) -> None:
    victim = _verdict_ids(stored)[42]
    _as_superuser(
        stored, f"UPDATE origin_verdict SET distance_m = 512, verdict = 'inside' WHERE id = {victim}"
    )
    result = verify_log(get_engine(stored))
    assert [f.where for f in result.findings] == [f"origin_verdict {victim}"]
    assert "differs from what entry" in result.findings[0].problem
    cli = gi(stored, "audit", "verify")
    assert cli.returncode == 5
    assert f"origin_verdict {victim}: the row differs" in cli.stderr and "1 finding" in cli.stderr


def test_a_deleted_entry_is_caught(stored: str) -> None:
    with session_scope(get_engine(stored)) as session:
        seq = session.scalar(text("SELECT max(seq) FROM audit_entry WHERE kind = 'origin_verdict'")) - 1
    _as_superuser(stored, f"DELETE FROM audit_entry WHERE seq = {seq}")
    problems = [f.text() for f in verify_log(get_engine(stored)).findings]
    assert (
        f"entry {seq + 1}: entry {seq} is missing: the sequence jumps from {seq - 1} to {seq + 1}" in problems
    )
    assert any(p.startswith(f"entry {seq + 1}: its previous hash does not match") for p in problems)
    # the rows that entry recorded are no longer in the log
    assert any("is not in the audit log" in p for p in problems)


def test_an_inserted_entry_is_caught(stored: str) -> None:
    with session_scope(get_engine(stored)) as session:
        size = head(session).size
    forged = (
        f"INSERT INTO audit_entry (seq, kind, op, columns, leaf_count, merkle_root, actor, db_role, recorded_at,"
        f" prev_hash, entry_hash, row_ids, leaves) VALUES ({size + 1}, 'origin_verdict', 'insert', '{{id}}', 0,"
        " sha256(''), 'mallory', 'gi', now(), sha256('x'), sha256('y'), '{}', '')"
    )
    _as_superuser(stored, forged)
    problems = [f.text() for f in verify_log(get_engine(stored)).findings]
    assert problems == [
        f"entry {size + 1}: its previous hash does not match entry {size}'s hash: an entry was inserted, removed "
        "or replaced before it",
        f"entry {size + 1}: its hash does not match its contents: the entry was altered",
    ]


def test_deleted_and_inserted_verdict_rows_are_caught(stored: str) -> None:
    ids = _verdict_ids(stored)
    _as_superuser(
        stored,
        f"DELETE FROM origin_verdict WHERE id = {ids[7]}",
        f"INSERT INTO origin_verdict (sample_id, collected_at, product_id, verdict, band_m, flags, other_areas, rule,"
        f" inputs) SELECT sample_id, collected_at, product_id, 'inside', band_m, flags, other_areas, rule, inputs"
        f" FROM origin_verdict"
        f" WHERE id = {ids[8]}",
    )
    findings = {f.where: f.problem for f in verify_log(get_engine(stored)).findings}
    assert "but missing: it was deleted" in findings[f"origin_verdict {ids[7]}"]
    (inserted,) = [w for w in findings if w not in (f"origin_verdict {ids[7]}",)]
    assert "not in the audit log" in findings[inserted]


def test_a_disabled_trigger_is_reported(stored: str) -> None:
    _as_superuser(stored, "ALTER TABLE origin_verdict DISABLE TRIGGER audit_refuse_change")
    problems = [f.text() for f in verify_log(get_engine(stored)).findings]
    assert problems == ["origin_verdict (protection): trigger audit_refuse_change is disabled"]


# ------------------------------------------------------------------ protection


def test_update_delete_and_truncate_are_refused(stored: str) -> None:
    engine = get_engine(stored)
    victim = _verdict_ids(stored)[0]
    for statement in (
        f"UPDATE origin_verdict SET distance_m = 1 WHERE id = {victim}",
        f"DELETE FROM origin_verdict WHERE id = {victim}",
        "DELETE FROM sample",  # cascades to the verdicts
        "UPDATE audit_entry SET actor = 'x'",
        "DELETE FROM audit_entry",
        "TRUNCATE origin_verdict CASCADE",
        "TRUNCATE audit_entry",
    ):
        with pytest.raises(DBAPIError) as caught, session_scope(engine) as session:
            session.execute(text(statement))
        problem = classify(caught.value)
        assert problem.kind is ErrorKind.CONFLICT and problem.message.startswith("refused: "), statement
    # The documented way to drop data: the explicit switch, as the owner (tests drop the database instead).
    with session_scope(engine) as session:
        session.execute(text("SET LOCAL gi.audit_truncate = 'discard audited data'"))
        session.execute(text("TRUNCATE sample, origin_verdict CASCADE"))
        assert session.scalar(text("SELECT count(*) FROM origin_verdict")) == 0


def test_the_application_role_cannot_alter_verdicts_nor_write_the_log(stored: str) -> None:
    from gi.audit.roles import grant_application_role

    role = f"gi_app_{uuid.uuid4().hex[:8]}"
    engine = get_engine(stored)
    with session_scope(engine) as session:
        session.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        grants = grant_application_role(session, role)
    assert "origin_verdict" in grants.insert_only and "producer" in grants.writable
    assert "audit_entry" in grants.read_only
    victim = _verdict_ids(stored)[0]
    try:
        for statement, code in (
            (f"UPDATE origin_verdict SET distance_m = 1 WHERE id = {victim}", "42501"),
            ("DELETE FROM origin_verdict", "42501"),
            ("ALTER TABLE origin_verdict DISABLE TRIGGER audit_refuse_change", "42501"),
            ("TRUNCATE origin_verdict", "42501"),
            ("INSERT INTO audit_entry SELECT * FROM audit_entry WHERE seq = 1", "42501"),
            ("SELECT audit_snapshot('origin_verdict')", "42501"),
        ):
            with pytest.raises(DBAPIError) as caught, session_scope(engine) as session:
                session.execute(text(f"SET LOCAL ROLE {role}"))
                session.execute(text(statement))
            assert getattr(caught.value.orig, "sqlstate", None) == code, statement
        # Even with UPDATE granted by mistake, the trigger refuses.
        with session_scope(engine) as session:
            session.execute(text(f"GRANT UPDATE ON origin_verdict TO {role}"))
        with pytest.raises(DBAPIError) as caught, session_scope(engine) as session:
            session.execute(text(f"SET LOCAL ROLE {role}"))
            session.execute(text(f"UPDATE origin_verdict SET distance_m = 1 WHERE id = {victim}"))
        assert getattr(caught.value.orig, "sqlstate", None) == "GIA01"
        # What it may do is recorded, by the owner's trigger functions, under its own name.
        with acting_as("service-user"), session_scope(engine) as session:
            session.execute(text(f"SET LOCAL ROLE {role}"))
            record_sample(session, _rows(1, start=5000)[0][1])
        with session_scope(engine) as session:
            last = session.execute(
                text("SELECT actor, db_role FROM audit_entry ORDER BY seq DESC LIMIT 1")
            ).one()
        assert tuple(last) == ("service-user", make_role(engine))
        assert verify_log(engine).ok
    finally:
        with session_scope(engine) as session:
            session.execute(text(f"DROP OWNED BY {role}"))
            session.execute(text(f"DROP ROLE {role}"))


def make_role(engine: object) -> str:
    """The role the test connects as (session_user: SET ROLE does not change it)."""
    with session_scope(engine) as session:  # type: ignore[arg-type]
        return str(session.scalar(text("SELECT session_user")))


# ------------------------------------------------------------------ concurrency and checkpoints


def test_concurrent_appends_do_not_fork_the_chain(audit_db: str) -> None:
    engine = get_engine(audit_db)
    with session_scope(engine) as session:
        before = head(session).size
    writers, rounds = 6, 3
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for r in range(rounds):
                with acting_as(f"writer-{w}"), session_scope(engine) as session:
                    record_samples(session, _rows(20, start=10_000 * (w + 1) + 100 * r), source=f"w{w}")
                    barrier.wait(timeout=60)  # every writer commits at the same moment
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    result = verify_log(engine)
    assert result.ok, [f.text() for f in result.findings]
    with session_scope(engine) as session:
        entries = session.execute(
            text("SELECT seq, prev_hash, entry_hash FROM audit_entry ORDER BY seq")
        ).all()
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert len(entries) == before + writers * rounds
    assert all(entries[i].prev_hash == entries[i - 1].entry_hash for i in range(1, len(entries)))
    assert result.rows["origin_verdict"] == writers * rounds * 20


def test_a_checkpoint_proves_the_log_only_grew(stored: str, tmp_path: Path) -> None:
    engine = get_engine(stored)
    published = gi(stored, "audit", "head")
    assert published.returncode == 0, published.stderr
    checkpoint = Checkpoint.parse(published.stdout)
    assert checkpoint.origin.startswith("gi-audit/") and checkpoint.time is not None
    assert Checkpoint.parse(checkpoint.text()) == checkpoint
    with session_scope(engine) as session:
        record_samples(session, _rows(5, start=20_000), source="later")
    assert verify_log(engine, checkpoint).ok
    file = tmp_path / "checkpoint.txt"
    file.write_text(published.stdout, encoding="utf-8")
    grown = gi(stored, "audit", "verify", "--checkpoint", str(file))
    assert grown.returncode == 0 and "it extends the checkpoint" in grown.stdout

    # A superuser rewrites history consistently: entry 2's actor changed and every later hash recomputed.
    with session_scope(engine) as session:
        rows = session.execute(
            text(
                "SELECT seq, kind, op, columns, leaf_count, merkle_root, actor, db_role, recorded_at, note"
                " FROM audit_entry ORDER BY seq"
            )
        ).all()
    statements, prev = [], ZERO_HASH
    for r in rows:
        actor = "mallory" if r.seq == 2 else r.actor
        fields = EntryFields(
            r.seq, r.kind, r.op, tuple(r.columns), r.leaf_count, bytes(r.merkle_root), actor, r.db_role,
            r.recorded_at, r.note,
        )  # fmt: skip
        new = fields.hash(prev)
        statements.append(
            f"UPDATE audit_entry SET actor = '{actor}', prev_hash = '\\x{prev.hex()}',"
            f" entry_hash = '\\x{new.hex()}' WHERE seq = {r.seq}"
        )
        prev = new
    _as_superuser(stored, *statements)
    assert verify_log(engine).ok  # without a checkpoint, a thorough rewrite cannot be seen
    caught = verify_log(engine, checkpoint)
    assert [f.where for f in caught.findings] == ["checkpoint"]
    assert "the log was rewritten" in caught.findings[0].problem
    cli = gi(stored, "audit", "verify", "-c", checkpoint.text().replace("\n", "\\n"))
    assert cli.returncode == 5 and "checkpoint: the log's first" in cli.stderr

    longer = Checkpoint(checkpoint.origin, 10**6, checkpoint.head_hash)
    assert "entries were removed" in verify_log(engine, longer).findings[0].problem
    other = Checkpoint("gi-audit/another", checkpoint.size, checkpoint.head_hash)
    assert "not of this log" in verify_log(engine, other).findings[0].problem


def test_unreadable_checkpoints_are_refused_in_one_line(stored: str) -> None:
    for text_ in ("just one line", "gi-audit/x\nten\nAAAA\n", "gi-audit/x\n3\nnot base64!\n"):
        with pytest.raises(Exception) as caught:
            Checkpoint.parse(text_)
        assert classify(caught.value).kind is ErrorKind.BAD_INPUT
    cli = gi(stored, "audit", "verify", "--checkpoint", "no-such-file.txt")
    assert cli.returncode == 1 and "no such file" in cli.stderr and "Traceback" not in cli.stderr


def test_downgrade_drops_the_log_and_upgrade_records_the_rows_already_stored(stored: str) -> None:
    from gi import db as gi_db

    get_engine(stored).dispose()
    gi_db.downgrade(stored, "0006")
    with psycopg.connect(libpq_dsn(stored)) as conn:
        conn.execute("UPDATE origin_verdict SET rule = 'changed while no log existed'")
    gi_db.upgrade(stored)
    engine = get_engine(stored)
    result = verify_log(engine)
    assert result.ok, [f.text() for f in result.findings]
    assert result.rows["origin_verdict"] == 301
    with session_scope(engine) as session:
        ops = dict(session.execute(text("SELECT op, count(*) FROM audit_entry GROUP BY op")).all())
    assert ops["genesis"] == 1 and ops["snapshot"] >= 5 and "insert" not in ops


def test_columns_added_later_are_covered_and_dropped_ones_reported(stored: str) -> None:
    engine = get_engine(stored)
    with session_scope(engine) as session:
        session.execute(text("ALTER TABLE origin_verdict ADD COLUMN reviewer text"))
    with session_scope(engine) as session:
        record_sample(session, _rows(1, start=7000)[0][1])
    with session_scope(engine) as session:  # the entry is chained at commit
        new_id = session.scalar(text("SELECT max(id) FROM origin_verdict"))
        columns = session.scalar(text("SELECT columns FROM audit_entry ORDER BY seq DESC LIMIT 1"))
    assert columns[-1] == "reviewer"
    assert verify_log(engine).ok  # old rows with their old columns, the new one with the new column
    _as_superuser(stored, f"UPDATE origin_verdict SET reviewer = 'x' WHERE id = {new_id}")
    assert [f.where for f in verify_log(engine).findings] == [f"origin_verdict {new_id}"]
    with session_scope(engine) as session:
        # CASCADE: the current-verdict view selects every column (this database is the test's own copy).
        session.execute(text("ALTER TABLE origin_verdict DROP COLUMN rule CASCADE"))
    problems = [f.text() for f in verify_log(engine).findings]
    assert any("column(s) rule, which the table no longer has" in p for p in problems)


# ------------------------------------------------------------------ compiled capture


def _capture_functions(url: str, table: str) -> set[str]:
    with session_scope(get_engine(url)) as session:
        return set(
            session.scalars(
                text(
                    "SELECT tgfoid::regproc::text FROM pg_trigger WHERE tgrelid = to_regclass(:t) "
                    "AND tgname LIKE 'audit_capture_%'"
                ),
                {"t": table},
            )
        )


def test_every_tracked_table_captures_through_its_compiled_function(audit_db: str) -> None:
    with session_scope(get_engine(audit_db)) as session:
        tables = list(session.scalars(text("SELECT table_name FROM audit_table")))
    assert "origin_verdict" in tables and "plan_task" in tables
    for table in tables:
        assert _capture_functions(audit_db, table) == {f"audit_capture__{table}"}


def test_an_altered_table_is_captured_whole_before_and_after_it_is_recompiled(stored: str) -> None:
    engine = get_engine(stored)
    awkward = "tab\there, back\\slash, line\nbreak, 龙井"
    with session_scope(engine) as session:
        # The default fills the new rows' column with the characters COPY escapes.
        session.execute(
            text(f"ALTER TABLE origin_verdict ADD COLUMN reviewer text DEFAULT {_literal(awkward)}")
        )
    assert _capture_functions(stored, "origin_verdict") == {"audit_capture__origin_verdict"}
    with session_scope(engine) as session:  # compiled before the column existed: the generic path
        record_sample(session, _rows(1, start=7100)[0][1])
    with session_scope(engine) as session:
        session.execute(text("SELECT audit_compile('origin_verdict')"))
    with session_scope(engine) as session:  # compiled with it
        record_sample(session, _rows(1, start=7200)[0][1])
    with session_scope(engine) as session:
        last = session.execute(
            text(
                "SELECT columns, row_ids FROM audit_entry WHERE kind = 'origin_verdict' ORDER BY seq DESC LIMIT 2"
            )
        ).all()
        values = set(session.scalars(text("SELECT reviewer FROM origin_verdict WHERE reviewer IS NOT NULL")))
    assert values == {awkward}
    assert [columns[-1] for columns, _ in last] == ["reviewer", "reviewer"]
    result = verify_log(engine)
    assert result.ok, [f.text() for f in result.findings]
    # Both paths hashed the new column: changing it in either row is caught.
    first, second = last[1][1][0], last[0][1][0]
    _as_superuser(stored, f"UPDATE origin_verdict SET reviewer = 'x' WHERE id IN ({first}, {second})")
    assert sorted(f.where for f in verify_log(engine).findings) == sorted(
        [f"origin_verdict {first}", f"origin_verdict {second}"]
    )


def _literal(value: str) -> str:
    """A PostgreSQL E'' literal of ``value``."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\t", "\\t").replace("\n", "\\n")
    return f"E'{escaped}'"


def test_a_table_whose_compiled_name_would_not_fit_keeps_the_generic_capture(audit_db: str) -> None:
    engine = get_engine(audit_db)
    table = "inspection_" + "x" * 45  # 56 characters: audit_capture__ + it exceeds PostgreSQL's 63
    with session_scope(engine) as session:
        session.execute(text(f"CREATE TABLE {table} (id integer PRIMARY KEY, note text, seen timestamptz)"))
        session.execute(text(f"SELECT audit_track('{table}', false)"))
    assert _capture_functions(audit_db, table) == {"audit_capture"}
    with session_scope(engine) as session:
        session.execute(text(f"INSERT INTO {table} VALUES (1, E'a\\tb', now()), (2, NULL, NULL)"))
        session.execute(text(f"UPDATE {table} SET note = 'changed' WHERE id = 2"))
        session.execute(text(f"DELETE FROM {table} WHERE id = 1"))
    with session_scope(engine) as session:
        ops = list(
            session.scalars(text("SELECT op FROM audit_entry WHERE kind = :t ORDER BY seq"), {"t": table})
        )
    assert ops == ["insert", "update", "delete"]
    result = verify_log(engine)
    assert result.ok, [f.text() for f in result.findings]


def _archive_this_month(url: str) -> ArchivedMonth:
    """Archive the month the fixture's entries were recorded in, as if it were over (``today``: next month)."""
    month = month_start(datetime.now(PARTITION_ZONE))
    return archive_month(get_engine(url), month, today=add_months(month, 1))


def test_an_archived_month_verifies_and_the_live_chain_continues_from_its_head(stored: str) -> None:
    engine = get_engine(stored)
    with session_scope(engine) as session:
        before = head(session)
    archived = _archive_this_month(stored)
    assert (archived.first_seq, archived.last_seq, archived.entries) == (1, before.size, before.size)
    assert archived.head_hash == before.head_hash
    with session_scope(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM audit_entry")) == 0
        assert head(session) == before  # every entry archived: the head is the archive's
    # The chain continues from the archived head (the live log was empty).
    with session_scope(engine) as session:
        record_sample(session, _rows(1, start=2000)[0][1])
    with session_scope(engine) as session:
        after = head(session)
        first_live = session.execute(
            text("SELECT seq, prev_hash FROM audit_entry ORDER BY seq LIMIT 1")
        ).one()
    assert after.size > before.size and after.origin == before.origin
    assert (first_live[0], bytes(first_live[1])) == (before.size + 1, before.head_hash)
    result = verify_log(engine, before)
    assert result.findings == [] and result.entries == after.size and result.head_hash == after.head_hash
    assert result.rows["origin_verdict"] >= 302  # rows recorded in the archive are still checked
    assert verify_archive(engine, archived.month).findings == []
    cli = gi(stored, "audit", "verify")
    assert cli.returncode == 0 and "audit log verified" in cli.stdout
    cli = gi(stored, "audit", "verify", "--archived", f"{archived.month:%Y-%m}")
    assert cli.returncode == 0 and f"{before.size:,} entries" in cli.stdout
    bad = gi(stored, "audit", "verify", "--archived", "2026-13")
    assert bad.returncode != 0 and "--archived" in bad.stderr and "Traceback" not in bad.stderr
    with pytest.raises(InputError, match="already archived"):
        _archive_this_month(stored)
    current = gi(stored, "audit", "archive", f"{archived.month:%Y-%m}")
    assert (
        current.returncode == 1
        and current.stderr.startswith("error: month: ")
        and "not over yet" in current.stderr
    )
    # The archive refuses changes like the log.
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text(f"UPDATE {archived.table_name} SET note = 'forged' WHERE seq = 1"))
    assert "refused" in str(refused.value)


def test_tampering_with_the_live_chain_or_an_archive_is_caught(stored: str) -> None:
    engine = get_engine(stored)
    archived = _archive_this_month(stored)
    with session_scope(engine) as session:
        record_sample(session, _rows(1, start=3000)[0][1])
    with session_scope(engine) as session:
        live = session.scalar(text("SELECT min(seq) FROM audit_entry"))
    _as_superuser(stored, f"UPDATE audit_entry SET actor = 'mallory' WHERE seq = {live}")
    problems = [f.text() for f in verify_log(engine).findings]
    assert f"entry {live}: its hash does not match its contents: the entry was altered" in problems
    cli = gi(stored, "audit", "verify")
    assert cli.returncode == 5
    # An archived entry altered: the archive's own verification recomputes it.
    _as_superuser(stored, f"UPDATE {archived.table_name} SET actor = 'mallory' WHERE seq = 2")
    found = [f.text() for f in verify_archive(engine, archived.month).findings]
    assert "entry 2: its hash does not match its contents: the entry was altered" in found
    assert gi(stored, "audit", "verify", "--archived", f"{archived.month:%Y-%m}").returncode == 5
