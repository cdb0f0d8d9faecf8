"""The Chinese PDF reports print no English prose: the campaign report, the public notice and inspection records
of a season with every kind of origin flag, evidence reason and quality decision rule, read back with pdftotext,
hold no run of three or more English words outside an allow-list (product names in pinyin and English). The
evidence reasons are stored with both wordings, and the English one (command line, logs) is unchanged."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import pdf_text, scratch_database
from sqlalchemy import select

from geo_data.register import load_register
from gi import clock
from gi import db as gi_db
from gi.quality.evidence import Effect, EvidenceItem, stored_items
from gi.quality.wording import CODES, FLAG_LABELS_ZH
from reports.texts import origin_rule_zh, quality_rule_zh, source_zh

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "reports"
SOURCE = "语言检查季"
TZ = ZoneInfo("Asia/Shanghai")
XIHU_INSIDE = (120.123812, 30.226843)  # 龙井村, 1.9 km inside 西湖区

# A word: letters only (inner hyphen or apostrophe allowed), not glued to a digit, slash, dot or dash, so that
# codes (GB/T 8170-2008, ILAC-G8:09/2019, mg/kg, WGS84, GI-SR-3F2A9C41) are not words.
_WORD = r"(?<![A-Za-z0-9/._\-])[A-Za-z]+(?:['’\-][A-Za-z]+)*(?![A-Za-z0-9/._\-])"
ENGLISH_RUN = re.compile(_WORD + r"(?:[\s,;:()]+" + _WORD + r"){2,}")


def allowed_phrases() -> list[str]:
    """What may appear in English: the products' pinyin and English names."""
    products = load_register().products
    return sorted({p.name_en for p in products} | {p.name_pinyin for p in products}, key=len, reverse=True)


def english_runs(text: str) -> list[str]:
    """Runs of 3+ English words in ``text`` (line breaks count as spaces), allowed phrases removed first."""
    for phrase in allowed_phrases():
        text = text.replace(phrase, " ")
    return [re.sub(r"\s+", " ", m.group(0)) for m in ENGLISH_RUN.finditer(text)]


def test_the_detector_finds_english_prose_only() -> None:
    assert english_runs("fingerprint not assessed: only 0 of") == ["fingerprint not assessed: only"]
    assert english_runs("GPS point inside the protected area (area version 1)") != []
    assert english_runs("GB/T 8170-2008 第4.3.1条 ILAC-G8:09/2019 4.2.1 mg/kg GI-SR-3F2A9C41-20BEC7") == []
    assert english_runs("模拟实验室 (simulated) GPS 精度 ICP-MS WGS84 坐标 Wuchang rice") == []


# ---------------------------------------------------------------- every reason, in both languages

