"""Many samples at once: the same validation, identity, check and sameness as one sample, in a pipeline.

:func:`record_samples` stores rows in the caller's transaction (the demo, an API bulk call, tests).
:class:`Pipeline` is the machinery, also used by :mod:`gi.origin.files`, which commits chunk by chunk.

Rows go through in chunks. While the database stores one chunk (a worker thread alone uses the connection
meanwhile), the next chunk is validated and checked. Every row gets exactly what :func:`gi.origin.intake.record_sample`
would give it: both validate with :func:`gi.origin.fields.validate_row`, resolve and identify with
:func:`gi.origin.references.prepare_sample`, compare with :func:`gi.origin.fields.differences` and judge with the
rule of :mod:`gi.origin.rule`; only the transport differs (COPY into a staging table, then one ordered
``INSERT ... ON CONFLICT``; see :mod:`gi.origin.store`).
"""

from __future__ import annotations

import ctypes
import gc
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gi.errors import ConflictError, InputError
from gi.origin.fields import SampleContent, conflict_message, differences, validate_row
from gi.origin.index import AreaIndex, area_index, area_tokens
from gi.origin.references import References, claims_of, prepare_sample
from gi.origin.rows import prepare_rows
from gi.origin.rule import OriginVerdict, check_claims
from gi.origin.store import (
    StagedChunk,
    StoredSample,
    identity_without_sample,
    stage_chunk,
    store_staged,
    stored_samples,
)
from gi.register.areas import SHARED_AREA_LOCK_SQL, hold_area_versions
from gi.settings import Settings, get_settings


class RowStatus(StrEnum):
    """What became of an input row."""

    STORED = "stored"
    ALREADY_STORED = "already stored"  # its UUID was stored before with the same content
    REFUSED = "refused"  # a field is wrong: nothing stored
    CONFLICT = "conflict"  # its UUID is stored with other content: nothing stored


@dataclass
class BatchRow:
    """The outcome of one input row, with the verdict stored for it (now, or before for an already stored row)."""

    row: int
    status: RowStatus
    sample_id: uuid.UUID | None = None
    product_code: str | None = None
    verdict: OriginVerdict | None = None
    field: str | None = None
    problem: str | None = None


@dataclass
class IntakeSummary:
    """Counts of a batch or a file: rows by outcome, verdicts by product, flags, and the first problems."""

    stored: int = 0
    already_stored: int = 0
    refused: int = 0
    conflicts: int = 0
    by_product: dict[str, Counter[str]] = field(default_factory=dict)
    flags: Counter[str] = field(default_factory=Counter)
    problems: list[BatchRow] = field(default_factory=list)
    keep_problems: int = 20
    names: dict[str, str] = field(default_factory=dict)  # product code -> Chinese name, for display

    def add(self, rows: Sequence[BatchRow]) -> None:
        """Count ``rows``."""
        for r in rows:
            if r.status is RowStatus.STORED:
                self.stored += 1
            elif r.status is RowStatus.ALREADY_STORED:
                self.already_stored += 1
            elif r.status is RowStatus.REFUSED:
                self.refused += 1
            else:
                self.conflicts += 1
            if r.verdict is not None:
                self.by_product.setdefault(r.product_code or "?", Counter())[r.verdict.verdict.value] += 1
                self.flags.update(r.verdict.flags)
            elif len(self.problems) < self.keep_problems:
                self.problems.append(r)

    @property
    def verdicts(self) -> Counter[str]:
        """Verdicts of every product together (stored now or before), by outcome."""
        total: Counter[str] = Counter()
        for counts in self.by_product.values():
            total.update(counts)
        return total

    @property
    def rows(self) -> int:
        """Rows counted."""
        return self.stored + self.already_stored + self.refused + self.conflicts

    @property
    def complete(self) -> bool:
        """True when every row is stored or was stored before (nothing refused, no conflict)."""
        return self.refused == 0 and self.conflicts == 0


