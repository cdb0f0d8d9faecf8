"""Sample files: stream a file of any size through intake, committing chunk by chunk.

A file is read and stored in chunks; each chunk is committed on its own once its samples and verdicts are stored
(so memory stays bounded and concurrent runs never wait long for each other). A run that fails part-way keeps the
chunks it committed: re-running the file stores the rest and reports every row, those stored before included (as
"already stored", with their stored verdicts), and nothing is stored twice. The outcome of each row is handed to
the caller (``on_rows``) only after the commit that stored it; the caller writes the result file. Rows are reported
by the file's own column names (``lon``, ``纬度``), as the file's reader names them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from geo_data.sample_files import RowProblem, SampleRow, open_sample_file, sample_fields
from gi.origin.batch import BatchRow, IntakeSummary, Pipeline, Progress, RowStatus
from gi.origin.fields import parse_system
from gi.settings import Settings, get_settings

RESULT_HEADER = (
    "row",
    "status",
    "sample_id",
    "product",
    "verdict",
    "distance_m",
    "band_m",
    "area_version",
    "lon",
    "lat",
    "flags",
    "other_areas",
    "field",
    "problem",
)


def result_line(r: BatchRow) -> tuple[Any, ...]:
    """One line of the result file: the row's outcome and its stored verdict (now or before)."""
    v = r.verdict
    return (
        r.row,
        r.status.value,
        r.sample_id,
        r.product_code,
        v.verdict.value if v else None,
        v.distance_m if v else None,
        v.band_m if v else None,
        v.area_version if v else None,
        round(v.lon, 8) if v else None,
        round(v.lat, 8) if v else None,
        ";".join(v.flags) if v else None,
        ";".join(o["product_code"] for o in v.other_areas) if v else None,
        r.field,
        r.problem,
    )


def _told(row: BatchRow, names: Mapping[str, str], short: str | None) -> BatchRow:
    """A refused row's problem as the file's author reads it: an empty required cell, and a row cut short."""
    problem = row.problem
    if problem == "Field required":  # pydantic's words for a key the row lacks: its cell is empty
        problem = "is empty" if row.field in names.values() else "no such column in the file"
    if short:
        problem = f"{problem} ({short})"
    return replace(row, problem=problem) if problem != row.problem else row


def check_sample_file(
    db: Connection,
    path: str | Path,
    crs: str | None = None,
    layer: str | None = None,
    progress: Progress | None = None,
    on_rows: Callable[[Sequence[BatchRow]], None] | None = None,
    chunk: int | None = None,
    settings: Settings | None = None,
) -> IntakeSummary:
    """Read a sample file and store its samples and verdicts, committing chunk by chunk (``chunk`` rows, default
    the setting ``intake_chunk_rows``) on ``db`` (a connection of its own); ``on_rows`` gets each committed chunk's
    row outcomes, in file order."""
    if crs:
        parse_system(crs)  # a wrong --crs is refused before anything is read
    sample_file = open_sample_file(path, crs=crs, layer=layer)
    raw: Any = db.connection.driver_connection
    summary = IntakeSummary()
    short: dict[int, str] = {}  # rows with fewer fields than the header, until their outcome is known

    def emit(rows: Sequence[BatchRow]) -> None:
        rows = [
            r if r.status is not RowStatus.REFUSED else _told(r, sample_file.names, short.get(r.row))
            for r in rows
        ]
        if short:
            for r in rows:
                short.pop(r.row, None)
        summary.add(rows)
        if on_rows is not None and rows:
            on_rows(rows)

    pipeline = Pipeline(
        db,
        source=sample_file.source,
        progress=progress,
        total=sample_file.estimated_rows,
        settings=settings,
        commit=raw.commit,
        names=sample_file.names,
    )
    try:
        for items in sample_file.chunks(chunk or (settings or get_settings()).intake_chunk_rows):
            rows = []
            for item in items:
                if isinstance(item, SampleRow):
                    rows.append((item.row, sample_fields(item, sample_file.default_crs)))
                    if item.short:
                        short[item.row] = item.short
            refused = [
                BatchRow(item.row, RowStatus.REFUSED, field=item.field, problem=item.problem)
                for item in items
                if isinstance(item, RowProblem)
            ]
            emit(pipeline.feed(rows, refused))
            del items, rows, refused  # not kept alive while the next chunk is read
        emit(pipeline.finish())
        raw.commit()
    except BaseException as exc:
        # The chunk being stored is committed or not before the count is told; the connection is then dropped
        # rather than rolled back, so that closing it (a lost one cannot roll back) never hides this error.
        pipeline.close()
        db.invalidate()
        exc.add_note(
            f"{pipeline.committed:,} samples of {sample_file.source} were stored and committed before this "
            "(chunk by chunk); re-running the file is safe: it stores the rest and reports every row"
            if pipeline.committed
            else f"nothing of {sample_file.source} was stored; re-running the file is safe"
        )
        raise
    finally:
        pipeline.close()
    summary.names.update(pipeline.product_names())
    return summary
