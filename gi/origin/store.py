"""How samples and their origin verdicts are written and read back: columns, encodings and statements.

One sample is inserted with one statement (:func:`insert_sample`); a batch is copied into a temporary staging table
and moved with one ``INSERT ... ON CONFLICT (id) DO NOTHING`` in UUID order (:func:`store_staged`), so that
concurrent batches over the same rows neither fail nor deadlock: a row stored by another run is skipped and then
compared with what was submitted (:func:`stored_samples`). A chunk none of whose UUIDs is stored and without seal
codes, the usual one, is moved by plain inserts inside a savepoint instead, falling back to that statement when a
concurrent run stored some meanwhile (:func:`_store_new`). Both paths encode every column with the same functions.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import shapely
from numpy.typing import NDArray
from pydantic_core import to_json
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gi.db import psycopg_connection
from gi.db.partitions import PARTITION_ZONE
from gi.errors import ConflictError
from gi.models.samples import Sample
from gi.origin.fields import SampleContent
from gi.origin.rule import OriginVerdict
from gi.reads.verdicts import CURRENT_ORIGIN_JOIN

SAMPLE_COLUMNS = (
    "id",
    "product_id",
    "producer_id",
    "task_id",
    "collected_at",
    "submitted_x",
    "submitted_y",
    "declared_crs",
    "gps_accuracy_m",
    "location_source",
    "location",
    "lot_number",
    "lot_size",
    "seal_code",
    "collector_id",
    "source",
    "notes",
    "labelled_producer",
    "labelled_address",
    "sampled_at",
    "outlet_name",
    "outlet_address",
    "specification",
    "production_date",
)
# A verdict's own columns (its subject and product come from the sample).
VERDICT_COLUMNS = (
    "area_id",
    "area_version",
    "verdict",
    "distance_m",
    "band_m",
    "flags",
    "other_areas",
    "rule",
    "inputs",
)


def verdict_json(value: Any) -> str:
    """JSON text of a verdict's inputs or other areas (NaN and infinities, which JSON lacks, as null)."""
    return to_json(value, inf_nan_mode="null").decode()


def location_hex(verdict: OriginVerdict) -> str:
    """The stored location of a sample: its checked WGS84 point, as hex EWKB (bit for bit the checked doubles)."""
    return hex_ewkb_points(np.array([verdict.lon]), np.array([verdict.lat]))[0]


def sample_values(content: SampleContent, verdict: OriginVerdict) -> dict[str, Any]:
    """The stored columns of a sample, as statement parameters."""
    values = {name: getattr(content, name) for name in SAMPLE_COLUMNS if name != "location"}
    values["location_source"] = content.location_source.value
    values["sampled_at"] = content.sampled_at.value if content.sampled_at else None
    values["location"] = location_hex(verdict)
    return values


def verdict_values(verdict: OriginVerdict) -> dict[str, Any]:
    """The stored columns of a verdict, as statement parameters."""
    return {
        "area_id": verdict.area_id,
        "area_version": verdict.area_version,
        "verdict": verdict.verdict.value,
        "distance_m": verdict.distance_m,
        "band_m": verdict.band_m,
        "flags": list(verdict.flags),
        "other_areas": verdict_json(list(verdict.other_areas)),
        "rule": verdict.rule,
        "inputs": verdict_json(verdict.inputs),
    }


# One UUID is one sample: the conflict is decided on sample_identity (sample is partitioned by collection month,
# so its own key is (id, collected_at)); the sample and its verdict are written only when the identity was new.
_INSERT_ONE = text(
    "WITH identity AS (INSERT INTO sample_identity (id, collected_at) VALUES (:id, :collected_at) "
    "ON CONFLICT (id) DO NOTHING RETURNING id), "
    "stored AS (INSERT INTO sample ("
    + ", ".join(SAMPLE_COLUMNS)
    + ") SELECT "
    + ", ".join(
        "CAST(:location AS geometry)"
        if c == "location"
        else "CAST(:location_source AS location_source)"
        if c == "location_source"
        else "CAST(:sampled_at AS sampled_at)"
        if c == "sampled_at"
        else f":{c}"
        for c in SAMPLE_COLUMNS
    )
    + " FROM identity RETURNING id, product_id, collected_at) "
    "INSERT INTO origin_verdict (sample_id, collected_at, product_id, "
    + ", ".join(VERDICT_COLUMNS)
    + ") SELECT stored.id, stored.collected_at, stored.product_id, :area_id, :area_version, CAST(:verdict AS origin_outcome), "
    ":distance_m, :band_m, CAST(:flags AS varchar(40)[]), CAST(:other_areas AS jsonb), :rule, "
    "CAST(:inputs AS jsonb) FROM stored RETURNING id"
)


