"""The ODK sample form: its XLSForm source builds with pyxform into the XForm that ODK Collect needs."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fixtures import gi
from pyxform.xls2xform import convert

from gi.errors import InputError
from gi.field.form import SAMPLE_FORM_SOURCE, SAMPLE_FORM_XLSX, build_form, sample_form

XF = "{http://www.w3.org/2002/xforms}"
JR = "{http://openrosa.org/javarosa}"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _binds() -> dict[str, dict[str, str]]:
    root = ElementTree.fromstring(sample_form().xml)
    return {b.get("nodeset", ""): dict(b.attrib) for b in root.iter(f"{XF}bind")}


def _controls() -> dict[str, ElementTree.Element]:
    body = ElementTree.fromstring(sample_form().xml).find("{http://www.w3.org/1999/xhtml}body")
    assert body is not None
    return {e.get("ref", ""): e for e in body.iter() if e.get("ref")}


def test_the_form_is_identified_versioned_and_needs_its_two_media_files() -> None:
    form = sample_form()
    assert form.form_id == "gi_sample"
    assert re.fullmatch(r"20\d{6}\d{2}", form.version), "version is YYYYMMDDNN, raised with every change"
    assert form.title == "地理标志产品抽样记录"
    assert form.media == ("tasks.csv", "products.csv")
    assert len(form.md5) == 32 and form.xml.startswith(b"<?xml")


def test_every_field_the_issue_asks_for_has_its_type() -> None:
    binds = _binds()
    controls = _controls()
    expected = {
        "/data/task": "string",
        "/data/product": "string",
        "/data/producer_name": "string",
        "/data/credit_code": "string",
        "/data/collected_at": "dateTime",
        "/data/location_source": "string",
        "/data/location": "geopoint",
        "/data/lot_number": "string",
        "/data/lot_size": "int",
        "/data/unit/seal_code": "barcode",
        "/data/photo_1": "binary",
        "/data/notes": "string",
    }
    for ref, kind in expected.items():
        assert binds[ref]["type"] == kind, ref
    for ref in ("/data/task", "/data/product", "/data/location", "/data/unit/seal_code", "/data/photo_1"):
        assert binds[ref].get("required") == "true()", f"{ref} is required"
    # The task and the product come from the media CSVs of the manifest (select_one_from_file).
    assert controls["/data/task"].find(f"{XF}itemset").get("nodeset") == "instance('tasks')/root/item"  # type: ignore[union-attr]
    assert controls["/data/product"].find(f"{XF}itemset").get("nodeset") == "instance('products')/root/item"  # type: ignore[union-attr]
    # The geopoint is accepted by Collect at 10 m and refused by the form past 50 m or at 0 (a mock location).
    location = controls["/data/location"]
    assert location.get("accuracyThreshold") == "10" and location.get("unacceptableAccuracyThreshold") == "50"
    assert "selected-at(., 3) > 0" in binds["/data/location"]["constraint"]
    # Seal codes are scanned, one per unit, and must look like the labels' codes.
    assert "GI-" in binds["/data/unit/seal_code"]["constraint"]
    body = ElementTree.fromstring(sample_form().xml).find("{http://www.w3.org/1999/xhtml}body")
    assert body is not None and body.find(f".//{XF}repeat[@nodeset='/data/unit']") is not None
    assert controls["/data/photo_1"].tag == f"{XF}upload"


def test_choosing_a_task_fills_product_producer_code_and_lot_size_from_its_row() -> None:
    root = ElementTree.fromstring(sample_form().xml)
    setvalues = {
        s.get("ref"): s.get("value")
        for s in root.iter(f"{XF}setvalue")
        if s.get("event") == "xforms-value-changed"
    }
    for ref, column in [
        ("/data/product", "product"),
        ("/data/producer_name", "producer"),
        ("/data/credit_code", "credit_code"),
        ("/data/lot_size", "lot_size"),
    ]:
        assert setvalues[ref].replace(" ", "") == f"instance('tasks')/root/item[name=/data/task]/{column}"


def test_every_label_and_hint_is_in_chinese() -> None:
    root = ElementTree.fromstring(sample_form().xml)
    texts = [
        "".join(e.itertext()).strip()
        for e in root.iter()
        if e.tag in (f"{XF}label", f"{XF}hint") and "".join(e.itertext()).strip()
    ]
    messages = [
        v for b in _binds().values() for k, v in b.items() if k in (f"{JR}requiredMsg", f"{JR}constraintMsg")
    ]
    assert len(texts) > 20 and len(messages) > 10
    for text in texts + messages:
        assert CJK.search(text), f"not Chinese: {text!r}"


def test_the_spreadsheet_in_the_repository_is_the_source_and_builds_the_same_xform() -> None:
    from_md = convert(str(SAMPLE_FORM_SOURCE)).xform
    from_xlsx = convert(str(SAMPLE_FORM_XLSX)).xform
    assert from_xlsx == from_md, (
        "gi_sample.xlsx is stale: run `gi forms build -o gi/field/forms` and remove the .xml"
    )


def test_a_broken_source_is_refused_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.md"
    text = SAMPLE_FORM_SOURCE.read_text(encoding="utf-8").replace(
        "| begin repeat | unit |", "| begin rpt | unit |"
    )
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        build_form(broken)
    assert info.value.field == "form" and "broken.md" in str(info.value)
    missing_version = tmp_path / "noversion.md"
    missing_version.write_text(
        SAMPLE_FORM_SOURCE.read_text(encoding="utf-8")
        .replace(f"| {sample_form().version} |", "| |")
        .replace("| version |", "| |"),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="version"):
        build_form(missing_version)


def test_gi_forms_build_writes_the_spreadsheet_and_the_xform(tmp_path: Path) -> None:
    result = gi(
        "postgresql://nobody@127.0.0.1:1/none", "forms", "build", "--out", str(tmp_path)
    )  # no database
    assert result.returncode == 0, result.stderr
    assert "gi_sample" in result.stdout and sample_form().version in result.stdout
    assert (tmp_path / "gi_sample.xml").read_bytes() == sample_form().xml
    assert convert(str(tmp_path / "gi_sample.xlsx")).xform == convert(str(SAMPLE_FORM_SOURCE)).xform
    assert not list(tmp_path.glob(".*.part")), "no half-written file is left"