EVERY_ITEM: list[EvidenceItem] = [
    EvidenceItem("gps", Effect.DOUBT, "gps_missing"),
    EvidenceItem(
        "gps",
        Effect.DOUBT,
        "gps_outside_entry_error",
        {"area_version": 1, "distance_m": -8_123_456.0, "band_m": 30.0, "position_suspect": True},
    ),
    EvidenceItem(
        "gps",
        Effect.DOUBT,
        "gps_outside_entry_error",
        {"area_version": 1, "distance_m": -420.0, "band_m": 30.0, "position_suspect": False},
    ),
    EvidenceItem(
        "gps",
        Effect.CONTRADICTS,
        "gps_outside",
        {"area_version": 2, "distance_m": -9849.4, "band_m": 30.0, "position_suspect": False},
    ),
    EvidenceItem(
        "gps",
        Effect.CONTRADICTS,
        "gps_outside",
        {"area_version": None, "distance_m": None, "band_m": 30.0, "position_suspect": False},
    ),
    EvidenceItem(
        "gps",
        Effect.DOUBT,
        "gps_band",
        {"area_version": 1, "distance_m": 11.2, "band_m": 30.0, "position_suspect": False},
    ),
    EvidenceItem(
        "gps",
        Effect.DOUBT,
        "gps_untrusted_inside",
        {"area_version": 1, "distance_m": 1859.0, "band_m": 30.0, "position_suspect": False},
    ),
    EvidenceItem(
        "gps",
        Effect.DOUBT,
        "gps_untrusted",
        {"area_version": 1, "distance_m": -120.0, "band_m": 150.0, "position_suspect": False},
    ),
    EvidenceItem(
        "gps",
        Effect.SUPPORTS,
        "gps_inside",
        {"area_version": 1, "distance_m": 1859.0, "band_m": 30.0, "position_suspect": False},
    ),
    *[EvidenceItem("gps", Effect.DOUBT, "gps_flag", {"flag": flag}) for flag in FLAG_LABELS_ZH],
    EvidenceItem(
        "fingerprint",
        Effect.NEUTRAL,
        "fingerprint_no_reference",
        {"product_code": "lianjiang-red-orange", "product_name_zh": "廉江红橙"},
    ),
    *[
        EvidenceItem(
            "fingerprint",
            Effect.NEUTRAL,
            "fingerprint_not_assessed",
            {"reason": "(the English reason)", "reason_code": code, "reason_params": params},
        )
        for code, params in [
            ("too_few_variables", {"measured": 1, "variables": ["d13C", "d15N", "Rb"], "needed": 2}),
            ("too_few_references", {"area_zh": "西湖龙井", "n": 20, "p": 6, "needed": 60}),
            ("too_few_after_screening", {"area_zh": "西湖龙井", "m": 7, "p": 6}),
            ("singular_covariance", {"area_zh": "西湖龙井", "variables": ["Rb", "K"]}),
            ("not_positive", {"variable": "Rb", "value": 0.0}),
            (None, {}),
        ]
    ],
    EvidenceItem(
        "fingerprint",
        Effect.SUPPORTS,
        "fingerprint_profile",
        {"consistent": True, "area_zh": "西湖龙井（龙井茶西湖产区）", "p_value": 0.43, "n_reference": 118},
    ),
    EvidenceItem(
        "fingerprint",
        Effect.CONTRADICTS,
        "fingerprint_profile",
        {
            "consistent": False,
            "area_zh": "安吉白茶（安吉县）",
            "p_value": 0.0024,
            "distance_sq": 23.7,
            "n_reference": 99,
            "deviations": [["Mn", -3.3], ["K", -1.5]],
            "best_other": {"area_zh": "西湖龙井（龙井茶西湖产区）", "p_value": 0.45, "fits": True},
        },
    ),
    EvidenceItem(
        "fingerprint",
        Effect.DOUBT,
        "fingerprint_profile",
        {
            "consistent": False,
            "area_zh": "五常大米（五常市）",
            "p_value": None,
            "distance_sq": None,
            "deviations": [],
            "best_other": {"area_zh": "宁夏枸杞", "p_value": 0.004, "fits": False},
        },
    ),
    EvidenceItem("fingerprint", Effect.NEUTRAL, "fingerprint_synthetic"),
    EvidenceItem(
        "photo", Effect.SUPPORTS, "photo_consistent", {"photo": 1, "limit_m": 100, "distance_m": 42}
    ),
    EvidenceItem("photo", Effect.DOUBT, "photo_far", {"photo": 2, "limit_m": 100, "distance_m": 2350}),
    EvidenceItem(
        "photo", Effect.DOUBT, "photo_other_day", {"photo": 1, "limit_m": 100, "taken_on": "2025-04-01"}
    ),
    EvidenceItem("photo", Effect.DOUBT, "photo_no_exif", {"photo": 3, "limit_m": 100}),
    EvidenceItem("photo", Effect.DOUBT, "photo_no_gps", {"photo": 1, "limit_m": 100}),
    EvidenceItem("photo", Effect.DOUBT, "photo_no_time", {"photo": 1, "limit_m": 100}),
]


def test_every_reason_code_has_both_wordings() -> None:
    assert {i.code for i in EVERY_ITEM} == set(CODES) - {"text"}
    for item in EVERY_ITEM:
        assert item.text and re.search(r"[\u4e00-\u9fff]", item.text_zh), item
        assert english_runs(item.text_zh) == [], (item.code, item.text_zh)
        stored = item.as_dict()
        assert (stored["text"], stored["text_zh"]) == (item.text, item.text_zh)
        assert EvidenceItem.from_dict(stored) == item


