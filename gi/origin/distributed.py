"""Re-judgement on Dask: stored samples judged again partition by partition on a ``dask.distributed`` cluster.

A national campaign, or an area change that reaches years back, re-judges more samples than one process should.
The job splits the samples into partitions (one product's samples of one collection month, the unit the history
tables are partitioned by), and each Dask task judges one partition with the serial path's own function
(:func:`gi.origin.rejudge.rejudge_samples`, restricted to the partition) in a transaction of its own, so a
partition's new verdicts are committed all together or not at all.

Why this is safe to run, kill and run again:

- **Idempotent.** A partition stores a new verdict only where the judgement differs from the sample's current one,
  so judging a committed partition again stores nothing. A task whose worker dies rolls back with the worker's
  connection; Dask runs it again elsewhere, and the partition's advisory lock makes a duplicate run (a worker
  presumed dead that was not) wait and then find nothing to do.
- **Resumable.** With a state file, every committed partition is written to it after its commit, and a new run of
  the same job skips them; without one, a new run re-examines everything and stores only what is still missing.
- **Same results.** Partitions are disjoint and every task holds the area versions shared, so no version changes
  while any of them judges, and each sample is judged against exactly what the serial path would use.

- **Only what an area change altered** (``only_stale``): each task selects in the database the samples whose
  verdict names another area version than the one valid at collection (or none), and judges only those.

The same call runs on a ``LocalCluster`` (``--workers N``) or on a multi-node cluster (``--scheduler ADDRESS``,
workers that can reach the database URL and have this package installed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import threading
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from gi.errors import InputError
from gi.settings import Settings

# pg_advisory_xact_lock(class, key): the class keeps our keys apart from other advisory locks of the system.
_PARTITION_LOCK_CLASS = 0x6A0D

_PARTITIONS_SQL = text(
    "SELECT CAST(date_trunc('month', collected_at AT TIME ZONE :tz) AS date) AS month, "
    "count(*) AS samples FROM sample "
    "WHERE (CAST(:product AS integer) IS NULL OR product_id = :product) "
    "AND (CAST(:since AS timestamptz) IS NULL OR collected_at >= :since) "
    "AND (CAST(:until AS timestamptz) IS NULL OR collected_at < :until) "
    "GROUP BY 1 ORDER BY 1"
)


@dataclass(frozen=True)
class Partition:
    """The job's samples collected in one month (clipped to the job's period), judged by one task."""

    product_id: int | None
    month: date
    samples: int
    since: datetime
    until: datetime

    @property
    def key(self) -> str:
        """Stable name of the partition, used in the state file and the advisory lock."""
        return f"{self.product_id or '*'}:{self.month:%Y-%m}"


@dataclass(frozen=True)
class PartitionResult:
    """What one task did to its partition (committed before it is returned)."""

    key: str
    examined: int
    rejudged: int
    changed: int
    transitions: list[tuple[str, str, int]]


@dataclass
class DistributedReport:
    """A whole job: partitions judged now and skipped as already done, and the sums of what they did."""

    partitions: int = 0
    skipped: int = 0
    examined: int = 0
    rejudged: int = 0
    changed: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, result: PartitionResult) -> None:
        """Count one committed partition."""
        self.partitions += 1
        self.examined += result.examined
        self.rejudged += result.rejudged
        self.changed += result.changed
        for old, new, n in result.transitions:
            self.transitions[(old, new)] += n

    def describe(self) -> str:
        """One line for a person."""
        moves = ", ".join(f"{old} -> {new}: {n:,}" for (old, new), n in self.transitions.most_common())
        skipped = f"; {self.skipped:,} already done (state file)" if self.skipped else ""
        return (
            f"{self.partitions:,} partitions judged on Dask{skipped}: {self.examined:,} stored samples judged again, "
            f"{self.rejudged:,} new verdicts, {self.changed:,} with another outcome"
            + (f" ({moves})" if moves else "")
        )


def _month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=zone)
    return start, end


def plan_partitions(
    session: Session,
    settings: Settings,
    product_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Partition]:
    """The job's partitions, month by month (collection month in the configured zone).

    A month of every product, not a product's month: a task's fixed cost (a transaction, the area index check,
    scheduling) is then paid 36 times for 3 years rather than 36 times per product.
    """
    zone = ZoneInfo(settings.timezone)
    rows = session.execute(
        _PARTITIONS_SQL, {"tz": settings.timezone, "product": product_id, "since": since, "until": until}
    ).all()
    parts = []
    for row in rows:
        start, end = _month_bounds(row.month, zone)
        parts.append(
            Partition(
                product_id=product_id,
                month=row.month,
                samples=int(row.samples),
                since=max(start, since) if since else start,
                until=min(end, until) if until else end,
            )
        )
    return parts


def _lock_key(partition_key: str) -> int:
    return zlib.crc32(partition_key.encode()) - 2**31  # a signed 32-bit key, as pg_advisory_xact_lock takes


def rejudge_partition(
    url: str, settings_values: dict[str, Any], partition: Partition, only_stale: bool = False
) -> PartitionResult:
    """Judge one partition again and commit its new verdicts (runs on a Dask worker; one transaction)."""
    from gi.db import get_engine, session_scope
    from gi.origin.rejudge import rejudge_samples
    from gi.register.areas import SHARED_AREA_LOCK_SQL

    settings = Settings.model_validate(settings_values)
    with session_scope(get_engine(url)) as session:
        # Shared: the job's tasks run side by side, while no area version can change under any of them.
        session.execute(text(SHARED_AREA_LOCK_SQL))
        session.execute(
            text("SELECT pg_advisory_xact_lock(:c, :k)"),
            {"c": _PARTITION_LOCK_CLASS, "k": _lock_key(partition.key)},
        )
        report = rejudge_samples(
            session,
            partition.product_id,
            since=partition.since,
            until=partition.until,
            settings=settings,
            area_lock="held",
            only_stale=only_stale,
        )
    return PartitionResult(
        key=partition.key,
        examined=report.examined,
        rejudged=report.rejudged,
        changed=report.changed,
        transitions=[(old, new, n) for (old, new), n in report.transitions.items()],
    )


class JobState:
    """The state file of a job: its parameters, then one line per committed partition."""

    def __init__(self, path: Path | None, job: dict[str, Any]) -> None:
        self.path = path
        self.job = job
        self.done: set[str] = set()
        if path is None:
            return
        if path.exists() and path.stat().st_size:
            lines = path.read_text(encoding="utf-8").splitlines()
            try:
                header = json.loads(lines[0])
                self.done = {json.loads(line)["key"] for line in lines[1:] if line.strip()}
            except (ValueError, KeyError) as exc:
                raise InputError("--state", f"{path} is not a re-judgement state file ({exc})") from exc
            if header.get("job") != job:
                raise InputError(
                    "--state",
                    f"{path} belongs to another job ({header.get('job')}); use a new file for this one",
                )
        else:
            path.write_text(json.dumps({"job": job}) + "\n", encoding="utf-8")

    def record(self, result: PartitionResult) -> None:
        """Note a committed partition (after its commit, so a resumed job never skips uncommitted work)."""
        self.done.add(result.key)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(asdict(result)) + "\n")


def job_parameters(
    url: str, product_id: int | None, since: datetime | None, until: datetime | None, only_stale: bool = False
) -> dict[str, Any]:
    """What identifies a job in its state file (the database by a digest of its URL, never its password)."""
    from sqlalchemy.engine import make_url

    where = make_url(url).render_as_string(hide_password=True)
    return {
        "database": hashlib.sha256(where.encode()).hexdigest()[:16],
        "product_id": product_id,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        **({"only_stale": True} if only_stale else {}),  # older state files (all samples) stay valid
    }


class RejudgeInterrupted(KeyboardInterrupt):
    """A job stopped by Ctrl-C: what its committed partitions did (``report``) out of ``planned`` partitions."""

    def __init__(self, report: DistributedReport, planned: int | None) -> None:
        super().__init__("interrupted")
        self.report = report
        self.planned = planned


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back while worker processes start: they inherit the blocked signal and never see it,
    so a Ctrl-C reaches only this process, which stops the job and shuts them down. A Ctrl-C pressed meanwhile
    is delivered when this block ends."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    from multiprocessing import resource_tracker

    # Started now, before the block: starting it later unblocks SIGINT in the starting thread (it restores with
    # SIG_UNBLOCK), and that thread is the one that starts the workers.
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2) -> Iterator[Any]:
    """A Dask client: of the cluster at ``scheduler``, or of a ``LocalCluster`` of ``workers`` processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    if workers < 1:
        raise InputError("--workers", f"must be at least 1, not {workers}")
    logger = logging.getLogger("distributed")
    with ExitStack() as stack:
        # Registered first, so run last on the way out: after the cluster has closed.
        stack.callback(logger.setLevel, logger.level)
        try:
            with _sigint_held():
                # One thread per worker process: judging is CPU-bound Python, so processes give the
                # parallelism. Workers log errors only: a task cancelled at shutdown is not news.
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        # The scheduler's HTTP routes serve even without a dashboard: on a free loopback port,
                        # not 8787, which another cluster may hold (Dask then warns on stderr).
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.ERROR,
                    )
                )
                client = stack.enter_context(Client(cluster))
            yield client
        except KeyboardInterrupt:
            # The job says in one line what it did; the cluster closes without its log lines (cancelled tasks,
            # workers killed after their grace period).
            logger.setLevel(logging.CRITICAL)
            raise


