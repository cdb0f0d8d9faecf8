"""Lab-result import (CSV, Excel, bad input) and quality verdicts against the real register's limits."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.errors import InputError
from gi.models import LabResult, QualitySpec, Sample
from gi.quality.judge import check_sample_quality, evaluate, grade_matches, rule_at, set_rule, specs_at
from gi.quality.lab import LabImportError, import_results, results_of
from gi.register.areas import find_product

pytestmark = pytest.mark.postgis
SH = ZoneInfo("Asia/Shanghai")
HEADER = "sample_id,indicator,value,unit,U,k,method,laboratory,tested_on,grade\n"


def make_sample(session: Session, product_code: str, when: datetime | None = None) -> Sample:
    product = find_product(session, product_code)
    sample = Sample(
        id=uuid.uuid4(),
        product_id=product.id,
        collected_at=when or datetime(2025, 4, 2, 10, tzinfo=SH),
        submitted_x=120.1,
        submitted_y=30.2,
        declared_crs="WGS84",
        gps_accuracy_m=5.0,
        location=from_shape(Point(120.1, 30.2), srid=4326),
        source="test",
    )
    session.add(sample)
    session.flush()
    return sample


def write(tmp_path: Path, text: str, name: str = "results.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def tea(session: Session, loaded_register: None) -> Sample:
    return make_sample(session, "xihu-longjing")


def test_import_converts_units_and_keeps_the_reported_values(
    session: Session, tea: Sample, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        HEADER
        + f"{tea.id},moisture,65,g/kg,2,2,GB 5009.3-2016,浙江省检验院,2025-04-10,\n"
        + f"{tea.id},总灰分,5.8,g/100 g,0.2,2,GB 5009.4-2016,浙江省检验院,2025-04-10,\n"
        + f"{tea.id},lead,<0.2,mg/kg,,,GB 5009.12-2017,浙江省检验院,2025/4/11,\n"
        + f"{str(tea.id)[:8]},d13C,-27.9,‰,0.2,2,EA-IRMS,同位素实验室,2025年4月12日,\n",
    )
    report = import_results(session, path)
    assert len(report.results) == 4 and report.sample_ids == [tea.id]
    by_code = {r.indicator_code: r for r in results_of(session, tea.id)}
    assert by_code["moisture"].value_converted == D("6.5") and by_code["moisture"].converted_unit == "%"
    assert by_code["moisture"].value == D(65) and by_code["moisture"].unit == "g/kg"
    assert by_code["total_ash"].indicator_code == "total_ash"  # found by its Chinese name
    assert by_code["lead"].censored == "<" and by_code["lead"].value == D("0.2")
    assert by_code["d13C"].tested_on == date(2025, 4, 12) and by_code["d13C"].source_row == 5


def test_bad_rows_are_all_reported_with_row_numbers_and_nothing_is_stored(
    session: Session, tea: Sample, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        HEADER
        + f"{tea.id},moisture,6.1,%,,,m,Lab A,2025-04-10,\n"  # row 2 fine
        + f"{tea.id},caffeine,3.1,%,,,m,Lab A,2025-04-10,\n"  # row 3 unknown indicator
        + f"{tea.id},total_ash,5.1,,,,m,Lab A,2025-04-10,\n"  # row 4 missing unit
        + f"{tea.id},water_extract,about 40,%,,,m,Lab A,2025-04-10,\n"  # row 5 text
        + f"{tea.id},moisture,6.2,%,,,m,Lab A,2025-04-10,\n"  # row 6 duplicate of 2
        + f"{tea.id},powder,0.5,g/L,,,m,Lab A,2025-04-10,\n"  # row 7 unconvertible
        + f"{tea.id},lead,ND,mg/kg,,,m,Lab A,2025-04-10,\n"  # row 8 no number
        + f"{uuid.uuid4()},moisture,6.2,%,,,m,Lab A,2025-04-10,\n",
    )  # row 9 no sample
    with pytest.raises(LabImportError) as err:
        import_results(session, path)
    problems = {p.row: (p.column, p.problem) for p in err.value.problems}
    assert set(problems) == {3, 4, 5, 6, 7, 8, 9}
    assert problems[3][0] == "indicator" and "unknown indicator 'caffeine'" in problems[3][1]
    assert "moisture" in problems[3][1] and "d13C" in problems[3][1]  # the known ones are listed
    assert problems[4] == ("unit", "missing unit")
    assert problems[5][0] == "value" and "text in a number field" in problems[5][1]
    assert problems[6][0] == "row" and "duplicate of row 2" in problems[6][1]
    assert problems[7][0] == "unit" and "'g/L'" in problems[7][1] and "'%'" in problems[7][1]
    assert "'<LOD'" in problems[8][1]
    assert problems[9][0] == "sample_id"
    assert "nothing imported" in str(err.value)
    assert results_of(session, tea.id) == []


def test_a_test_date_in_the_future_or_before_sampling_is_refused(
    session: Session, tea: Sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo'd test date would otherwise be the "latest" result judging uses; today is the office's date."""
    from gi import clock

    # 17:00 UTC on 11 April is 01:00 on 12 April in Beijing: a result of the 12th is not in the future.
    monkeypatch.setattr(clock, "_system_now", lambda: datetime(2025, 4, 11, 17, 0, tzinfo=ZoneInfo("UTC")))
    path = write(
        tmp_path,
        HEADER
        + f"{tea.id},moisture,6.1,%,,,m,Lab A,2025-04-12,\n"  # row 2: today in Beijing
        + f"{tea.id},total_ash,5.1,%,,,m,Lab A,2025-04-13,\n"  # row 3: tomorrow
        + f"{tea.id},powder,0.5,%,,,m,Lab A,2052-04-10,\n"  # row 4: a typo'd year
        + f"{tea.id},lead,0.3,mg/kg,,,m,Lab A,2025-04-01,\n"  # row 5: the day before sampling (2 April)
        + f"{tea.id},water_extract,40,%,,,m,Lab A,2025-04-02,\n",  # row 6: the day of sampling
    )
    with pytest.raises(LabImportError) as err:
        import_results(session, path)
    problems = {p.row: (p.column, p.problem) for p in err.value.problems}
    assert set(problems) == {3, 4, 5}
    assert problems[3] == ("tested_on", "2025-04-13 is in the future (today is 2025-04-12)")
    assert problems[4][0] == "tested_on" and "2052-04-10 is in the future" in problems[4][1]
    assert problems[5] == ("tested_on", "2025-04-01 is before the sample was collected (2025-04-02)")
    assert results_of(session, tea.id) == []


