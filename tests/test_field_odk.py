"""ODK Collect's way, with ODK's own form engine: @getodk/xforms-engine (Node, jsdom) downloads the form list,
the XForm built by pyxform and the caller's media, fills the form, prepares the payload chunked by size, and
posts it to the running service as Collect does (HEAD, then one POST per chunk). The cases of ODK Central's
submission tests follow: identical XML tops up attachments, different XML is 409, bad requests are refused in
an OpenRosaResponse that Collect shows.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from gi import db as gi_db
from gi.field.form import sample_form
from gi.field.seals import issue_seal_codes, new_code
from gi.models import (
    OdkAttachment,
    OdkSubmission,
    OriginEvidence,
    OriginVerdictRecord,
    Plan,
    PlanTask,
    Sample,
    SampledAt,
    SamplePhoto,
    SealCode,
    TaskInspector,
    TaskStatus,
)
from gi.origin.photos import media_path
from sampling.planning import create_plan, draw_plan
from tests.field_fixtures import FIELD_COMMITTED, FIELD_LOTTERY, FIELD_REVEALED
from tests.service_fixtures import PASSWORD, Service, service_database, start_service

ODK_DIR = Path(__file__).resolve().parent / "odk"
NS = {"or": "http://openrosa.org/http/response"}
pytestmark = pytest.mark.postgis


def _node() -> str:
    """Node 20.19+ with the engine installed; absent Node skips the tests, except in CI, where it fails."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI must run the ODK engine test: install Node 20 (see scripts/setup.sh)", pytrace=False
            )
        pytest.skip("Node is not installed: the ODK engine test needs Node 20.19 or newer")
    if not (ODK_DIR / "node_modules" / "@getodk" / "xforms-engine").is_dir():
        pytest.fail(
            "ODK's engine is not installed: run bash scripts/setup.sh (npm ci in tests/odk)", pytrace=False
        )
    return node


@pytest.fixture(scope="module")
def field_service(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str]]:
    """The service on a database of its own with a drawn plan, an inspector account and a supervisor's."""
    from gi.accounts.users import add_user

    with service_database(db_url, prefix="gi_odk", producers=4, inspectors=12) as url:
        with gi_db.session_scope(gi_db.get_engine(url)) as s:
            create_plan(
                s,
                "ODK-1",
                "ODK 采集测试",
                date(2026, 11, 1),
                date(2026, 12, 31),
                rounds=1,
                lot_size=20,
                announcement=FIELD_LOTTERY,
                committed_at=FIELD_COMMITTED,
            )
            draw_plan(
                s,
                "ODK-1",
                "odk engine test",
                FIELD_LOTTERY.source,
                FIELD_LOTTERY.draw_at,
                revealed_at=FIELD_REVEALED,
            )
            task = s.scalars(
                select(PlanTask).join(Plan).where(Plan.code == "ODK-1").order_by(PlanTask.id)
            ).first()
            assert task is not None
            lead = task.inspectors[0]
            add_user(s, "inspector1", "inspector", PASSWORD, inspector=lead.code)
            add_user(s, "super1", "supervisor", PASSWORD, regions=[task.county_code[:2] + "0000"])
            issue_seal_codes(s, task.plan)
        media = tmp_path_factory.mktemp("media")
        service = start_service(url, env={"GI_API_BASIC_OVER_HTTP": "true"}, media_dir=media)
        try:
            yield service, url
        finally:
            service.process.terminate()
            service.process.wait(timeout=30)