def test_english_wording_is_unchanged() -> None:
    """The command line keeps printing the English reasons as before codes existed."""
    inside, atypical, flag = (
        EVERY_ITEM[8],
        next(i for i in EVERY_ITEM if i.code == "fingerprint_profile" and i.effect is Effect.CONTRADICTS),
        EvidenceItem("gps", Effect.DOUBT, "gps_flag", {"flag": "swapped_lat_lon"}),
    )
    assert inside.text == "GPS point inside the protected area (area version 1, +1,859 m from the boundary)"
    assert inside.text_zh == "采样点位于第1版保护范围内（界内 1.86 千米）"
    assert atypical.text == (
        "isotope/element profile atypical for 安吉白茶（安吉县） (p = 2.4e-03, d² = 23.7); "
        "deviating most: Mn z -3.3, K z -1.5; fits 西湖龙井（龙井茶西湖产区） (p = 0.45)"
    )
    assert (
        flag.text == "GPS flag: latitude and longitude look swapped"
        and flag.text_zh == "定位标记：经纬度疑似颠倒"
    )
    assert "界外" not in EVERY_ITEM[1].text_zh  # a swapped position is a data error, not a distance
    legacy = EvidenceItem.from_dict({"source": "gps", "effect": "doubt", "text": "an old English reason"})
    assert legacy.code == "text" and legacy.text == "an old English reason"


def test_rules_in_chinese() -> None:
    from gi.origin.rule import RULE

    origin = origin_rule_zh(RULE)
    assert "带符号大地线距离" in origin and "产地判定规则第1版" in origin
    assert "origin/1" not in origin and english_runs(origin) == []  # the rule's version, not its code
    for kind, wording, clause in [
        ("simple_acceptance", "简单接受规则", "4.2.1"),
        ("guard_band", "保护带规则", "4.2.3"),
        ("guarded_acceptance", "保护带接受规则", "4.2.2"),
        ("guarded_rejection", "保护带拒绝规则", "JCGM 106"),
    ]:
        for comparison, method in [("full_value", "全数值比较法"), ("rounded_value", "修约值比较法")]:
            text = quality_rule_zh({"kind": kind, "guard_factor": "2", "comparison": comparison})
            assert wording in text and clause in text and method in text and "GB/T 8170-2008" in text
            assert english_runs(text) == [], text
            assert ("w = 2·U" in text) == (kind != "simple_acceptance")
    assert "ILAC-G8:09/2019" in quality_rule_zh(None)
    assert source_zh("demo season (seed 2024)") == "演示抽查季（模拟数据，随机种子 2024）"
    assert source_zh("samples.csv") == "samples.csv"
    assert source_zh("api") == "移动端上传（接口）"  # the JSON upload's label, never the bare word
    assert source_zh("odk:gi_sample@2026120101") == "ODK 移动采集（表单 gi_sample，版本 2026120101）"


# ---------------------------------------------------------------- a season in a database of its own


def crafted_rows(start: int) -> list[tuple[int, dict]]:
    """Samples made for the origin flags the simulated season does not raise by itself."""
    x, y = XIHU_INSIDE
    moment = datetime.combine(clock.today() - timedelta(days=5), time(10, 0), TZ)
    base = {
        "product": "xihu-longjing",
        "collected_at": moment,
        "crs": "WGS84",
        "gps_accuracy_m": 4.0,
        "location_source": "device_gps",
        "lot_size": 100,
        "notes": "定位标记检查",
    }
    cases = [
        {"gps_accuracy_m": 0.0},  # accuracy_zero (mock location)
        {"location_source": "map_pick"},  # not_gps_fix
        {"gps_accuracy_m": None},  # accuracy_missing
        {"gps_accuracy_m": 500.0},  # accuracy_poor
        {"x": 120.12, "y": 30.23},  # coarse_precision
        {"x": y, "y": x},  # swapped_lat_lon
        {"x": 10.52, "y": 50.11},  # outside_china
        {
            "product": "yixing-zisha",
            "x": 119.8,
            "y": 31.36,  # no_area_version (before 2014)
            "collected_at": datetime(2010, 5, 4, 10, 0, tzinfo=TZ),
        },
    ]
    rows = []
    for n, case in enumerate(cases):
        fields = {**base, "x": x, "y": y, "lot_number": f"LANG-{n:02d}", **case}
        rows.append((start + n, fields))
    return rows


