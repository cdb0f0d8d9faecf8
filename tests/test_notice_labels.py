"""What a public notice prints of a sample (issue 15, item 1): the labelled producer (标称生产企业) and its
address, the sampled unit (被抽样单位) and its address, the specification (规格型号) and the production date
(生产日期) are entered with the sample, from a file (Chinese headers), a JSON upload and an ODK submission,
stored with it, part of its content, and printed on the notice and on the inspection record. A sample taken at
the producer (生产环节) names the producer as the sampled unit rather than leaving it blank."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from api.routes.samples import SampleUpload
from gi import db as gi_db
from gi.errors import ConflictError
from gi.field.receive import Submitter
from gi.field.submission import read_submission, sample_fields
from gi.models import Sample, SampledAt
from gi.origin.files import check_sample_file
from gi.origin.intake import record_sample
from gi.reads.notice import season_notice
from gi.reads.season import gather_season
from reports.data import gather_sample_record
from reports.layout import ReportOptions
from reports.notice import public_notice
from reports.record import sample_record

pytestmark = pytest.mark.postgis

OPTIONS = ReportOptions(issuer="宁波市市场监督管理局", product_maps=False)
DAY = date(2026, 4, 20)
# Ningbo: outside 西湖龙井's protected area, inside China, far from any boundary: a final 不合格 (产地不符), so
# the sample is listed in the notice's table of non-conforming products, which has every column.
CSV = (
    "地理标志产品,采样时间,经度,纬度,批号,标称生产企业,标称生产企业地址,抽样环节,被抽样单位,被抽样单位地址,"
    "规格型号,生产日期\n"
    "西湖龙井,2026/4/20 9:40,121.5501,29.8702,NB-0420-1,杭州龙坞茶叶有限公司,浙江省杭州市西湖区龙坞镇,"
    "流通环节,宁波鼓楼茶城甲号茶行,浙江省宁波市海曙区鼓楼步行街,250 g/罐,2026年3月28日\n"
)
JSON = {
    "id": "0d9b1c6e-7a41-4c55-9a40-2f1c4ad0e101",
    "product": "xihu-longjing",
    "collected_at": "2026-04-20T10:15:00+08:00",
    "x": 121.5602,
    "y": 29.8801,
    "lot_number": "NB-0420-2",
    "labelled_producer": "宁波四明山茶场",
    "labelled_address": "浙江省宁波市海曙区章水镇",
    "sampled_at": "producer",  # taken at the farm: the farm is the sampled unit
    "specification": "500 g/袋",
    "production_date": "2026-04-02",
}
ODK = """<data xmlns:jr="http://openrosa.org/javarosa" id="gi_sample" version="2026120302">
  <task>1</task><product>xihu-longjing</product><subject_kind>outlet</subject_kind>
  <producer_name>宁波天一广场乙号茶庄</producer_name><outlet_address>浙江省宁波市海曙区中山东路</outlet_address>
  <collected_at>2026-04-20T11:05:00.000+08:00</collected_at><location_source>device_gps</location_source>
  <location>29.8751 121.5503 12.0 4.5</location><lot_number>NB-0420-3</lot_number><lot_size>40</lot_size>
  <labelled_producer>杭州梅家坞茶业有限公司</labelled_producer>
  <labelled_address>浙江省杭州市西湖区梅家坞村</labelled_address>
  <specification>100 g/盒</specification><production_date>2026-04-05</production_date>
  <meta><instanceID>uuid:5b0f3d0e-2c8a-4d7e-b0a9-6f1b2c3d4e05</instanceID></meta>
</data>"""


def pdf_text(path: Path) -> str:
    """The text of a PDF as pdftotext reads it in content order (-raw): a table cell's lines stay together."""
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def printed(value: str, text: str) -> bool:
    """True when ``value`` is printed in ``text``, whole or wrapped across a table cell's lines: in pieces of
    two characters or more (the lines of a cell are read back between the lines of the cells beside it)."""
    while value:
        k = len(value)
        while k and value[:k] not in text:
            k -= 1
        if k < min(2, len(value)):
            return False
        value = value[k:]
    return True


@pytest.fixture
def labelled(register_copy: str, tmp_path: Path) -> Iterator[Engine]:
    """Three samples that carried their labels in: a CSV file, a JSON upload and an ODK submission."""
    engine = gi_db.get_engine(register_copy)
    path = tmp_path / "抽样.csv"
    path.write_text(CSV, encoding="utf-8")
    with engine.connect() as connection:
        summary = check_sample_file(connection, path)
    assert summary.stored == 1, summary
    with gi_db.session_scope(engine) as session:
        body = SampleUpload.model_validate(JSON)
        record_sample(session, body.model_dump(exclude={"seal_codes"}))
        fields = sample_fields(read_submission(ODK.encode()), Submitter("inspector1"))
        fields.pop("task_id")  # the task and its seals are test_field_odk's; here only what the notice prints
        record_sample(session, fields)
    yield engine