def _jpeg(seed: int, side: int) -> bytes:
    """A real JPEG of noise (incompressible, so its size is known): ``side`` pixels square."""
    import numpy as np

    pixels = np.random.default_rng(seed).integers(0, 255, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def _collect(
    service: Service, steps: list[dict[str, Any]], max_size: int, read_back: list[str]
) -> dict[str, Any]:
    job = {
        "server": f"{service.url}/odk",
        "username": "inspector1",
        "password": PASSWORD,
        "formId": "gi_sample",
        "maxSize": max_size,
        "steps": steps,
        "readBack": read_back,
    }
    run = subprocess.run(
        [_node(), "collect.mjs"],
        cwd=ODK_DIR,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:] + "\nserver log:\n" + service.log_text()[-4000:]
    return json.loads(run.stdout)


def _message(body: str) -> str:
    node = ElementTree.fromstring(body).find("or:message", NS)
    assert node is not None, body
    return node.text or ""


def _codes_of_task(url: str, task_id: int) -> list[str]:
    with gi_db.session_scope(gi_db.get_engine(url)) as s:
        return list(
            s.scalars(select(SealCode.code).where(SealCode.task_id == task_id).order_by(SealCode.unit_number))
        )


def _my_task(url: str) -> PlanTask:
    with gi_db.session_scope(gi_db.get_engine(url)) as s:
        from gi.accounts.users import find_user

        user = find_user(s, "inspector1")
        task = s.scalars(
            select(PlanTask)
            .where(PlanTask.assignments.any(TaskInspector.inspector_id == user.inspector_id))
            .order_by(PlanTask.id)
        ).first()
        assert task is not None
        s.expunge(task)
        return task


def test_the_odk_engine_fills_the_form_and_posts_it_in_chunks_with_photos(
    field_service: tuple[Service, str], tmp_path: Path
) -> None:
    service, url = field_service
    task = _my_task(url)
    codes = _codes_of_task(url, task.id)
    photos = []
    for i in (1, 2):
        path = tmp_path / f"photo{i}.jpg"
        path.write_bytes(_jpeg(i, 260))
        photos.append(path)
    size = max(p.stat().st_size for p in photos)
    steps = [
        {"ref": "/data/task", "value": str(task.id)},
        {"ref": "/data/location", "value": "30.2458 120.1107 35.5 4.8"},
        {"ref": "/data/lot_number", "value": "LJ-20261120-03"},
        {"ref": "/data/unit", "addRepeat": 1},
        {"ref": "/data/unit[1]/seal_code", "value": codes[0]},
        {"ref": "/data/unit[2]/seal_code", "value": codes[1]},
        {
            "ref": "/data/photo_1",
            "file": {"path": str(photos[0]), "name": "photo1.jpg", "type": "image/jpeg"},
        },
        {
            "ref": "/data/photo_2",
            "file": {"path": str(photos[1]), "name": "photo2.jpg", "type": "image/jpeg"},
        },
        {"ref": "/data/labelled_producer", "value": "杭州龙坞茶叶有限公司"},
        {"ref": "/data/specification", "value": "250 g/罐"},
        {"ref": "/data/production_date", "value": "2026-03-28"},
        {"ref": "/data/notes", "value": "样品两件，已现场封样。"},
    ]
    result = _collect(
        service,
        steps,
        max_size=size + 6000,  # room for one photo and the XML per POST: Collect's split into two POSTs
        read_back=["/data/product", "/data/producer_name", "/data/credit_code", "/data/lot_size"],
    )
    # The form list, XForm, manifest and both media files were fetched after the Basic challenge.
    statuses = [(e["method"], e["url"].rsplit("/odk", 1)[-1], e["status"]) for e in result["log"]]
    assert statuses[0] == ("GET", "/formList", 401) and "challenge" in result["log"][0]
    assert ("GET", "/formList", 200) in statuses and ("GET", "/forms/gi_sample.xml", 200) in statuses
    assert ("GET", "/forms/gi_sample/attachments/tasks.csv", 200) in statuses
    assert str(task.id) in result["media"]["tasks.csv"]
    # Choosing the task filled product, producer, credit code and lot size from the inspector's task list.
    values = result["values"]
    with gi_db.session_scope(gi_db.get_engine(url)) as s:
        fresh = s.get(PlanTask, task.id)
        assert fresh is not None
        assert values["/data/product"] == fresh.product.code
        assert values["/data/producer_name"] == fresh.producer.name
        assert values["/data/credit_code"] == fresh.producer.credit_code
        assert values["/data/lot_size"] == str(fresh.lot_size)
    assert values["/data/location"].split()[:2] == ["30.2458", "120.1107"]
    # HEAD, then the payload in two POSTs, each with the same XML and one photo; both 201.
    assert result["head"] == {
        "status": 204,
        "openRosaVersion": "1.0",
        "acceptContentLength": str(32 * 1024 * 1024),
    }
    assert result["payloadStatus"] == "ready", result["violations"]
    chunks = result["chunks"]
    assert len(chunks) == 2 and all(c["status"] == 201 for c in chunks), chunks
    assert all("xml_submission_file" in c["parts"] for c in chunks)
    assert sorted(p for c in chunks for p in c["parts"] if p != "xml_submission_file") == [
        "photo1.jpg",
        "photo2.jpg",
    ]
    first, last = _message(chunks[0]["body"]), _message(chunks[1]["body"])
    assert "产地核验" in first and "待上传照片" in first
    assert "照片 2 张已全部收到" in last and codes[0] in last
    # The sample is stored with its verdict, its seal codes and both photos, from the exact XML.
    instance = ElementTree.fromstring(result["instanceXml"])
    instance_id = next(e.text for e in instance.iter() if e.tag.endswith("instanceID"))
    with gi_db.session_scope(gi_db.get_engine(url)) as s:
        submission = s.get(OdkSubmission, instance_id)
        assert submission is not None and submission.xml == result["instanceXml"].encode("utf-8")
        sample = s.get(Sample, submission.sample_id)
        assert sample is not None and sample.task_id == task.id and sample.gps_accuracy_m == 4.8
        assert sample.submitted_x == 120.1107 and sample.submitted_y == 30.2458
        # What the notice prints: taken at the task's producer (the form's default), with the label as entered.
        assert sample.sampled_at is SampledAt.PRODUCER and sample.outlet_name == values["/data/producer_name"]
        assert (sample.labelled_producer, sample.specification) == ("杭州龙坞茶叶有限公司", "250 g/罐")
        assert sample.production_date == date(2026, 3, 28)
        assert str(sample.id) == instance_id.removeprefix("uuid:")
        assert s.scalars(
            select(OriginVerdictRecord).where(OriginVerdictRecord.sample_id == sample.id)
        ).first()
        assert set(s.scalars(select(SealCode.code).where(SealCode.sample_id == sample.id))) == set(codes[:2])
        stored = {
            a.name: a.sha256
            for a in s.scalars(select(OdkAttachment).where(OdkAttachment.instance_id == instance_id))
        }
        # The photos are the sample's photos in the one photo store, EXIF cross-checked (these have no EXIF).
        kept = list(s.scalars(select(SamplePhoto).where(SamplePhoto.sample_id == sample.id)))
        assert sorted(p.sha256 for p in kept) == sorted(stored.values())
        assert all(p.flags == ["photo_no_exif"] and p.uploaded_by == "inspector1" for p in kept)
        evidence = s.scalars(
            select(OriginEvidence).where(OriginEvidence.sample_id == sample.id).order_by(OriginEvidence.id)
        ).all()
        assert evidence and "photo_no_exif" in json.dumps(
            evidence[-1].reasons, default=str, ensure_ascii=False
        )
        # The task is sampled now that its sample has arrived.
        fresh_task = s.get(PlanTask, task.id)
        assert fresh_task is not None and fresh_task.status is TaskStatus.SAMPLED
    assert stored == {
        f"photo{i}.jpg": hashlib.sha256(p.read_bytes()).hexdigest()
        for i, p in zip((1, 2), photos, strict=True)
    }
    for digest in stored.values():
        assert media_path(service.media_dir, digest).read_bytes()
    _on_the_dashboard_map(service, instance_id.removeprefix("uuid:"), 120.1107, 30.2458)
    _repeat_posts(service, result["instanceXml"], photos[0])


def _on_the_dashboard_map(service: Service, sample_id: str, lon: float, lat: float) -> None:
    """The region's supervisor finds the submitted sample on the dashboard map's point tile (its code and
    verdict class are in the vector tile) and its record page shows the origin verdict."""
    import math

    z = 14
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    code = sample_id.replace("-", "")[:8].upper()
    with service.client(service.sign_in("super1")) as c:
        tile = c.get(f"/dashboard/tiles/samples/{z}/{x}/{y}.mvt")
        record = c.get(f"/dashboard/samples/{sample_id}", headers={"Accept": "text/html"})
    assert tile.status_code == 200 and code.encode() in tile.content
    assert any(v in tile.content for v in (b"inside", b"uncertain", b"outside"))
    assert record.status_code == 200 and 'id="origin-verdict"' in record.text and code in record.text


def _repeat_posts(service: Service, xml: str, photo: Path) -> None:
    """ODK Central's cases on the same instanceID: identical XML is 201 again, different XML is 409."""
    auth = ("inspector1", PASSWORD)
    headers = {"X-OpenRosa-Version": "1.0"}
    with httpx.Client(base_url=f"{service.url}/odk", auth=auth, headers=headers, timeout=30) as c:
        again = c.post("/submission", files={"xml_submission_file": ("data.xml", xml, "text/xml")})
        assert again.status_code == 201 and "已补充上传" in _message(again.text)
        changed = xml.replace("LJ-20261120-03", "LJ-20261120-04")
        conflict = c.post("/submission", files={"xml_submission_file": ("data.xml", changed, "text/xml")})
        # Collect shows the message to the inspector: Chinese, as every OpenRosa answer (Content-Language: zh).
        assert conflict.status_code == 409 and "内容不同" in _message(conflict.text)
        assert conflict.headers["content-language"] == "zh"
        assert conflict.headers["x-openrosa-version"] == "1.0"


def test_a_seal_code_is_accepted_once_and_a_reused_or_unknown_code_is_refused(
    field_service: tuple[Service, str], tmp_path: Path
) -> None:
    service, url = field_service
    task = _my_task(url)
    codes = _codes_of_task(url, task.id)
    photo = tmp_path / "p.jpg"
    photo.write_bytes(_jpeg(7, 64))

    def steps(code: str) -> list[dict[str, Any]]:
        return [
            {"ref": "/data/task", "value": str(task.id)},
            {"ref": "/data/location", "value": "30.2458 120.1107 35.5 4.8"},
            {"ref": "/data/lot_number", "value": f"LOT-{uuid.uuid4().hex[:6]}"},
            {"ref": "/data/unit[1]/seal_code", "value": code},
            {"ref": "/data/photo_1", "file": {"path": str(photo), "name": "p.jpg", "type": "image/jpeg"}},
        ]

    once = _collect(service, steps(codes[-1]), 10_000_000, [])
    assert [c["status"] for c in once["chunks"]] == [201], once["chunks"]
    twice = _collect(service, steps(codes[-1]), 10_000_000, [])
    assert [c["status"] for c in twice["chunks"]] == [409]
    assert "already used" in _message(twice["chunks"][0]["body"])
    unknown = _collect(service, steps(new_code()), 10_000_000, [])
    assert unknown["chunks"][0]["status"] == 422 and "not a registered seal code" in _message(
        unknown["chunks"][0]["body"]
    )


def test_openrosa_protocol_answers_as_odk_central_does(field_service: tuple[Service, str]) -> None:
    service, _ = field_service
    auth = ("inspector1", PASSWORD)
    with httpx.Client(base_url=f"{service.url}/odk", timeout=30) as c:
        anonymous = c.head("/submission", headers={"X-OpenRosa-Version": "1.0"})
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].lower().startswith(
            "basic"
        )
        assert c.head("/submission", auth=auth).status_code == 400  # no X-OpenRosa-Version
        wrong = c.head(
            "/submission", auth=("inspector1", "wrong password"), headers={"X-OpenRosa-Version": "1.0"}
        )
        assert wrong.status_code == 401
        h = {"X-OpenRosa-Version": "1.0"}
        no_xml = c.post(
            "/submission", auth=auth, headers={**h, "Content-Type": "text/xml"}, content=b"<data/>"
        )
        assert no_xml.status_code == 400 and "xml_submission_file" in _message(no_xml.text)
        bad = c.post(
            "/submission",
            auth=auth,
            headers=h,
            files={"xml_submission_file": ("d.xml", b"<test", "text/xml")},
        )
        assert bad.status_code == 422 and "well-formed" in _message(bad.text)
        other = c.post(
            "/submission",
            auth=auth,
            headers=h,
            files={
                "xml_submission_file": (
                    "d.xml",
                    b'<data id="nonexistent"><meta><instanceID>x</instanceID></meta></data>',
                    "text/xml",
                )
            },
        )
        assert other.status_code == 404
        old = f'<data id="gi_sample" version="1"><meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>'
        stale = c.post(
            "/submission", auth=auth, headers=h, files={"xml_submission_file": ("d.xml", old, "text/xml")}
        )
        assert stale.status_code == 404 and sample_form().version in _message(stale.text)
        listing = c.get("/formList", auth=auth, headers=h)
        assert listing.status_code == 200 and f"md5:{sample_form().md5}" in listing.text
        assert c.get("/formList", auth=auth).status_code == 400