@pytest.fixture(scope="module")
def season(db_url: str) -> Iterator[str]:
    """Register, synthetic directory, a simulated season (many fingerprints from other areas) plus crafted
    samples, lab results, one product per decision rule, and every verdict stored."""
    from demo.directories import create_synthetic_directory
    from demo.lab_results import simulate_results
    from demo.samples import simulate_season
    from gi.models import Sample
    from gi.origin.batch import record_samples
    from gi.quality.judge import check_samples, set_rule
    from gi.quality.lab import add_results
    from gi.register.loader import load_register_into_db

    with scratch_database(db_url, "gi_test_lang") as url:
        engine = gi_db.get_engine(url)
        with gi_db.session_scope(engine) as session:
            load_register_into_db(session)
            create_synthetic_directory(session, producers_per_product=6, seed=7)
        with gi_db.session_scope(engine) as session:
            simulated = simulate_season(session, seed=11, per_product=5)
            rows = [(i + 1, s.fields) for i, s in enumerate(simulated)]
            record_samples(session, rows + crafted_rows(len(rows) + 1), source=SOURCE)
        with gi_db.session_scope(engine) as session:
            set_rule(session, "xihu-longjing", "guard_band", guard_factor="1")
            set_rule(
                session, "anji-white-tea", "guarded_acceptance", guard_factor="1", comparison="rounded_value"
            )
            set_rule(session, "wuchang-rice", "guarded_rejection", guard_factor="2")
            samples = list(session.scalars(select(Sample).where(Sample.source == SOURCE).order_by(Sample.id)))
            lab_rows, _ = simulate_results(session, samples, seed=3, mismatch_share=0.4)
            # One sample of a product with references has no isotope/element results: fingerprint not assessed.
            untested = next(str(s.id) for s in samples if s.lot_number == "LANG-01")
            isotopes = {"d13C", "d15N", "Rb", "Mg", "K", "Mn"}
            lab_rows = [r for r in lab_rows if not (r.sample == untested and r.indicator in isotopes)]
            lab_rows = conditional_pass(session, samples, lab_rows)
            add_results(session, lab_rows, source="语言检查")
            check_samples(session, samples)
        yield url


def conditional_pass(session, samples, lab_rows):  # type: ignore[no-untyped-def]
    """The lab rows with one result of sample LANG-02 (xihu-longjing: guard band, w = u) moved inside a one-sided
    limit by less than its uncertainty: the value meets the limit, its interval straddles it ("conditional
    pass", 有条件合格). The simulated season gives one only by chance: its samples' UUIDs, and so its draws,
    follow the date it is run on."""
    from dataclasses import replace
    from decimal import Decimal

    from gi.quality.judge import collection_date, specs_at

    sample = next(s for s in samples if s.lot_number == "LANG-02")
    specs = specs_at(session, sample.product_id, collection_date(sample))
    for k, row in enumerate(lab_rows):
        if row.sample != str(sample.id) or row.censored:
            continue
        one_sided = [
            s
            for s in specs
            if s.indicator_code == row.indicator
            and s.grade in (None, row.grade)
            and (s.lower_limit is None) != (s.upper_limit is None)
        ]
        if one_sided:
            spec = one_sided[0]
            upper = spec.upper_limit is not None
            limit = Decimal(str(spec.upper_limit if upper else spec.lower_limit))
            inside = limit * Decimal("0.02") * (-1 if upper else 1)
            moved = replace(row, value=limit + inside, unit=spec.unit, uncertainty=abs(inside) * 3)
            return [*lab_rows[:k], moved, *lab_rows[k + 1 :]]
    raise AssertionError("LANG-02 has no result under a one-sided limit")