def insert_sample(db: Session | Connection, content: SampleContent, verdict: OriginVerdict) -> int | None:
    """Insert one sample and its verdict; the verdict's id, or None when the UUID is already stored."""
    params = {**sample_values(content, verdict), **verdict_values(verdict)}
    return db.execute(_INSERT_ONE, params).scalar()


# --------------------------------------------------------------------------------------------- reading back


class StoredSample(NamedTuple):
    """A stored sample's compared columns (see :data:`gi.origin.fields.CONFLICT_FIELDS`) and its current verdict."""

    columns: Mapping[str, Any]
    verdict: OriginVerdict | None
    verdict_id: int | None


# The UUIDs go in binary (``%(ids)b``): psycopg writes 20,000 of them as text in about 29 ms, in binary in about
# 5 ms, and the server parses them faster too (a 20,000-UUID round trip 46 -> 7 ms), on the database thread's
# critical path once per chunk.
# Each UUID is found by index probes, whatever the statistics say: its identity (sample_identity's key gives its
# collection moment), then its sample in the one partition that moment names (the runtime pruning of a
# parameter), then its current verdict there. Joined as sets instead, the planner hashed or merged whole
# partitions for a chunk of 20,000 UUIDs, and a plan made while a partition was empty scanned it once per UUID.
_STORED_SQL = (
    "SELECT s.id, s.product_id, s.producer_id, s.task_id, s.collected_at, s.submitted_x, s.submitted_y, "
    "s.declared_crs, s.gps_accuracy_m, s.location_source::text AS location_source, s.lot_number, s.lot_size, "
    "s.seal_code, s.collector_id, s.notes, s.labelled_producer, s.labelled_address, "
    "s.sampled_at::text AS sampled_at, s.outlet_name, s.outlet_address, s.specification, s.production_date, "
    "v.id AS verdict_id, v.product_id AS verdict_product_id, v.area_id, v.area_version, "
    "v.verdict::text AS verdict, v.distance_m, v.band_m, v.flags, v.other_areas, v.rule, v.inputs "
    "FROM unnest(CAST(%(ids)b AS uuid[])) AS u(id) "
    "JOIN LATERAL (SELECT i.collected_at FROM sample_identity i WHERE i.id = u.id LIMIT 1) i ON true "
    "JOIN LATERAL (SELECT y.* FROM sample y WHERE y.id = u.id AND y.collected_at = i.collected_at LIMIT 1) s "
    "ON true " + CURRENT_ORIGIN_JOIN
    # The current verdict, as every reader defines it (gi.reads.verdicts).
)

# The settings a look-up runs under, transaction-local and given back afterwards (:func:`run_lookup`). JIT off:
# compiling the statement cost more than running it (0.5-1 s of the server's CPU per chunk). No sequential scans,
# hash, merge or bitmap joins: the plan is the probes above, each by the index that leads with the key it knows.
# The statistics of a partition just filled are missing or stale (autovacuum comes later), and the planner then
# guessed that every verdict's collection moment was rare: it combined the sample_id index with the (id,
# collected_at) key's index in a bitmap, or scanned the (supersedes_id, collected_at) key's index for the moment,
# reading every verdict of that moment for each UUID (a file whose rows give only the date: all of them). 10,000
# stored UUIDs: 2.3-12 s, now 0.12 s of the server's time (benchmarks/lookup.py). A custom plan each time:
# psycopg prepares a statement on its fifth run, and PostgreSQL may then keep a generic plan made while the
# tables were empty.
LOOKUP_SETTINGS = {
    "jit": "off",
    "enable_seqscan": "off",
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "enable_bitmapscan": "off",
    "plan_cache_mode": "force_custom_plan",
}
_READ_SETTINGS = "SELECT " + ", ".join(f"current_setting('{name}')" for name in LOOKUP_SETTINGS)
_SET_SETTINGS = "SELECT " + ", ".join(f"set_config('{name}', %s, true)" for name in LOOKUP_SETTINGS)


