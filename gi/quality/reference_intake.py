"""Collected authentic references entering a fingerprint reference set, with their provenance.

A file of collected reference samples (CSV or .xlsx) gives per sample: ``sample_id``, ``year`` (harvest year),
``county``, ``collected_on``, the location (``x``/``y`` with ``crs``, or ``lon``/``lat``, and the GPS
``accuracy`` in metres), ``provenance`` (the
laboratory and report), optionally ``task`` (the reference task it fulfils), and the set's variables in the
set's units. Every row is checked (the location must be inside the area valid that day, by the domain's origin
check, and in the county it names; the task must be planned for that product and county); with any problem
nothing changes. The set is then rewritten with the new rows marked ``synthetic = 0`` (unless a row says it is
synthetic, as the examples do) and their provenance, its
earlier rows keeping their own flag; a bundled synthetic set is first copied into the references directory
(``GI_REFERENCES_DIR``), never changed in place. The tasks are marked collected in the same transaction; the
files are written by :meth:`PendingSet.write` after that transaction commits.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_data.reference_sets import ID_COLUMNS, PROVENANCE_COLUMNS, REFERENCES_DIR, read_reference_set
from geo_data.sample_files import current_umask
from geo_data.tables import parse_quantity
from gi import clock
from gi.errors import InputError
from gi.market.rows import Cells, read_rows, reject_if
from gi.models import GIProduct, ReferenceTask
from gi.settings import get_settings


@dataclass
class PendingSet:
    """A reference set to write once the transaction that marked its tasks collected has committed."""

    csv_path: Path
    csv_text: str
    json_path: Path
    json_text: str
    added: int
    added_authentic: int
    synthetic_left: int

    def write(self) -> None:
        """Write both files atomically (temporary file, then rename)."""
        for path, text in ((self.json_path, self.json_text), (self.csv_path, self.csv_text)):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            os.fchmod(fd, 0o666 & ~current_umask())  # a shared reference set, not mkstemp's private 0600
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            os.replace(tmp, path)


def _target(set_name: str, directory: Path | None) -> tuple[Path, Path]:
    """(the set's CSV to read, the CSV to write) in the references directory."""
    if directory is None:
        configured = get_settings().references_dir
        if configured is None:
            raise InputError(
                "references_dir",
                "set GI_REFERENCES_DIR (or --into) to the directory of your reference sets; the bundled synthetic "
                "sets are copied there before real references are added",
            )
        directory = Path(configured)
    target = directory / f"{set_name}.csv"
    source = target if target.exists() else REFERENCES_DIR / f"{set_name}.csv"
    if not source.exists():
        raise InputError("set", f"no reference set {set_name!r} in {directory} or the bundled sets")
    return source, target


def add_references(
    session: Session, path: str | Path, set_name: str, directory: Path | None = None, sheet: str | None = None
) -> PendingSet:
    """Check collected references and prepare their set; tasks are marked collected in ``session``."""
    from gi.origin.rule import LocationClaim, check_origins
    from gi.register.areas import local_midnight

    source, target = _target(set_name, directory)
    ref = read_reference_set(source)
    product = session.scalar(select(GIProduct).where(GIProduct.code == ref.product_code))
    if product is None:
        raise InputError("set", f"{set_name}: product {ref.product_code!r} is not in the register")
    aliases: dict[str, tuple[str, ...]] = {
        "sample_id": ("sample_id", "样品编号"),
        "year": ("year", "harvest_year", "年度", "产季"),
        "county": ("county", "county_code", "区县代码"),
        "collected_on": ("collected_on", "date", "采样日期"),
        "x": ("x", "lon", "longitude", "经度"),
        "y": ("y", "lat", "latitude", "纬度"),
        "crs": ("crs", "坐标系"),
        "accuracy": ("accuracy", "gps_accuracy_m", "精度"),
        "provenance": ("provenance", "来源", "检测报告"),
        "task": ("task", "task_id", "参照任务"),
        "synthetic": ("synthetic", "合成"),
        **{v: (v,) for v in ref.variables},
    }
    table = read_rows(
        path,
        aliases,
        ("sample_id", "year", "county", "collected_on", "x", "y", "provenance"),
        sheet,
        "reference",
    )
    problems: list[Any] = []
    rows: list[dict[str, Any]] = []
    known = set(ref.sample_ids)
    tasks = {
        t.id: t for t in session.scalars(select(ReferenceTask).where(ReferenceTask.product_id == product.id))
    }
    for number, raw in table.rows:
        cells = Cells(number, raw, problems)
        sample_id = cells.text("sample_id", required=True, max_length=100)
        year = cells.integer("year", required=True, low=2000, high=2100)
        county = cells.county()
        collected_on = cells.day("collected_on", required=True)
        where = cells.location()
        provenance = cells.text("provenance", required=True)
        values = {v: cells.typed(v, parse_quantity) for v in ref.variables}
        for v, value in values.items():
            if value is not None and ref.variables[v].transform == "log10" and value <= 0:
                cells.problem(v, f"{value} must be above 0 (it is log-transformed)")
        if all(value is None for value in values.values()):
            cells.problem("variables", f"no value of {', '.join(ref.variables)}")
        task = None
        task_id = cells.integer("task", low=1) if cells.present("task") else None
        if task_id is not None:
            task = tasks.get(task_id)
            if task is None:
                cells.problem("task", f"no reference task {task_id} of {product.name_zh}")
            elif task.status != "planned":
                cells.problem("task", f"task {task_id} is {task.status}")
            elif county and task.county_code != county:
                cells.problem("county", f"task {task_id} is in {task.county_code}, not {county}")
        if sample_id in known:
            cells.problem("sample_id", f"{sample_id} is already in {set_name}")
        if not cells.ok or where is None:
            continue
        known.add(str(sample_id))
        rows.append(
            {
                "row": number,
                "sample_id": sample_id,
                "year": year,
                "county": county,
                "collected_on": collected_on,
                "where": where,
                "accuracy": cells.number("accuracy"),
                "provenance": provenance,
                "synthetic": cells.flag("synthetic"),
                "values": values,
                "task": task,
            }
        )
    reject_if(table.source, problems)
    claims = [
        LocationClaim(
            product_id=product.id,
            x=r["where"].x,
            y=r["where"].y,
            collected_at=local_midnight(r["collected_on"]),
            crs=r["where"].crs,
            gps_accuracy_m=None if r["accuracy"] is None else float(r["accuracy"]),
        )
        for r in rows
    ]
    for r, verdict in zip(rows, check_origins(session, claims), strict=True):
        if verdict.verdict.value != "inside":
            Cells(r["row"], {}, problems).problem(
                "x",
                f"origin check {verdict.verdict.value} on {r['collected_on']} "
                f"({', '.join(verdict.flags) or 'outside the area'}): not an authentic reference",
            )
        units = {
            str(u.get("code"))[:6]
            for a in ([verdict.area_id] if verdict.area_id else [])
            for u in _units(session, a)
        }
        if units and r["county"] not in units:
            Cells(r["row"], {}, problems).problem("county", f"{r['county']} is not a county of the area")
    reject_if(table.source, problems)

    for r in rows:
        if r["task"] is not None:
            r["task"].status = "collected"
            r["task"].collected_on = r["collected_on"]
            r["task"].reference_sample_id = r["sample_id"]
            r["task"].reference_set = set_name
    session.flush()
    return _pending(ref, source, target, rows)


def _units(session: Session, area_id: int) -> list[dict[str, Any]]:
    from gi.models import ProductionArea

    area = session.get(ProductionArea, area_id)
    return list(area.admin_units) if area else []


def _pending(ref: Any, source: Path, target: Path, rows: list[dict[str, Any]]) -> PendingSet:
    text = source.read_text(encoding="utf-8-sig")
    comments = [ln for ln in text.splitlines() if ln.lstrip().startswith("#")]
    variables = list(ref.variables)
    header = [*ID_COLUMNS, *variables, *PROVENANCE_COLUMNS]
    out = io.StringIO()
    for line in comments:
        out.write(line + "\n")
    out.write(
        f"# {len(rows)} authentic reference(s) added {clock.today().isoformat()} (synthetic = 0; provenance per row)\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in range(ref.size):
        writer.writerow(
            [
                ref.product_code,
                ref.sample_ids[i],
                "" if ref.years[i] is None else ref.years[i],
                *["" if ref.values[v][i] is None else repr(ref.values[v][i]) for v in variables],
                ref.counties[i] or "" if ref.counties else "",
                int(ref.is_synthetic(i)),
                "",
                "",
                "",
                "",
            ]
        )
    for r in rows:
        writer.writerow(
            [
                ref.product_code,
                r["sample_id"],
                r["year"],
                *["" if r["values"][v] is None else format(r["values"][v], "f") for v in variables],
                r["county"],
                int(r["synthetic"]),
                r["collected_on"].isoformat(),
                round(r["where"].lon, 6),
                round(r["where"].lat, 6),
                r["provenance"],
            ]
        )
    meta = json.loads(source.with_suffix(".json").read_text(encoding="utf-8"))
    synthetic_left = sum(1 for i in range(ref.size) if ref.is_synthetic(i)) + sum(
        1 for r in rows if r["synthetic"]
    )
    authentic = sum(1 for r in rows if not r["synthetic"])
    meta.setdefault("sources", []).append(
        {
            "citation": f"{len(rows)} reference sample(s) collected inside the area ({authentic} authentic, "
            f"{len(rows) - authentic} marked synthetic); provenance per row (collected_on, lon, lat, county, "
            "provenance)",
            "used_for": "authentic references (synthetic = 0); rows marked synthetic = 1 never count as authentic",
        }
    )
    meta["synthetic_rows"] = synthetic_left
    return PendingSet(
        target,
        out.getvalue(),
        target.with_suffix(".json"),
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
        len(rows),
        authentic,
        synthetic_left,
    )