def _features(session, sample) -> set[str]:  # type: ignore[no-untyped-def]
    """What a sample's record shows: its evidence reason codes and flags, quality rule and statements."""
    from gi.models import OriginEvidence, QualityVerdict

    found: set[str] = set()
    evidence = session.scalars(select(OriginEvidence).where(OriginEvidence.sample_id == sample.id)).first()
    for item in stored_items(session, evidence) if evidence else []:
        found.add(f"flag:{item.params['flag']}" if item.code == "gps_flag" else item.code)
        if item.code == "fingerprint_profile":
            found.add("consistent" if item.params["consistent"] else "atypical")
    quality = session.scalars(select(QualityVerdict).where(QualityVerdict.sample_id == sample.id)).first()
    if quality is not None:
        found.add(f"rule:{quality.rule_config['kind']}:{quality.rule_config['comparison']}")
        found |= {f"statement:{i['statement']}" for i in quality.indicators}
    return found


REQUIRED = {
    "gps_inside",
    "gps_outside",
    "gps_band",
    "gps_untrusted_inside",
    "gps_outside_entry_error",
    "fingerprint_no_reference",
    "fingerprint_not_assessed",
    "fingerprint_synthetic",
    "consistent",
    "atypical",
    *(
        f"flag:{f}"
        for f in (
            "accuracy_zero",
            "not_gps_fix",
            "accuracy_missing",
            "accuracy_poor",
            "coarse_precision",
            "swapped_lat_lon",
            "outside_china",
            "no_area_version",
        )
    ),
    "rule:simple_acceptance:full_value",
    "rule:guard_band:full_value",
    "rule:guarded_acceptance:rounded_value",
    "rule:guarded_rejection:full_value",
    "statement:fail",
    "statement:not tested",
    "statement:conditional pass",
}


@pytest.mark.postgis
def test_reports_print_no_english_prose(season: str, tmp_path: Path) -> None:
    from gi.models import Sample
    from gi.reads.notice import season_notice
    from gi.reads.season import gather_season
    from reports.campaign import campaign_report
    from reports.data import SampleRecordData, gather_sample_record
    from reports.layout import ReportOptions
    from reports.notice import public_notice
    from reports.record import sample_record

    engine = gi_db.get_engine(season)
    options = ReportOptions(issuer="测试市场监督管理局")
    written: list[Path] = []
    covered: set[str] = set()
    with gi_db.session_scope(engine) as session:
        samples = list(
            session.scalars(select(Sample).where(Sample.source == SOURCE).order_by(Sample.collected_at))
        )
        # One record per sample that shows something no record before it showed.
        for sample in samples:
            features = _features(session, sample)
            if features - covered:
                covered |= features
                record = gather_sample_record(session, str(sample.id))
                written.append(sample_record(record, tmp_path / f"record_{record.code}.pdf", options).pdf)
        assert REQUIRED <= covered, sorted(REQUIRED - covered)
        moments = [s.collected_at.astimezone(TZ).date() for s in samples if s.collected_at.year > 2020]
        summary = gather_season(session, min(moments), max(moments))
        notice_content = season_notice(session, summary)
        written.append(campaign_report(summary, tmp_path / "campaign.pdf", options).pdf)
        written.append(public_notice(summary, tmp_path / "notice.pdf", options, notice_content).pdf)
        # Every wording of every reason, in one record of its own.
        record = gather_sample_record(session, str(samples[0].id))
    record.evidence_reasons = [i.text_zh for i in EVERY_ITEM]
    written.append(sample_record(record, tmp_path / "record_every_reason.pdf", options).pdf)
    assert isinstance(record, SampleRecordData)

    found = {path.name: english_runs(pdf_text(path)) for path in written}
    assert {name: runs for name, runs in found.items() if runs} == {}
    text = pdf_text(tmp_path / "campaign.pdf")
    assert "国家质检总局公告2004年第185号" in text and "not verified" not in text
    record_text = pdf_text(written[0])
    assert "判定规则" in record_text and "产地综合证据" in record_text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "50",
            "-png",
            "-f",
            "2",
            "-l",
            "3",
            str(tmp_path / "record_every_reason.pdf"),
            str(ARTIFACTS / "record_every_reason"),
        ],
        check=True,
    )