def rejudge_distributed(
    client: Any,
    url: str,
    settings: Settings,
    product_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    state_path: Path | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    only_stale: bool = False,
) -> DistributedReport:
    """Judge the stored samples of ``product_id`` (all when None) collected in [since, until) again on Dask
    (``only_stale``: only those an area change made stale, see :func:`gi.origin.rejudge.rejudge_samples`)."""
    from distributed import as_completed

    from gi.db import get_engine

    state = JobState(state_path, job_parameters(url, product_id, since, until, only_stale))
    with Session(bind=get_engine(url)) as session:
        parts = plan_partitions(session, settings, product_id, since, until)
    report = DistributedReport(skipped=sum(p.key in state.done for p in parts))
    todo = sorted((p for p in parts if p.key not in state.done), key=lambda p: -p.samples)  # big ones first
    total = sum(p.samples for p in todo)
    values = settings.model_dump(mode="json")
    # retries: a task that failed (a serialization failure, a lost connection) runs again; a lost worker's
    # tasks are rescheduled by Dask itself.
    token = uuid.uuid4().hex[:12]  # task keys of their own: Dask would hand back another job's results
    keys = {f"rejudge-{token}-{p.key}": p for p in todo}
    futures = [
        client.submit(rejudge_partition, url, values, p, only_stale, key=k, retries=2)
        for k, p in keys.items()
    ]
    done_samples = 0
    try:
        for future in as_completed(futures):
            result: PartitionResult = future.result()
            state.record(result)
            report.add(result)
            done_samples += keys[future.key].samples
            if progress is not None:
                progress("samples judged again (Dask)", done_samples, total)
    except KeyboardInterrupt as exc:
        # Running partitions finish or roll back on their own; the state file names only recorded commits.
        client.cancel(futures)
        raise RejudgeInterrupted(report, len(todo)) from exc
    return report


def run_rejudge_job(
    url: str,
    settings: Settings,
    product_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    state_path: Path | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
    only_stale: bool = False,
) -> DistributedReport:
    """A whole job: connect to the cluster at ``scheduler`` (or start a LocalCluster of ``workers``), judge, close."""
    if progress is not None:
        progress("starting the Dask workers", 0, None)
    try:
        with dask_client(scheduler, workers) as client:
            return rejudge_distributed(
                client, url, settings, product_id, since, until, state_path, progress, only_stale
            )
    except RejudgeInterrupted:
        raise
    except KeyboardInterrupt as exc:  # while the workers started: nothing was judged yet
        raise RejudgeInterrupted(DistributedReport(), None) from exc