def test_a_supervisor_downloads_the_label_sheet_of_his_region(
    field_service: tuple[Service, str], tmp_path: Path
) -> None:
    service, url = field_service
    task = _my_task(url)
    province = task.county_code[:2]
    with gi_db.session_scope(gi_db.get_engine(url)) as s:
        mine = set(
            s.scalars(
                select(SealCode.code)
                .join(PlanTask)
                .join(Plan)
                .where(Plan.code == "ODK-1", PlanTask.county_code.startswith(province))
            )
        )
        others = set(
            s.scalars(
                select(SealCode.code)
                .join(PlanTask)
                .join(Plan)
                .where(Plan.code == "ODK-1", ~PlanTask.county_code.startswith(province))
            )
        )
    with service.client(service.sign_in("super1")) as c:
        sheet = c.post("/plans/ODK-1/labels")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf"
    assert "ODK-1-labels.pdf" in sheet.headers["content-disposition"]
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(sheet.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    printed = {code for code in mine | others if code in text}
    assert printed == mine, "the sheet holds the codes of his region's tasks and no others"
    with service.client(service.sign_in("inspector1")) as c:
        assert c.post("/plans/ODK-1/labels").status_code == 403


def _instance(task: PlanTask, product: str, location: str, seal: str, photo: str = "p.jpg") -> str:
    """An instance XML of the sample form, as Collect sends it."""
    form = sample_form()
    return (
        f'<data id="{form.form_id}" version="{form.version}"><task>{task.id}</task><product>{product}</product>'
        "<subject_kind>producer</subject_kind><collected_at>2026-11-20T10:00:00.000+08:00</collected_at>"
        f"<location_source>device_gps</location_source><location>{location}</location>"
        f"<lot_number>LOT-{uuid.uuid4().hex[:6]}</lot_number><lot_size>20</lot_size>"
        f"<unit><seal_code>{seal}</seal_code></unit><photo_1>{photo}</photo_1>"
        f"<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>"
    )


def _post_xml(service: Service, user: str, xml: str, photo: bytes | None = None) -> httpx.Response:
    files: dict[str, tuple[str, bytes | str, str]] = {"xml_submission_file": ("data.xml", xml, "text/xml")}
    if photo is not None:
        files["p.jpg"] = ("p.jpg", photo, "image/jpeg")
    with httpx.Client(base_url=f"{service.url}/odk", timeout=30) as c:
        return c.post(
            "/submission", auth=(user, PASSWORD), headers={"X-OpenRosa-Version": "1.0"}, files=files
        )


def test_a_swapped_geopoint_is_accepted_and_flagged_and_one_out_of_range_is_refused(
    field_service: tuple[Service, str],
) -> None:
    """Latitude and longitude swapped are kept and flagged, as POST /samples does (with a photo whose EXIF has a
    position it was a 500); a geopoint out of range either way is refused naming ``location``."""
    from sqlalchemy import func

    from gi.models import GIProduct, ProductionArea

    service, url = field_service
    task = _my_task(url)
    codes = _codes_of_task(url, task.id)
    assert len(codes) >= 4, "the first tests use codes[0], codes[1] and codes[-1]"
    with gi_db.session_scope(gi_db.get_engine(url)) as s:
        product, lon, lat = s.execute(
            select(
                GIProduct.code,
                func.ST_X(func.ST_PointOnSurface(ProductionArea.geom)),
                func.ST_Y(func.ST_PointOnSurface(ProductionArea.geom)),
            )
            .join(ProductionArea, ProductionArea.product_id == GIProduct.id)
            .where(GIProduct.id == task.product_id, ProductionArea.valid_to.is_(None))
        ).one()
    photo = (Path(__file__).resolve().parent.parent / "examples" / "photo.jpg").read_bytes()  # EXIF GPS
    swapped = _post_xml(
        service, "inspector1", _instance(task, product, f"{lon:.6f} {lat:.6f} 12.0 8.0", codes[-2]), photo
    )
    assert swapped.status_code == 201, swapped.text + service.log_text()[-3000:]
    assert "经纬度疑似颠倒" in _message(swapped.text)
    with gi_db.session_scope(gi_db.get_engine(url)) as s:
        stored = s.scalars(select(SealCode).where(SealCode.code == codes[-2])).one()
        verdict = s.scalars(
            select(OriginVerdictRecord).where(OriginVerdictRecord.sample_id == stored.sample_id)
        ).one()
        assert "swapped_lat_lon" in (verdict.flags or [])
        kept = s.scalars(select(SamplePhoto).where(SamplePhoto.sample_id == stored.sample_id)).one()
        assert kept.distance_m is not None and kept.distance_m == kept.distance_m  # measured, not NaN
    for location in ("200.5 300.25 12.0 8.0", "95.0 95.0 12.0 8.0", "nan 120.1 0 5"):
        refused = _post_xml(service, "inspector1", _instance(task, product, location, codes[-3]), photo)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("text/xml")
        assert "location" in _message(refused.text) and "填写有误" in _message(refused.text)
    assert "Traceback" not in service.log_text()


def test_a_supervisor_may_not_submit_a_sample_through_odk(field_service: tuple[Service, str]) -> None:
    """POST /samples is for inspectors; the ODK door follows the same rule, answered in OpenRosa XML."""
    service, url = field_service
    task = _my_task(url)
    codes = _codes_of_task(url, task.id)
    instance = _instance(task, "xihu-longjing", "30.2458 120.1107 35.5 4.8", codes[-3])
    refused = _post_xml(service, "super1", instance)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/xml")
    assert "抽样人员" in _message(refused.text) and refused.headers["x-openrosa-version"] == "1.0"
    instance_id = ElementTree.fromstring(instance).find("meta/instanceID")
    assert instance_id is not None
    with gi_db.session_scope(gi_db.get_engine(url)) as s:
        assert s.get(OdkSubmission, instance_id.text) is None
    with httpx.Client(base_url=f"{service.url}/odk", timeout=30) as c:  # the pre-flight stays open to him
        head = c.head("/submission", auth=("super1", PASSWORD), headers={"X-OpenRosa-Version": "1.0"})
    assert head.status_code == 204


def test_an_openrosa_body_over_the_limit_and_a_failure_are_openrosa_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A body over the limit is refused as an OpenRosaResponse in Chinese on /odk (problem+json elsewhere), and
    an unexpected error on an OpenRosa route is logged with its traceback (it was answered 500 silently)."""
    import logging

    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    from api.middleware import LimitsAndHeaders
    from api.routes.openrosa import OpenRosaRoute

    router = APIRouter(route_class=OpenRosaRoute)

    @router.post("/odk/submission")
    def broken() -> None:
        raise ValueError("cannot convert float NaN to integer")

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(LimitsAndHeaders, max_bytes=1000, max_json_bytes=1000)
    with TestClient(app, raise_server_exceptions=False) as client:
        big = client.post(
            "/odk/submission", content=b"x" * 2000, headers={"content-type": "multipart/form-data"}
        )
        other = client.post("/elsewhere", content=b"x" * 2000)
        with caplog.at_level(logging.ERROR, logger="gi.api"):
            failed = client.post("/odk/submission")
    assert big.status_code == 413 and big.headers["content-type"].startswith("text/xml")
    assert "内容过大" in _message(big.text) and big.headers["x-openrosa-version"] == "1.0"
    assert other.status_code == 413 and other.headers["content-type"] == "application/problem+json"
    assert failed.status_code == 500 and "系统内部错误" in _message(failed.text)
    logged = [r for r in caplog.records if r.name == "gi.api" and r.exc_info]
    assert logged and "NaN" in str(logged[0].exc_info[1])
