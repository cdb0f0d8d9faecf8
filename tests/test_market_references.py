"""Reference-sample planning: tasks inside the area by county where a product's fingerprint references are thin,
none where they suffice; collected references enter their set with provenance; synthetic references stay marked
in verdicts until enough real ones replace them."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
import shapely
from geoalchemy2.shape import to_shape
from market_fixtures import LONGJING_VILLAGE, SHANGHAI, write_csv
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo_data.reference_sets import REFERENCES_DIR, read_reference_set, read_reference_sets
from gi.errors import ConflictError
from gi.market.rows import RowsError
from gi.models import ProductionArea, ReferenceTask
from gi.quality.fingerprint import check_fingerprint
from gi.quality.reference_intake import add_references
from gi.register.areas import find_product
from sampling.references import allocate, plan_reference_tasks, reference_need

pytestmark = pytest.mark.postgis


def _copy_set(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for suffix in (".csv", ".json"):
        shutil.copy(REFERENCES_DIR / f"{name}{suffix}", directory / f"{name}{suffix}")
    return directory / f"{name}.csv"


def _add_real_rows(csv_path: Path, year: int, county: str, count: int, prefix: str = "REAL") -> None:
    """Append ``count`` real rows (values of the synthetic ones, as stand-ins) with provenance columns."""
    ref = read_reference_set(csv_path)
    variables = list(ref.variables)
    header = ["product_code", "sample_id", "year", *variables, "county", "synthetic", "provenance"]
    rows = [
        [
            ref.product_code,
            ref.sample_ids[i],
            ref.years[i],
            *[ref.values[v][i] for v in variables],
            ref.counties[i] or "",
            int(ref.is_synthetic(i)),
            "",
        ]
        for i in range(ref.size)
    ]
    rows += [
        [
            ref.product_code,
            f"{prefix}-{k:03d}",
            year,
            *[ref.values[v][k] for v in variables],
            county,
            0,
            "测试实验室 报告",
        ]
        for k in range(count)
    ]
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def test_thin_references_get_tasks_inside_the_area(session: Session, loaded_register: None) -> None:
    longjing = find_product(session, "西湖龙井")
    sets = read_reference_sets()
    need = reference_need(session, longjing, 2026, sets)
    assert (
        need.authentic == 0 and need.synthetic > 0 or need.synthetic == 0
    )  # the bundled set is all synthetic
    assert need.reasons == ["new_year", "county_without"] and need.minimum == 60  # 10 × 6 variables
    [(planned, tasks)] = plan_reference_tasks(session, [longjing], 2026)
    assert len(tasks) == 60 and {t.county_code for t in tasks} == {"330106"}
    assert tasks[0].campaign == "REF-xihu-longjing-2026" and tasks[0].reason == "county_without"
    area = session.scalar(
        select(ProductionArea).where(
            ProductionArea.product_id == longjing.id, ProductionArea.valid_to.is_(None)
        )
    )
    assert area is not None
    geom = to_shape(area.geom)
    assert all(shapely.contains(geom, to_shape(t.point)) for t in tasks if t.point is not None)
    assert sum(t.point is not None for t in tasks) == 60
    assert (tasks[0].due_from.isoformat(), tasks[0].due_to.year) == ("2026-03-20", 2026) or tasks[
        0
    ].due_from.year == 2026
    # Re-deriving the points: same campaign, same points.
    again = plan_reference_tasks(session, [longjing], 2026, campaign="AGAIN")[0][1]
    other = plan_reference_tasks(session, [longjing], 2026, campaign="OTHER")[0][1]
    assert [to_shape(t.point).coords[0] for t in again] != [to_shape(t.point).coords[0] for t in other]
    with pytest.raises(ConflictError, match="already has reference tasks"):
        plan_reference_tasks(session, [longjing], 2026)


def test_no_tasks_where_references_suffice(session: Session, loaded_register: None, tmp_path: Path) -> None:
    longjing = find_product(session, "西湖龙井")
    _add_real_rows(_copy_set(tmp_path, "xihu-longjing"), 2026, "330106", 60)
    [(need, tasks)] = plan_reference_tasks(session, [longjing], 2026, directory=str(tmp_path))
    assert need.authentic == 60 and need.by_county == {"330106": 60} and not need.thin and tasks == []
    # The year after is a new year again.
    [(later, later_tasks)] = plan_reference_tasks(session, [longjing], 2027, directory=str(tmp_path))
    assert later.reasons == ["new_year", "county_without"] and len(later_tasks) == 60


def test_a_thin_product_without_counties_says_why_it_gets_no_task(
    session: Session, loaded_register: None, db_url: str
) -> None:
    """Tasks are planned by county: a thin product whose area names none gets no task and is told why, never
    "references sufficient"."""
    from fixtures import gi as run_gi
    from fixtures import scratch_database, square_product

    from gi.db import get_engine, session_scope

    product = square_product(session, "test-no-counties", "无县测试", "No counties")
    [(need, tasks)] = plan_reference_tasks(session, [product], 2027)
    assert need.thin and need.counties == [] and tasks == []
    assert need.blocked == "area version 1 names no counties (tasks are planned by county)"
    with scratch_database(db_url, "gi_refcli") as url:  # the command commits: a database of its own
        with session_scope(get_engine(url)) as other:
            square_product(other, "test-no-counties", "无县测试", "No counties")
        out = run_gi(url, "references", "plan", "--year", "2027", "-p", "test-no-counties")
        get_engine(url).dispose()
    assert out.returncode == 0, out.stderr
    assert "sufficient" not in out.stdout
    assert "无县测试: references thin (new_year) but area version 1 names no counties" in out.stdout


def test_tasks_are_stratified_by_county(session: Session, loaded_register: None, tmp_path: Path) -> None:
    crab = find_product(session, "阳澄湖大闸蟹")
    sets = read_reference_sets()
    need = reference_need(session, crab, 2026, sets, minimum=10)
    assert need.reference_set is None and len(need.counties) == 4
    # 3 authentic references in one county: below the minimum, three counties without.
    need.authentic, need.by_county = 3, {need.counties[0]: 3}
    shares = {c: float(i + 1) for i, c in enumerate(need.counties)}
    counts = allocate(need, shares)
    assert sum(counts.values()) == 10 - 3
    assert all(counts[c] >= 1 for c in need.counties[1:])
    [(_, tasks)] = plan_reference_tasks(session, [crab], 2026, minimum=10)
    assert len(tasks) == 10 and {t.county_code for t in tasks} == set(need.counties)


def test_collected_references_enter_their_set_with_provenance(
    session: Session, loaded_register: None, tmp_path: Path
) -> None:
    longjing = find_product(session, "西湖龙井")
    [(_, tasks)] = plan_reference_tasks(session, [longjing], 2026, minimum=2)
    ref = read_reference_set(REFERENCES_DIR / "xihu-longjing.csv")
    variables = list(ref.variables)
    header = [
        "sample_id",
        "year",
        "county",
        "collected_on",
        "lon",
        "lat",
        "accuracy",
        "provenance",
        "task",
        *variables,
    ]
    values = [[ref.values[v][k] for v in variables] for k in range(2)]
    bad = write_csv(
        tmp_path / "bad.csv",
        header,
        [["R-1", 2026, "330106", "2026-04-02", *SHANGHAI, 5, "测试实验室 报告1", tasks[0].id, *values[0]]],
    )
    with pytest.raises(RowsError, match="not an authentic reference"):
        add_references(session, bad, "xihu-longjing", tmp_path / "refs")
    good = write_csv(
        tmp_path / "good.csv",
        header,
        [
            [
                "R-1",
                2026,
                "330106",
                "2026-04-02",
                *LONGJING_VILLAGE,
                5,
                "测试实验室 报告1",
                tasks[0].id,
                *values[0],
            ],
            ["R-2", 2026, "330106", "2026-04-03", *LONGJING_VILLAGE, 5, "测试实验室 报告2", "", *values[1]],
        ],
    )
    pending = add_references(session, good, "xihu-longjing", tmp_path / "refs")
    pending.write()
    assert session.get(ReferenceTask, tasks[0].id).status == "collected"  # type: ignore[union-attr]
    written = read_reference_set(tmp_path / "refs" / "xihu-longjing.csv")
    # Readable by the office's other accounts as any new file is (0666 less the umask), not mkstemp's 0600.
    mask = os.umask(0o022)
    os.umask(mask)
    for name in ("xihu-longjing.csv", "xihu-longjing.json"):
        assert (tmp_path / "refs" / name).stat().st_mode & 0o777 == 0o666 & ~mask
    assert written.size == ref.size + 2 and written.authentic == [ref.size, ref.size + 1]
    assert written.counties[-1] == "330106" and pending.synthetic_left == ref.size
    meta = json.loads((tmp_path / "refs" / "xihu-longjing.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True and "provenance per row" in meta["sources"][-1]["citation"]
    assert (REFERENCES_DIR / "xihu-longjing.csv").read_text(
        encoding="utf-8"
    ) != pending.csv_text  # bundled kept


def test_references_marked_synthetic_in_the_file_never_count_as_authentic(
    session: Session, loaded_register: None, tmp_path: Path
) -> None:
    example = Path(__file__).parents[1] / "examples" / "market" / "collected_references.csv"
    ref = read_reference_set(REFERENCES_DIR / "xihu-longjing.csv")
    pending = add_references(session, example, "xihu-longjing", tmp_path / "refs")
    pending.write()
    assert pending.added == 2 and pending.added_authentic == 0 and pending.synthetic_left == ref.size + 2
    written = read_reference_set(tmp_path / "refs" / "xihu-longjing.csv")
    assert written.size == ref.size + 2 and written.authentic == []
    meta = json.loads((tmp_path / "refs" / "xihu-longjing.json").read_text(encoding="utf-8"))
    assert "0 authentic, 2 marked synthetic" in meta["sources"][-1]["citation"]


def test_synthetic_references_stay_marked_until_real_ones_suffice(tmp_path: Path) -> None:
    path = _copy_set(tmp_path, "xihu-longjing")
    ref = read_reference_set(path)
    sample = {v: float(ref.values[v][0]) for v in ref.variables}  # type: ignore[arg-type]
    assert check_fingerprint(sample, "xihu-longjing", [ref]).synthetic_reference
    _add_real_rows(path, 2026, "330106", 59)  # one short of 10 × 6
    mixed = read_reference_set(path)
    assert check_fingerprint(sample, "xihu-longjing", [mixed]).synthetic_reference
    _add_real_rows(path, 2026, "330106", 1, prefix="MORE")
    real = read_reference_set(path)
    assert len(real.authentic) == 60
    result = check_fingerprint(sample, "xihu-longjing", [real])
    assert not result.synthetic_reference and result.claimed.n_reference <= 60