@dataclass
class BatchResult:
    """Everything a batch did, row by row (and, for diagnostics, seconds spent per stage)."""

    rows: list[BatchRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # product code -> Chinese name, for display

    def _having(self, status: RowStatus) -> list[BatchRow]:
        return [r for r in self.rows if r.status is status]

    @property
    def stored(self) -> list[BatchRow]:
        """Rows stored now."""
        return self._having(RowStatus.STORED)

    @property
    def duplicates(self) -> list[BatchRow]:
        """Rows whose UUID was already stored with the same content."""
        return self._having(RowStatus.ALREADY_STORED)

    @property
    def refused(self) -> list[BatchRow]:
        """Rows that could not become samples."""
        return self._having(RowStatus.REFUSED)

    @property
    def conflicts(self) -> list[BatchRow]:
        """Rows whose UUID is stored with other content."""
        return self._having(RowStatus.CONFLICT)

    def summary(self) -> IntakeSummary:
        """The counts of these rows."""
        summary = IntakeSummary(names=dict(self.names))
        summary.add(self.rows)
        return summary


Progress = Callable[[str, int, int], None]
Rows = Sequence[tuple[int, Mapping[str, Any]]]

# The first chunk is small, so that the database starts storing early while later chunks are checked.
FIRST_CHUNK = 4000
CHUNK = 20_000


def chunk_bounds(total: int, chunk: int = CHUNK) -> list[int]:
    """Limits of the pipeline's chunks: a small first one, full ones, then a tail halving down to the first's size.

    The database stores a chunk while the next one is checked; what it stores after the last check is time the batch
    waits for, so the last chunks are small.
    """
    small = min(FIRST_CHUNK, chunk)
    bounds = [0]
    while bounds[-1] < total:
        left = total - bounds[-1]
        step = small if len(bounds) == 1 else min(chunk, max(small, left // 2))
        if left - step < small // 2 and left <= chunk:
            step = left  # no sliver of a chunk at the end
        bounds.append(bounds[-1] + min(step, left))
    return bounds


def record_samples(
    session: Session,
    rows: Rows,
    source: str | None = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
    settings: Settings | None = None,
) -> BatchResult:
    """Validate, check and store many samples (row number, fields) in the caller's transaction.

    Bad rows are reported, never fatal. The area versions are held (shared) until the caller commits, so the
    verdicts stay those of the versions valid at each collection moment.
    """
    started = time.perf_counter()
    session.flush()
    hold_area_versions(session)
    result = BatchResult()
    pipeline = Pipeline(session, source=source, progress=progress, total=len(rows), settings=settings)
    result.timings = pipeline.timings
    try:
        bounds = chunk_bounds(len(rows), chunk)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            result.rows.extend(pipeline.feed(rows[lo:hi]))
        result.rows.extend(pipeline.finish())
    finally:
        pipeline.close()
    result.names = pipeline.product_names()
    result.rows.sort(key=lambda r: r.row)
    result.timings["total"] = time.perf_counter() - started
    return result


_STALE = object()


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return None
    return trim


# glibc's mallopt parameter: blocks of at least this many bytes get a mapping of their own.
_M_MMAP_THRESHOLD = -3
LARGE_BLOCK = 1 << 20


@cache
def map_large_blocks() -> bool:
    """From now on, serve heap blocks of 1 MB and more with mappings of their own, given back when freed (glibc).

    By default glibc raises that threshold (up to 32 MB) each time such a block is freed, after which a file's
    per-chunk arrays of a few MB come from the heap and, freed, mostly stay in the process: over a 1.4 M-row file
    the peak RSS was 1,031 MB, 995-1,004 MB with a fixed threshold (benchmarks/origin.py (d)).
    Done once per process (setting it also turns off glibc's adjustment); False where not glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not glibc
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK))


@contextmanager
def cycles_deferred() -> Iterator[None]:
    """Pause Python's cyclic garbage collector meanwhile (it was paused already: it stays so).

    A chunk's work allocates some million containers (rows' values, contents, verdicts and their inputs) that form
    no reference cycles and are freed by reference counting; each of the collector's full passes over the
    process's objects meanwhile found nothing and cost about 1 s of CPU per 100,000 rows (benchmarks/origin.py
    (c), 2026-12-05). Cycles made meanwhile are collected once it runs again.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def release_freed_memory() -> None:
    """Give the heap memory freed so far back to the system.

    glibc keeps freed small blocks in its heaps for reuse, so without this a process's RSS stays at its highest
    point: the transient peaks of building the area index and each chunk's objects would add up to a footprint.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class SeenSamples:
    """The sample UUIDs of the rows taken so far, each with its first row number, to refuse repeats in a file.

    Kept as a few runs of arrays sorted by UUID (24 bytes a row; a dict of ints takes about 150): a file of a
    million and a half rows holds some 34 MB here. Each chunk is looked up in every run and added as a run of its
    own; runs of similar size merge up to ``MERGE_LIMIT`` rows, so a file's look-ups stay few while no merge
    copies more than a few MB. One sorted array grown by ``np.insert`` copied all of it at every chunk, which is
    quadratic in the file; (d)'s peak RSS was the same either way (1,007 MB), since those copies were returned.
    """

    MERGE_LIMIT = 1 << 18

    def __init__(self) -> None:
        # Each run: the UUIDs' first 8 bytes (sorted), their last 8 bytes, their first rows.
        self.runs: list[tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int64]]] = []

    def __len__(self) -> int:
        return sum(len(rows) for _, _, rows in self.runs)

    @staticmethod
    def _halves(ids: Sequence[uuid.UUID]) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
        both = np.frombuffer(b"".join(i.bytes for i in ids), dtype=">u8").reshape(-1, 2).astype(np.uint64)
        return both[:, 0], both[:, 1]

    def first_rows(self, ids: Sequence[uuid.UUID]) -> NDArray[np.int64]:
        """The first row of each UUID among those added, or -1."""
        found = np.full(len(ids), -1, np.int64)
        if not len(ids) or not self.runs:
            return found
        high, low = self._halves(ids)
        for run_high, run_low, run_rows in self.runs:
            lo = np.searchsorted(run_high, high, side="left")
            hi = np.searchsorted(run_high, high, side="right")
            one = (hi - lo == 1) & (run_low[np.minimum(lo, len(run_rows) - 1)] == low)
            found[one] = run_rows[lo[one]]
            # UUIDs sharing their first 8 bytes: compare the rest.
            for k in np.flatnonzero(hi - lo > 1).tolist():
                match = np.flatnonzero(run_low[lo[k] : hi[k]] == low[k])
                if len(match):
                    found[k] = run_rows[lo[k] + match[0]]
        return found

    def add(self, firsts: Mapping[uuid.UUID, int]) -> None:
        """Add UUIDs not added before, with their first rows."""
        if not firsts:
            return
        high, low = self._halves(list(firsts))
        rows = np.fromiter(firsts.values(), np.int64, len(firsts))
        order = np.argsort(high, kind="stable")
        self.runs.append((high[order], low[order], rows[order]))
        runs = self.runs
        # As a binary counter: the last two merge while the older is no longer, so each row is copied about
        # log2(MERGE_LIMIT / chunk) times in all.
        while len(runs) > 1 and len(runs[-2][2]) <= len(runs[-1][2]):
            if len(runs[-2][2]) + len(runs[-1][2]) > self.MERGE_LIMIT:
                break
            (h1, l1, r1), (h2, l2, r2) = runs.pop(), runs.pop()
            h, lw, r = np.concatenate([h2, h1]), np.concatenate([l2, l1]), np.concatenate([r2, r1])
            merged = np.argsort(h, kind="stable")
            runs.append((h[merged], lw[merged], r[merged]))


@dataclass
class _Chunk:
    """One chunk on its way through the pipeline."""

    rows: list[BatchRow]  # outcomes known so far (refused, already stored, conflicts)
    contents: list[SampleContent]  # rows to check and store, in input order
    numbers: list[int]  # their row numbers
    lookup: Future[Any] | None = None
    verdicts: list[OriginVerdict] = field(default_factory=list)
    index: AreaIndex | None = None
    store: Future[Any] | None = None


class Pipeline:
    """Validation, checks and storage of chunks, with a worker thread that alone uses the connection meanwhile.

    With ``commit`` (a function committing the connection's transaction), each chunk is committed on its own
    once stored: it takes the shared area lock, checks that the areas it was judged against are still the
    current versions (re-judging it otherwise) and commits. Without, everything stays in the caller's transaction.
    ``names`` maps the fields to the names the submitter knows them by (a file's column headers): refusals and
    conflicts are reported under those.
    """

    def __init__(
        self,
        db: Session | Connection,
        source: str | None = None,
        progress: Progress | None = None,
        total: int = 0,
        settings: Settings | None = None,
        commit: Callable[[], None] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.names: Mapping[str, str] = names or {}
        self.source = source
        self.progress = progress
        self.total = total
        self.settings = settings or get_settings()
        self.commit = commit
        if commit is not None:
            map_large_blocks()  # a file, chunk after chunk: its memory must not creep up with its length
        self.seen = SeenSamples()
        self.refs = References(db)
        self.index = area_index(db)
        connection = db.connection() if isinstance(db, Session) else db
        raw = connection.connection.driver_connection
        assert raw is not None  # an open connection
        self.raw: Any = raw
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="gi-batch-db")
        self.jobs: list[Future[Any]] = []
        self.broken: BaseException | None = None  # the first failure of a database job
        self.pending: _Chunk | None = None
        self.storing: list[_Chunk] = []
        self.validated = self.checked = self.stored = 0
        self.committed = 0  # samples stored and committed (when committing chunk by chunk)
        self.timings: dict[str, float] = {}
        for stage in ("validate", "check", "format", "wait", "database"):
            self.timings[stage] = 0.0
        self.refs.run = self.call

    # ------------------------------------------------------------------ the database worker

    def _failure(self) -> BaseException | None:
        """The first failed job (a later one may only have failed because the transaction was aborted)."""
        for job in self.jobs:
            if job.done() and not job.cancelled() and job.exception() is not None:
                return job.exception()
        return None

    def submit(self, job: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue database work; jobs run one after another, in order."""
        failure = self._failure()
        if failure is not None:
            raise failure
        self.jobs = [j for j in self.jobs if not j.done()]

        def timed() -> Any:
            if self.broken is not None:
                # Nothing runs after a failure: a later chunk must never be committed over a missing one.
                raise RuntimeError("skipped after an earlier failure") from self.broken
            t = time.perf_counter()
            try:
                return job(*args)
            except BaseException as exc:
                self.broken = exc
                raise
            finally:
                self.timings["database"] += time.perf_counter() - t

        future = self.pool.submit(timed)
        self.jobs.append(future)
        return future

    def call(self, job: Callable[[], Any]) -> Any:
        """Run database work (after what is queued) and wait for its result."""
        return self.wait(self.submit(job))

    def wait(self, future: Future[Any]) -> Any:
        """The result of a queued job (or the first failure of the jobs before it)."""
        t = time.perf_counter()
        try:
            return future.result()
        except Exception:
            failure = self._failure()
            if failure is not None:
                raise failure from None
            raise
        finally:
            self.timings["wait"] += time.perf_counter() - t

    def product_names(self) -> dict[str, str]:
        """The Chinese name of every product code looked up so far."""
        return {ref.code: ref.name_zh for ref in self.refs.products.values()}

    def named(self, name: str | None) -> str | None:
        """A field as the submitter knows it (see ``names``)."""
        return self.names.get(name, name) if name is not None else None

    def close(self) -> None:
        """Stop the worker (after its current job): the connection is the caller's again."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.refs.run = lambda query: query()

    # ------------------------------------------------------------------ the chunks

    def feed(self, rows: Rows, refused: Sequence[BatchRow] = ()) -> list[BatchRow]:
        """Take a chunk of rows (and rows refused before intake, reported with it); the outcomes of the chunks
        finished meanwhile (stored, and committed when committing), in order."""
        with cycles_deferred():
            chunk = self._validate(rows)
        chunk.rows.extend(refused)
        done = self._finished(block=False)
        if self.pending is not None:
            self._check_and_store(self.pending)
        self.pending = chunk
        return done

    def finish(self) -> list[BatchRow]:
        """Store what is left and wait for it; the outcomes of the chunks not returned yet."""
        if self.pending is not None:
            self._check_and_store(self.pending)
            self.pending = None
        return self._finished(block=True)

    def _validate(self, rows: Rows) -> _Chunk:
        """Validate and resolve rows; queue the look-up of their UUIDs among stored samples."""
        t = time.perf_counter()
        chunk = _Chunk([], [], [])
        refs, seen = self.refs, self.seen
        taken: list[tuple[int, SampleContent]] = []
        # Rows that type the same moment share one datetime object (the same text always validates to the same
        # value): the checks then work out its area versions and its text once per object, not once per row.
        moments: dict[str, Any] = {}
        # Most rows are validated and prepared column by column; the rest (refused ones included) one by one.
        fast = prepare_rows(refs, [data for _, data in rows], self.source, moments)
        for (number, data), prepared in zip(rows, fast, strict=True):
            if prepared is not None:
                taken.append((number, prepared))
                continue
            try:
                row = validate_row(data)
                typed = data.get("collected_at")
                if type(typed) is str:
                    row["collected_at"] = moments.setdefault(typed, row["collected_at"])
                content = prepare_sample(refs, row, self.source)
            except InputError as exc:
                chunk.rows.append(
                    BatchRow(number, RowStatus.REFUSED, field=self.named(exc.field), problem=exc.problem)
                )
                continue
            except ConflictError as exc:  # a seal code another sample carries
                chunk.rows.append(
                    BatchRow(number, RowStatus.CONFLICT, field=self.named(exc.field), problem=str(exc))
                )
                continue
            taken.append((number, content))
        # A repeat of an earlier row's sample (same UUID) is refused, naming that row.
        earlier = seen.first_rows([content.id for _, content in taken])
        firsts: dict[uuid.UUID, int] = {}
        for (number, content), before in zip(taken, earlier.tolist(), strict=True):
            first = before if before >= 0 else firsts.get(content.id)
            if first is not None:
                problem = f"repeats the sample of row {first}"
                chunk.rows.append(
                    BatchRow(
                        number,
                        RowStatus.REFUSED,
                        content.id,
                        content.product_code,
                        field=self.named("id"),
                        problem=problem,
                    )
                )
                continue
            firsts[content.id] = number
            chunk.contents.append(content)
            chunk.numbers.append(number)
        seen.add(firsts)
        self.timings["validate"] += time.perf_counter() - t
        self.validated += len(rows)
        self._report("validated", self.validated)
        ids = [c.id for c in chunk.contents]
        chunk.lookup = self.submit(stored_samples, self.raw, ids)
        return chunk

    def _check_and_store(self, chunk: _Chunk) -> None:
        """Set aside the rows already stored, check the others, and queue their storage."""
        assert chunk.lookup is not None
        known = self.wait(chunk.lookup)
        t = time.perf_counter()
        if known:
            fresh, numbers = [], []
            for number, content in zip(chunk.numbers, chunk.contents, strict=True):
                stored = known.get(content.id)
                if stored is None:
                    fresh.append(content)
                    numbers.append(number)
                else:
                    chunk.rows.append(_known_row(number, content, stored, self.names))
            chunk.contents, chunk.numbers = fresh, numbers
        self.timings["check"] += time.perf_counter() - t
        self._judge(chunk)
        self.storing.append(chunk)

    def _judge(self, chunk: _Chunk) -> None:
        """Check a chunk's fresh rows against the current index and queue their storage."""
        if not chunk.contents:
            chunk.verdicts = []
            chunk.store = None
            return
        with cycles_deferred():
            t = time.perf_counter()
            chunk.index = self.index
            chunk.verdicts = check_claims(None, claims_of(chunk.contents), self.settings, self.index)
            t2 = time.perf_counter()
            self.timings["check"] += t2 - t
            self.checked += len(chunk.contents)
            self._report("checked", self.checked)
            staged = stage_chunk(chunk.contents, chunk.verdicts)
            self.timings["format"] += time.perf_counter() - t2
        chunk.store = self.submit(self._store, staged, len(chunk.contents), chunk.index.tokens)

    def _store(self, staged: StagedChunk, count: int, tokens: tuple[tuple[int, str], ...]) -> Any:
        """Store a chunk (in the worker); when committing, under the shared area lock and against current areas."""
        if self.commit is not None:
            with self.raw.cursor() as cur:
                cur.execute(SHARED_AREA_LOCK_SQL)
                current = area_tokens(cur)
            if current != tokens:
                return _STALE  # an area version changed since the chunk was judged: judge it again first
        skipped = store_staged(self.raw, staged)
        known = stored_samples(self.raw, skipped) if skipped else {}
        if self.commit is not None:
            self.commit()
            self.committed += count - len(skipped)
        return frozenset(skipped), known

    def _finished(self, block: bool) -> list[BatchRow]:
        """The outcomes of stored chunks, in order (waiting for all of them when ``block``)."""
        out: list[BatchRow] = []
        while self.storing:
            chunk = self.storing[0]
            if chunk.store is not None:
                if not block and not chunk.store.done():
                    break
                outcome = self.wait(chunk.store)
                if outcome is _STALE:
                    # Judged against versions that changed meanwhile: the worker holds the area lock now.
                    self.index = self.call(lambda: area_index(self.db))
                    self._judge(chunk)
                    continue
                skipped, known = outcome
                for number, content, verdict in zip(
                    chunk.numbers, chunk.contents, chunk.verdicts, strict=True
                ):
                    stored = known.get(content.id)
                    if stored is not None:  # stored meanwhile by a concurrent run
                        chunk.rows.append(_known_row(number, content, stored, self.names))
                    elif content.id in skipped:
                        # Its identity is stored, its sample row is not: nothing was stored for this row.
                        chunk.rows.append(
                            BatchRow(
                                number,
                                RowStatus.CONFLICT,
                                content.id,
                                content.product_code,
                                field=self.named("id"),
                                problem=identity_without_sample(content.id),
                            )
                        )
                    else:
                        chunk.rows.append(
                            BatchRow(number, RowStatus.STORED, content.id, content.product_code, verdict)
                        )
                self.stored += len(chunk.contents)
                self._report("stored", self.stored)
            self.storing.pop(0)
            chunk.rows.sort(key=lambda r: r.row)
            out.extend(chunk.rows)
        if out and self.commit is not None:
            t = time.perf_counter()
            release_freed_memory()  # a file's chunks come one after another: its RSS stays that of one chunk
            self.timings["trim"] = self.timings.get("trim", 0.0) + time.perf_counter() - t
        return out

    def _report(self, step: str, done: int) -> None:
        if self.progress:
            self.progress(step, done, max(self.total, done))


def _known_row(
    number: int, content: SampleContent, stored: StoredSample, names: Mapping[str, str] | None = None
) -> BatchRow:
    """The outcome of a row whose UUID is stored: already stored (with its stored verdict), or a conflict (its
    fields named by ``names``, see :class:`Pipeline`)."""
    found = differences(stored.columns, content)
    if not found:
        return BatchRow(number, RowStatus.ALREADY_STORED, content.id, content.product_code, stored.verdict)
    first = next(iter(found))
    return BatchRow(
        number,
        RowStatus.CONFLICT,
        content.id,
        content.product_code,
        field=(names or {}).get(first, first),
        problem=conflict_message(content.id, found, names),
    )