def test_reimporting_a_file_is_caught_as_duplicates(session: Session, tea: Sample, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + f"{tea.id},moisture,6.1,%,,,m,Lab A,2025-04-10,\n")
    import_results(session, path)
    with pytest.raises(LabImportError) as err:
        import_results(session, path)
    assert "already stored (from results.csv row 2)" in err.value.problems[0].problem
    # a re-test by another lab, or on another day, is not a duplicate
    import_results(
        session, write(tmp_path, HEADER + f"{tea.id},moisture,6.3,%,,,m,Lab B,2025-04-10,\n", "b.csv")
    )
    assert len(results_of(session, tea.id)) == 2


def test_excel_and_chinese_headers_and_gbk_csv(session: Session, tea: Sample, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(
        ["样品编号", "检测项目", "检测结果", "单位", "扩展不确定度", "包含因子", "检测机构", "检测日期"]
    )
    sheet.append([str(tea.id), "水分", 6.4, "%", "3%", 2, "杭州检测中心", datetime(2025, 4, 9)])
    sheet.append([None] * 8)
    sheet.append([str(tea.id), "水浸出物", "四十", "%", None, None, "杭州检测中心", "2025-04-09"])
    path = tmp_path / "results.xlsx"
    book.save(path)
    with pytest.raises(LabImportError) as err:
        import_results(session, path)
    assert [(p.row, p.column) for p in err.value.problems] == [(4, "value")]
    sheet.delete_rows(4)
    book.save(path)
    report = import_results(session, path)
    result = report.results[0]
    assert result.indicator_code == "moisture" and result.uncertainty == D("0.192")  # 3 % of 6.4
    assert result.tested_on == date(2025, 4, 9)

    gbk = write(
        tmp_path,
        "样品编号,指标,结果,单位,实验室,检测日期\n" + f"{tea.id},水浸出物,41.2,%,杭州检测中心,2025-04-09\n",
        "gbk.csv",
        encoding="gb18030",
    )
    assert import_results(session, gbk).results[0].indicator_code == "water_extract"


def test_negative_amounts_are_refused_but_isotope_deltas_are_not(
    session: Session, tea: Sample, tmp_path: Path
) -> None:
    """A content, a mass fraction or an element cannot be below zero (a stray minus would pass every upper
    limit); a δ13C of C3 tea is about -27 ‰ and is taken."""
    path = write(
        tmp_path,
        HEADER
        + f"{tea.id},moisture,-5,%,,,m,Lab A,2025-04-10,\n"  # row 2
        + f"{tea.id},lead,<-0.2,mg/kg,,,m,Lab A,2025-04-10,\n"  # row 3: censored, still negative
        + f"{tea.id},total_ash,0,%,,,m,Lab A,2025-04-10,\n"  # row 4: zero is a value
        + f"{tea.id},d13C,-27.9,‰,0.2,2,EA-IRMS,Lab A,2025-04-10,\n",  # row 5: a delta value
    )
    with pytest.raises(LabImportError) as err:
        import_results(session, path)
    problems = {p.row: (p.column, p.problem) for p in err.value.problems}
    assert set(problems) == {2, 3}
    assert (
        problems[2][0] == "value" and "moisture" in problems[2][1] and "cannot be negative" in problems[2][1]
    )
    assert problems[3][0] == "value" and "lead" in problems[3][1]
    assert "row 2, value: -5 %: moisture" in str(err.value)
    assert results_of(session, tea.id) == []
    import_results(
        session, write(tmp_path, HEADER + f"{tea.id},d13C,-27.9,‰,,,m,Lab A,2025-04-10,\n", "d.csv")
    )
    assert [r.value for r in results_of(session, tea.id)] == [D("-27.9")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.xlsx", b"hello\n", "x.xlsx: not readable as an Excel .xlsx workbook"),
        (
            "u.csv",
            ("\ufeff" + HEADER).encode("utf-16-le"),
            "u.csv: not UTF-8 or GB18030 text (save it as CSV UTF-8)",
        ),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused_naming_it(
    session: Session, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    """Not a workbook behind .xlsx, or a UTF-16 CSV: one line naming the file, classified as bad input."""
    from gi.errors import ErrorKind, classify

    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError) as err:
        import_results(session, tmp_path / name)
    assert str(err.value).startswith(message)
    assert classify(err.value).kind is ErrorKind.BAD_INPUT


def test_missing_required_column_is_a_file_error(session: Session, tea: Sample, tmp_path: Path) -> None:
    path = write(
        tmp_path, "sample_id,indicator,value,laboratory,tested_on\n" + f"{tea.id},moisture,6,L,2025-04-01\n"
    )
    with pytest.raises(InputError, match="missing column"):
        import_results(session, path)


# --------------------------------------------------------------------------------------------- quality verdicts


def add(
    session: Session,
    sample: Sample,
    code: str,
    value: str,
    unit: str,
    u: str | None = None,
    grade: str | None = None,
    lab: str = "Lab A",
    day: date = date(2025, 4, 10),
) -> LabResult:
    censored = value[0] if value[0] in "<>" else None
    result = LabResult(
        sample_id=sample.id,
        indicator_code=code,
        value=D(value.lstrip("<>")),
        censored=censored,
        unit=unit,
        uncertainty=None if u is None else D(u),
        coverage_factor=D(2) if u else None,
        laboratory=lab,
        tested_on=day,
        declared_grade=grade,
    )
    session.add(result)
    session.flush()
    return result


def test_tea_at_its_inclusive_limits_passes_and_missing_mandatory_is_inconclusive(
    session: Session, tea: Sample
) -> None:
    add(session, tea, "moisture", "6.5", "%")  # ≤ 6.5: exactly at the limit
    add(session, tea, "total_ash", "65", "g/kg")  # 6.5 % after conversion: at the limit
    add(session, tea, "water_extract", "36.0", "%")  # ≥ 36.0
    add(session, tea, "lead", "<0.2", "mg/kg")
    verdict = check_sample_quality(session, tea)
    assert verdict.outcome.value == "inconclusive"
    assert verdict.missing_mandatory == ["powder"]
    rows = {i["code"]: i for i in verdict.indicators}
    assert rows["moisture"]["outcome"] == "pass" and rows["total_ash"]["value"] == "6.5"
    assert rows["powder"]["statement"] == "not tested"
    add(session, tea, "powder", "1.01", "%")
    verdict = check_sample_quality(session, tea)
    assert verdict.outcome.value == "fail"
    assert "simple acceptance" in verdict.rule and verdict.inputs["collected_on"] == "2025-04-02"


def test_exclusive_lower_limit_of_bayberry_soluble_solids(session: Session, loaded_register: None) -> None:
    sample = make_sample(session, "yuyao-bayberry", datetime(2025, 6, 20, 9, tzinfo=SH))
    specs = specs_at(session, sample.product_id, date(2025, 6, 20))
    add(session, sample, "soluble_solids", "10.5", "°Bx", grade="荸荠种")  # > 10.5 required: fails
    add(session, sample, "single_fruit_weight", "8.0", "g", grade="荸荠种")
    add(session, sample, "total_acid", "1.5", "%", grade="荸荠种")
    results = list(session.scalars(select(LabResult).where(LabResult.sample_id == sample.id)))
    evaluation = evaluate(specs, results, declared_grade="荸荠种")
    outcomes = {i.code: i.outcome.value for i in evaluation.indicators}
    assert outcomes == {"soluble_solids": "fail", "single_fruit_weight": "pass", "total_acid": "pass"}
    results[0].value = D("10.51")
    assert evaluate(specs, results, declared_grade="Biqi").outcome.value == "pass"
    # the same fruit judged with no declared variety meets both varieties' soluble-solids limits,
    # but not the 水晶种 minimum fruit weight of 10 g
    evaluation = evaluate(specs, results)
    assert evaluation.outcome.value == "pass" and evaluation.grades_met == ["荸荠种 (Biqi)"]


def test_guard_band_rule_makes_values_near_a_limit_inconclusive(session: Session, tea: Sample) -> None:
    set_rule(session, "xihu-longjing", "guard_band", guard_factor=1)
    rule, stored = rule_at(session, tea.product_id, date(2025, 4, 2))
    assert stored is not None and rule.kind.value == "guard_band"
    for code, value in [
        ("moisture", "6.4"),
        ("total_ash", "5.0"),
        ("water_extract", "40"),
        ("powder", "0.5"),
    ]:
        add(session, tea, code, value, "%", u="0.2")
    add(session, tea, "lead", "0.8", "mg/kg", u="0.1")
    verdict = check_sample_quality(session, tea)
    rows = {i["code"]: i for i in verdict.indicators}
    assert (
        rows["moisture"]["outcome"] == "inconclusive" and rows["moisture"]["statement"] == "conditional pass"
    )
    assert "[6.2, 6.6]" in rows["moisture"]["reason"]
    assert verdict.outcome.value == "inconclusive" and "guard band" in verdict.rule
    assert verdict.rule_config["kind"] == "guard_band"
    set_rule(session, "xihu-longjing", "guarded_rejection")
    assert check_sample_quality(session, tea).outcome.value == "pass"


def test_grades_of_goji_are_met_from_the_best_down(session: Session, loaded_register: None) -> None:
    sample = make_sample(session, "ningxia-goji", datetime(2025, 7, 15, 9, tzinfo=SH))
    for code, value, unit in [
        ("moisture", "12", "%"),
        ("total_ash", "4", "%"),
        ("water_extract", "0", "%"),
        ("water_soluble_extract", "60", "%"),
        ("lycium_polysaccharide", "2.1", "%"),
    ]:
        if code != "water_extract":
            add(session, sample, code, value, unit)
    add(session, sample, "grain_count", "700", "count/100g")  # = 350 per 50 g: 特级, 甲级, 乙级, not 特优
    verdict = check_sample_quality(session, sample)
    assert verdict.outcome.value == "pass"
    assert sorted(verdict.grades_met) == sorted(["特级", "甲级", "乙级"])
    verdict = check_sample_quality(session, sample, declared_grade="特优")
    assert verdict.outcome.value == "fail" and verdict.grades_met == []
    with pytest.raises(InputError, match="not a grade"):
        check_sample_quality(session, sample, declared_grade="一等品")


def test_specification_valid_at_the_collection_date_is_used(session: Session, tea: Sample) -> None:
    product = find_product(session, "xihu-longjing")
    session.add(
        QualitySpec(
            product_id=product.id,
            indicator_code="moisture",
            name_zh="水分",
            name_en="moisture",
            unit="%",
            upper_limit=D("6.0"),
            source_standard="hypothetical revision",
            clause="x",
            valid_from=date(2030, 1, 1),
        )
    )
    session.flush()
    old = {s.indicator_code: s for s in specs_at(session, product.id, date(2025, 4, 2))}
    new = {s.indicator_code: s for s in specs_at(session, product.id, date(2030, 1, 1))}
    assert old["moisture"].upper_limit == D("6.5") and new["moisture"].upper_limit == D("6.0")
    later = make_sample(session, "xihu-longjing", datetime(2030, 4, 1, 9, tzinfo=SH))
    for s in (tea, later):
        add(session, s, "moisture", "6.2", "%")
    assert {i["code"]: i["outcome"] for i in check_sample_quality(session, tea).indicators}[
        "moisture"
    ] == "pass"
    assert {i["code"]: i["outcome"] for i in check_sample_quality(session, later).indicators}[
        "moisture"
    ] == "fail"
    early = make_sample(session, "xihu-longjing", datetime(2001, 4, 1, 9, tzinfo=SH))
    add(session, early, "moisture", "6.2", "%")
    verdict = check_sample_quality(session, early)
    assert verdict.outcome.value == "inconclusive" and verdict.indicators == []
    assert "no specification" in verdict.inputs["notes"][0]


def test_latest_retest_decides(session: Session, tea: Sample) -> None:
    first = add(session, tea, "moisture", "6.9", "%", day=date(2025, 4, 10))
    retest = add(session, tea, "moisture", "6.3", "%", lab="复检 Lab B", day=date(2025, 4, 20))
    row = {i["code"]: i for i in check_sample_quality(session, tea).indicators}["moisture"]
    assert row["outcome"] == "pass" and row["result_id"] == retest.id and first.id in row["result_ids"]


def test_grade_matching() -> None:
    assert grade_matches("雌蟹 (female)", "雌蟹") and grade_matches("雌蟹 (female)", "female")
    assert grade_matches("特级", "特级") and not grade_matches("特级", "特优")