def test_label_fields_are_stored_and_printed_on_the_notice_and_the_record(
    labelled: Engine, tmp_path: Path
) -> None:
    with gi_db.session_scope(labelled) as session:
        stored = {s.lot_number: s for s in session.scalars(select(Sample))}
        assert stored["NB-0420-1"].sampled_at is SampledAt.OUTLET
        assert stored["NB-0420-1"].production_date == date(2026, 3, 28)  # 2026年3月28日 in the file
        assert (
            stored["NB-0420-2"].sampled_at is SampledAt.PRODUCER and stored["NB-0420-2"].outlet_name is None
        )
        assert stored["NB-0420-3"].outlet_name == "宁波天一广场乙号茶庄"
        assert stored["NB-0420-3"].specification == "100 g/盒"
        summary = gather_season(session, DAY, DAY, ["xihu-longjing"])
        notice = season_notice(session, summary)
        records = {lot: gather_sample_record(session, str(s.id)) for lot, s in stored.items()}
    assert len(notice.of("不合格")) == 3, [(r.number, r.result, r.remark) for r in notice.rows]
    text = re.sub(r"\s+", "", pdf_text(public_notice(summary, tmp_path / "notice.pdf", OPTIONS, notice).pdf))
    failures = text.split("二、不合格产品信息")[1].split("三、")[0]
    expected = [
        # 标称生产企业, its address, 被抽样单位, its address, 规格型号, 生产日期
        (
            "杭州龙坞茶叶有限公司",
            "浙江省杭州市西湖区龙坞镇",
            "宁波鼓楼茶城甲号茶行",
            "浙江省宁波市海曙区鼓楼步行街",
        ),
        ("宁波四明山茶场", "浙江省宁波市海曙区章水镇", "宁波四明山茶场", "浙江省宁波市海曙区章水镇"),
        (
            "杭州梅家坞茶业有限公司",
            "浙江省杭州市西湖区梅家坞村",
            "宁波天一广场乙号茶庄",
            "浙江省宁波市海曙区中山东路",
        ),
    ]
    for row in notice.of("不合格"):
        assert row.labelled_producer != "—" and row.sampled_unit != "—" and row.specification != "—"
        assert "未登记经营者" not in row.sampled_unit  # every unit was recorded with its sample
    for maker, maker_address, unit, unit_address in expected:
        for value in (maker, maker_address, unit, unit_address):
            assert printed(value, failures), value
    for spec, made in (("250g/罐", "2026-03-28"), ("500g/袋", "2026-04-02"), ("100g/盒", "2026-04-05")):
        assert printed(spec, failures) and made in failures, (spec, made)
    assert "NB-0420-1" in failures  # 生产日期／批号
    # The farm sample names the farm as the sampled unit (and as the labelled producer): never a blank.
    farm = next(r for r in notice.of("不合格") if r.specification == "500 g/袋")
    assert (farm.sampled_unit, farm.sampled_address) == ("宁波四明山茶场", "浙江省宁波市海曙区章水镇")
    # The inspection record prints the same.
    record = records["NB-0420-3"]
    page = re.sub(r"\s+", "", pdf_text(sample_record(record, tmp_path / "record.pdf", OPTIONS).pdf))
    for value in ("杭州梅家坞茶业有限公司", "宁波天一广场乙号茶庄", "100g/盒", "2026-04-05", "流通环节"):
        assert printed(value, page), value
    assert records["NB-0420-2"].sampled_unit == "宁波四明山茶场"
    assert records["NB-0420-2"].sampled_at.startswith("生产环节")


def test_a_different_label_on_a_returning_uuid_is_a_conflict(labelled: Engine) -> None:
    with gi_db.session_scope(labelled) as session:
        again = SampleUpload.model_validate(JSON)
        record_sample(session, again.model_dump(exclude={"seal_codes"}))  # the same content: a no-op
        other = SampleUpload.model_validate({**JSON, "specification": "250 g/袋"})
        with pytest.raises(ConflictError) as caught:
            record_sample(session, other.model_dump(exclude={"seal_codes"}))
    assert caught.value.differences is not None and set(caught.value.differences) == {"specification"}


def test_a_label_without_uuid_is_part_of_the_content_identity(labelled: Engine) -> None:
    """Two packages of different labels taken at one stall in the same minute are two samples."""
    base = {k: v for k, v in JSON.items() if k != "id"}
    with gi_db.session_scope(labelled) as session:
        first = record_sample(session, base)
        second = record_sample(session, {**base, "labelled_producer": "宁波福泉山茶场"})
        unlabelled = record_sample(
            session, {k: v for k, v in base.items() if k not in ("labelled_producer", "labelled_address")}
        )
    assert first.created and second.created and first.sample_id != second.sample_id
    assert unlabelled.sample_id not in (first.sample_id, second.sample_id)
    assert isinstance(first.sample_id, uuid.UUID)


def test_a_production_date_after_collection_is_refused_naming_the_field() -> None:
    from gi.errors import InputError
    from gi.origin.fields import parse_sample, validate_row

    late = {**JSON, "production_date": "2026年4月21日"}
    for check in (parse_sample, validate_row):
        with pytest.raises(InputError) as caught:
            check(late)
        assert caught.value.field == "production_date" and "after the collection date" in caught.value.problem
    with pytest.raises(InputError) as caught:
        validate_row({**JSON, "sampled_at": "warehouse"})
    assert caught.value.field == "sampled_at"