def run_lookup(raw: Any, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows (as dicts) of a look-up statement run under :data:`LOOKUP_SETTINGS` on a raw psycopg connection,
    the connection's own settings given back afterwards."""
    from psycopg.rows import dict_row

    with contextlib.ExitStack() as stack:
        if raw.autocommit:  # transaction-local settings need a transaction
            stack.enter_context(raw.transaction())
        with raw.cursor() as cur:
            before = cur.execute(_READ_SETTINGS).fetchone()
            cur.execute(_SET_SETTINGS, tuple(LOOKUP_SETTINGS.values()))
        with raw.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(sql, params).fetchall()
        with raw.cursor() as cur:
            cur.execute(_SET_SETTINGS, tuple(before))
    return rows


def _raw(db: Session | Connection | Any) -> Any:
    """The raw psycopg connection of a session (flushed first: its pending rows must be seen), a connection or
    a raw connection."""
    if isinstance(db, Session):
        db.flush()
        return psycopg_connection(db.connection())
    if isinstance(db, Connection):
        return psycopg_connection(db)
    return db


def stored_samples(db: Session | Connection | Any, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StoredSample]:
    """The stored samples among ``ids``, with their current verdicts (``db``: a session, a connection or a raw
    psycopg connection)."""
    if not ids:
        return {}
    raw = _raw(db)
    rows = run_lookup(raw, _STORED_SQL, {"ids": list(ids)})
    # The set once: built inside the comprehension's condition it was rebuilt per id, quadratic in a chunk whose
    # rows are all stored (a re-run of a file: 20,000 x 20,000).
    found_ids = {row["id"] for row in rows}
    missing = [i for i in ids if i not in found_ids]
    if missing:
        _refuse_archived(raw, missing)
    found = {}
    for row in rows:
        verdict = None
        if row["verdict_id"] is not None:
            verdict = OriginVerdict.from_record(
                {**row, "product_id": row["verdict_product_id"]},
            )
        found[row["id"]] = StoredSample(dict(row), verdict, row["verdict_id"])
    return found


# A sample whose identity is stored but whose month `gi db archive` detached: it cannot be compared or stored again.
_ARCHIVED_SQL = (
    "SELECT i.id, a.month FROM sample_identity i JOIN data_archive a ON a.parent = 'sample' "
    f"AND a.month = (date_trunc('month', i.collected_at AT TIME ZONE '{PARTITION_ZONE.key}'))::date "
    "WHERE i.id = ANY (CAST(%(ids)b AS uuid[])) ORDER BY i.id LIMIT 1"
)
_ANY_ARCHIVED_SQL = "SELECT EXISTS (SELECT 1 FROM data_archive WHERE parent = 'sample')"


def _refuse_archived(raw: Any, ids: Sequence[uuid.UUID]) -> None:
    """Refuse a submission of a sample stored in an archived month (not reported as newly stored, nor lost)."""
    with raw.cursor() as cur:
        # Most databases have no archived month: one probe of a small table (0.13 ms) then spares matching every
        # new UUID against the identities (14.5 ms per chunk of 20,000 with none stored yet, more as they grow).
        if not cur.execute(_ANY_ARCHIVED_SQL).fetchone()[0]:
            return
        row = cur.execute(_ARCHIVED_SQL, {"ids": list(ids)}).fetchone()
    if row is not None:
        raise ConflictError(
            f"id: sample {row[0]} is stored in {row[1]:%Y-%m}, an archived month (gi db archive): it cannot be "
            "submitted again",
            field="id",
        )


def identity_without_sample(sample_id: uuid.UUID) -> str:
    """The problem of a submission whose UUID has its identity stored but no sample row (nothing is stored)."""
    return (
        f"sample {sample_id} has its identity stored but no sample row (its month archived, or the row "
        "removed): nothing was stored"
    )


# --------------------------------------------------------------------------------------------- the batch

STAGE = "gi_intake_stage"
STAGE_DDL = (
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ("
    "id uuid, product_id integer, producer_id integer, task_id integer, collected_at timestamptz, "
    "submitted_x double precision, submitted_y double precision, declared_crs varchar(40), "
    "gps_accuracy_m double precision, location_source location_source, location geometry(Point, 4326), "
    "lot_number varchar(100), lot_size integer, seal_code varchar(400), collector_id integer, source text, notes text, "
    "labelled_producer varchar(200), labelled_address text, sampled_at sampled_at, outlet_name varchar(200), "
    "outlet_address text, specification varchar(100), production_date date, "
    "area_id integer, area_version integer, verdict origin_outcome, distance_m double precision, "
    "band_m double precision, flags varchar(40)[], other_areas jsonb, rule text, inputs jsonb"
    ") ON COMMIT DELETE ROWS"
)
STAGED_COLUMNS = SAMPLE_COLUMNS + VERDICT_COLUMNS
STAGE_COPY = f"COPY {STAGE} ({', '.join(STAGED_COLUMNS)}) FROM STDIN"
# Sample columns a chunk may leave out of its COPY when no row has a value in them: the staging table's columns
# have no default, so a column left out is NULL in every row, exactly as copying \\N for each would make it. They
# are the sample table's nullable columns without a default (read from the model, so a new optional column joins).
OPTIONAL_COLUMNS = frozenset(
    c.name
    for c in Sample.__table__.columns
    if c.nullable and c.default is None and c.server_default is None and c.name in SAMPLE_COLUMNS
)
# One statement moves the staged rows: identities (the conflict on a stored UUID is decided there) and samples in
# UUID order (a fixed order, so that two runs over the same rows
# wait for each other instead of deadlocking), the verdicts of the samples it inserted, the claims of the seal
# codes (封样编号) those samples carry (see gi.field.seals; the rows were checked against the codes as read, and
# "sample_id IS NULL" keeps a code claimed meanwhile by another upload, which the counts then reveal), and the
# UUIDs it skipped because they were already stored (by an earlier run, or by a concurrent one that committed).
STORE_STAGED = (
    f"WITH identity AS (INSERT INTO sample_identity (id, collected_at) SELECT id, collected_at FROM {STAGE} "
    "ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id), "
    f"stored AS (INSERT INTO sample ({', '.join(SAMPLE_COLUMNS)}) "
    f"SELECT {', '.join('s.' + c for c in SAMPLE_COLUMNS)} FROM {STAGE} s JOIN identity USING (id) ORDER BY s.id "
    "RETURNING id), "
    f"verdicts AS (INSERT INTO origin_verdict (sample_id, collected_at, product_id, {', '.join(VERDICT_COLUMNS)}) "
    f"SELECT s.id, s.collected_at, s.product_id, {', '.join('s.' + c for c in VERDICT_COLUMNS)} FROM {STAGE} s "
    "JOIN stored USING (id) ORDER BY s.id RETURNING id), "
    f"wanted AS (SELECT s.id, unnest(string_to_array(s.seal_code, ', ')) AS code FROM {STAGE} s "
    "JOIN stored USING (id) WHERE s.seal_code LIKE 'GI-%'), "
    "claims AS (UPDATE seal_code c SET sample_id = w.id, used_at = now() FROM wanted w "
    "WHERE c.code = w.code AND c.sample_id IS NULL RETURNING c.code) "
    f"SELECT (SELECT count(*) FROM verdicts) AS verdicts, "
    f"ARRAY(SELECT id FROM {STAGE} EXCEPT SELECT id FROM stored) AS skipped, "
    "ARRAY(SELECT code FROM wanted EXCEPT SELECT code FROM claims) AS unclaimed"
)

# The usual chunk: none of its UUIDs is stored (the look-up set the stored ones aside) and no sample carries a seal
# code. Its identities are inserted first, alone, in UUID order (so a concurrent run over the same rows waits, as
# with STORE_STAGED); when every one was new, the samples and verdicts are plain inserts of the staged rows, without
# STORE_STAGED's joins, sorts and set differences (about 0.06 s of the server's CPU per 20,000 rows, 6%;
# benchmarks/origin.py (c) 2026-12-05). Otherwise (a concurrent run stored some meanwhile, or an identity without
# its sample) the savepoint undoes them and STORE_STAGED moves the chunk, skipping and reporting those.
_NEW_SAVEPOINT = "gi_store_new"
INSERT_NEW_IDENTITIES = (
    f"INSERT INTO sample_identity (id, collected_at) SELECT id, collected_at FROM {STAGE} ORDER BY id "
    "ON CONFLICT (id) DO NOTHING"
)
INSERT_NEW_SAMPLES = f"INSERT INTO sample ({', '.join(SAMPLE_COLUMNS)}) SELECT {', '.join(SAMPLE_COLUMNS)} FROM {STAGE} ORDER BY id"
INSERT_NEW_VERDICTS = (
    f"INSERT INTO origin_verdict (sample_id, collected_at, product_id, {', '.join(VERDICT_COLUMNS)}) "
    f"SELECT id, collected_at, product_id, {', '.join(VERDICT_COLUMNS)} FROM {STAGE} ORDER BY id"
)


def _store_new(cur: Any, staged_rows: int) -> bool:
    """Store a staged chunk none of whose UUIDs is stored, inside a savepoint; False (nothing of it kept) when
    some identity was stored already, so that :data:`STORE_STAGED` moves it instead."""
    cur.execute(f"SAVEPOINT {_NEW_SAVEPOINT}")
    cur.execute(INSERT_NEW_IDENTITIES)
    if cur.rowcount != staged_rows:
        cur.execute(f"ROLLBACK TO SAVEPOINT {_NEW_SAVEPOINT}")
        cur.execute(f"RELEASE SAVEPOINT {_NEW_SAVEPOINT}")
        return False
    cur.execute(INSERT_NEW_SAMPLES)
    cur.execute(INSERT_NEW_VERDICTS)
    cur.execute(f"RELEASE SAVEPOINT {_NEW_SAVEPOINT}")
    return True


class StagedChunk(NamedTuple):
    """A chunk's COPY text, in blocks, in the staged columns ``columns`` (the others are NULL in every row)."""

    columns: tuple[str, ...]
    blocks: Sequence[str]


# A batch's statements run without JIT whatever the caller's connection says (the application's sessions have
# it off already, gi.db.SESSION_OPTIONS): planned for a chunk of 20,000 rows, the move and the UUID look-up pass
# jit_above_cost, and compiling them (inlining and optimizing 40-70 functions) took 0.5-1 s of the server's CPU
# per chunk, more than the look-up's own work (benchmarks/origin.py (c)). Transaction-local, put back afterwards.
_JIT_SETTING = "SELECT current_setting('jit')"


def _jit_off(cur: Any) -> str:
    """Turn JIT off for the rest of the transaction; the setting it had, for :func:`_jit_back`."""
    row = cur.execute(_JIT_SETTING).fetchone()
    before = str(row[0] if isinstance(row, tuple) else next(iter(row.values())))
    if before != "off":
        cur.execute("SELECT set_config('jit', 'off', true)")
    return before


def _jit_back(cur: Any, before: str) -> None:
    """Give JIT back the setting :func:`_jit_off` found (only after success: a failure rolls it back anyway)."""
    if before != "off":
        cur.execute("SELECT set_config('jit', %s, true)", (before,))


# The statement writes the identities of its samples itself (its conflict is decided on them), so for its rows
# the identity trigger would only find them written: it skips it while this transaction-local setting is on
# (migration 0023_intake). The setting is cleared right after, so every other writer gets the trigger as before.
_IDENTITIES_WRITTEN = "SELECT set_config('gi.sample_identity_written', 'on', true)"
_IDENTITIES_CLEARED = "SELECT set_config('gi.sample_identity_written', '', true)"


def store_staged(raw: Any, staged: StagedChunk | str | Sequence[str]) -> list[uuid.UUID]:
    """Copy a chunk (its COPY text in every staged column, that text in blocks, or a :class:`StagedChunk`) into
    the staging table and move it (raw psycopg connection); the UUIDs skipped as stored."""
    if isinstance(staged, StagedChunk):
        copy_sql = STAGE_COPY if staged.columns == STAGED_COLUMNS else _stage_copy(staged.columns)
        blocks: Sequence[str] = staged.blocks
        seals = "seal_code" in staged.columns
    else:
        copy_sql, blocks = STAGE_COPY, [staged] if isinstance(staged, str) else staged
        seals = True
    with raw.cursor() as cur:
        cur.execute(STAGE_DDL)
        cur.execute(f"TRUNCATE {STAGE}")
        with cur.copy(copy_sql) as copy:
            for block in blocks:
                copy.write(block)
        staged_rows = cur.rowcount
        cur.execute(_IDENTITIES_WRITTEN)
        jit = _jit_off(cur)
        if not seals and staged_rows > 0 and _store_new(cur, staged_rows):
            row: Any = (staged_rows, [], [])
        else:
            row = cur.execute(STORE_STAGED).fetchone()
        _jit_back(cur, jit)
        cur.execute(_IDENTITIES_CLEARED)
    if row[2]:
        # Another upload claimed these codes after this chunk was checked: refuse the chunk (nothing of it is
        # committed); a re-run reports the rows that carry them.
        raise ConflictError(
            f"seal_code: {', '.join(sorted(row[2]))} claimed by another upload meanwhile; nothing of this "
            "chunk was stored, a re-run is safe",
            field="seal_code",
        )
    return list(row[1])


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _text(value: Any) -> str:
    """One field of COPY's text format (NULL is \\N)."""
    if value is None:
        return _NULL
    if isinstance(value, float):
        return repr(value)  # shortest exact round trip
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _fields(values: Iterable[Any], render: Callable[[Any], str] = _text) -> list[str]:
    """Values (or None) as COPY fields; repeated values (ids, systems, lot numbers, moments) are rendered once."""
    cache: dict[Any, str] = {None: _NULL}
    out = []
    for v in values:
        field_text = cache.get(v)
        if field_text is None:
            field_text = cache[v] = render(v)
        out.append(field_text)
    return out


def _floats(values: Iterable[float | None]) -> list[str]:
    """Floats (or None) as COPY fields: the shortest text that reads back as the same double."""
    return [_NULL if v is None else repr(v) for v in values]


def _json_field(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if "\\" in value else value  # JSON text has no raw tab or newline


def _array(items: Sequence[str]) -> str:
    # Flags are lower-case identifiers: no quoting needed inside the array literal.
    return "{" + ",".join(items) + "}"


def _texts(values: Sequence[str | None]) -> list[str]:
    """Texts (or None) as COPY fields: escaped one by one only when one of them has a character to escape."""
    try:
        joined = "".join([v for v in values if v is not None])
    except TypeError:  # not all texts: each rendered as _text renders it
        return _fields(values)
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        return _fields(values)
    return [_NULL if v is None else v for v in values]


def _uuids(values: Sequence[uuid.UUID]) -> list[str]:
    return [str(v) for v in values]


def _labels(values: Sequence[Any]) -> list[str]:
    """Enum members (or None) as COPY fields of their stored labels."""
    return _fields(v.value if v else None for v in values)


def _reprs(values: Sequence[float]) -> list[str]:
    return [repr(v) for v in values]


# How each staged sample column is written, from that column's values in a block.
_SAMPLE_FIELDS: dict[str, Callable[[Sequence[Any]], list[str]]] = {
    "id": _uuids,
    "product_id": _fields,
    "producer_id": _fields,
    "task_id": _fields,
    "collected_at": _fields,
    "submitted_x": _reprs,
    "submitted_y": _reprs,
    "declared_crs": _fields,
    "gps_accuracy_m": _floats,
    "location_source": _labels,
    "lot_number": _texts,
    "lot_size": _fields,
    "seal_code": _texts,
    "collector_id": _fields,
    "source": _texts,
    "notes": _texts,
    "labelled_producer": _texts,
    "labelled_address": _texts,
    "sampled_at": _labels,
    "outlet_name": _texts,
    "outlet_address": _texts,
    "specification": _texts,
    "production_date": _fields,
}


# Each optional column's position in a SampleContent, to read that one field of every sample in one C-level pass.
_OPTIONAL_FIELD = {name: itemgetter(SampleContent._fields.index(name)) for name in OPTIONAL_COLUMNS}


def staged_columns(contents: Sequence[SampleContent]) -> tuple[str, ...]:
    """The columns to stage for a chunk: every column, but the optional ones in which no sample has a value."""
    if not contents:
        return STAGED_COLUMNS
    n = len(contents)
    # Only the optional fields are read (transposing every field of a 20,000-row chunk cost about 50 ms).
    return tuple(
        c
        for c in STAGED_COLUMNS
        if c not in OPTIONAL_COLUMNS or list(map(_OPTIONAL_FIELD[c], contents)).count(None) != n
    )


@cache
def _stage_copy(columns: tuple[str, ...]) -> str:
    return f"COPY {STAGE} ({', '.join(columns)}) FROM STDIN"


def stage_text(
    contents: Sequence[SampleContent],
    verdicts: Sequence[OriginVerdict],
    columns: Sequence[str] = STAGED_COLUMNS,
) -> str:
    """COPY text of samples and their verdicts in ``columns`` (of :data:`STAGED_COLUMNS`, in its order), built
    column by column (the values :func:`sample_values` and :func:`verdict_values` give one sample)."""
    if not contents:
        return ""
    # The block's values column by column, in one pass over the samples.
    by_field = dict(zip(SampleContent._fields, zip(*contents, strict=True), strict=True))
    verdict_fields = {
        "area_id": lambda: _fields(v.area_id for v in verdicts),
        "area_version": lambda: _fields(v.area_version for v in verdicts),
        "verdict": lambda: [v.verdict.value for v in verdicts],
        "distance_m": lambda: _floats(v.distance_m for v in verdicts),
        "band_m": lambda: [repr(v.band_m) for v in verdicts],
        "flags": lambda: _fields((v.flags for v in verdicts), _array),
        "other_areas": lambda: _other_areas(verdicts),
        "rule": lambda: _fields(v.rule for v in verdicts),
        "inputs": lambda: [_json_field(verdict_json(v.inputs)) for v in verdicts],
    }
    out: list[list[str]] = []
    for name in columns:
        if name == "location":
            out.append(
                hex_ewkb_points(np.array([v.lon for v in verdicts]), np.array([v.lat for v in verdicts]))
            )
        elif name in _SAMPLE_FIELDS:
            out.append(_SAMPLE_FIELDS[name](by_field[name]))
        else:
            out.append(verdict_fields[name]())
    return "\n".join(map("\t".join, zip(*out, strict=True))) + "\n"


# Rows of COPY text built at a time: one text for a whole chunk would hold its rows' fields three times over.
STAGE_BLOCK = 2_000


def stage_chunk(contents: Sequence[SampleContent], verdicts: Sequence[OriginVerdict]) -> StagedChunk:
    """A chunk of samples and their verdicts as :func:`store_staged` takes it: one column list for the chunk's
    one COPY, its text built in blocks of :data:`STAGE_BLOCK` rows."""
    columns = staged_columns(contents)
    blocks = [
        stage_text(contents[k : k + STAGE_BLOCK], verdicts[k : k + STAGE_BLOCK], columns)
        for k in range(0, len(contents), STAGE_BLOCK)
    ]
    return StagedChunk(columns, blocks)


def _other_areas(verdicts: Sequence[OriginVerdict]) -> list[str]:
    """The other areas' JSON of each verdict (verdicts in the same other areas share one tuple: encoded once)."""
    others: dict[int, tuple[tuple[dict[str, Any], ...], str]] = {}
    texts = []
    for v in verdicts:
        if not v.other_areas:
            texts.append("[]")
            continue
        # Verdicts in the same other areas share one tuple (see gi.origin.rule._judge): encoded once.
        done = others.get(id(v.other_areas))
        if done is None or done[0] is not v.other_areas:
            done = others[id(v.other_areas)] = (v.other_areas, _json_field(verdict_json(list(v.other_areas))))
        texts.append(done[1])
    return texts


_EWKB_POINT_4326 = np.frombuffer(bytes.fromhex("0101000020E6100000"), np.uint8)  # little endian, SRID 4326


def hex_ewkb_points(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> list[str]:
    """Hex EWKB of SRID-4326 points, as ``shapely.to_wkb(..., hex=True, include_srid=True)`` writes it.

    Hex EWKB carries the binary doubles: the stored point is bit for bit the one that was checked.
    """
    n = len(lon)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        points = shapely.set_srid(shapely.points(lon, lat), 4326)
        hexes: list[str] = shapely.to_wkb(points, hex=True, include_srid=True).tolist()
        return hexes
    record = np.empty((n, 25), np.uint8)
    record[:, :9] = _EWKB_POINT_4326
    record[:, 9:17] = np.ascontiguousarray(lon, dtype="<f8").view(np.uint8).reshape(n, 8)
    record[:, 17:] = np.ascontiguousarray(lat, dtype="<f8").view(np.uint8).reshape(n, 8)
    text_ = record.tobytes().hex().upper()
    return [text_[i : i + 50] for i in range(0, 50 * n, 50)]
