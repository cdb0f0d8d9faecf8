"""Sample uploads through the running service: verdict returned, retries answered the same, conflicts 409
naming the fields, inspectors upload as themselves, reads scoped to own samples or the region."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from photo_fixtures import jpeg
from service_fixtures import PASSWORD, Service, add_accounts, running_service, service_database
from sqlalchemy import text

from gi import db as gi_db
from gi.accounts.tokens import token_digest

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def database(db_url: str) -> Iterator[str]:
    with service_database(db_url, prefix="gi_apisamples", producers=4, inspectors=12) as url:
        add_accounts(url)
        yield url


@pytest.fixture(scope="module")
def service(database: str) -> Iterator[Service]:
    with running_service(database, env={"GI_MAX_PHOTO_BYTES": "150000"}) as svc:
        yield svc


def longjing_sample(**overrides: object) -> dict[str, object]:
    """A West Lake Longjing sample inside its area, collected yesterday."""
    body: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "product": "xihu-longjing",
        "collected_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds"),
        "x": 120.1138,
        "y": 30.2402,
        "gps_accuracy_m": 5,
        "lot_number": "LJ-2025-001",
    }
    body.update(overrides)
    return body


def test_upload_returns_the_verdict_and_a_retry_the_same(service: Service, database: str) -> None:
    body = longjing_sample()
    with service.client(service.sign_in("insp")) as c:
        first = c.post("/samples", json=body)
        assert first.status_code == 201, first.text
        again = c.post("/samples", json=body)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.content == first.content  # byte for byte: "band_m":30.0 both times, not 30 and then 30.0
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    result = first.json()
    assert result["id"] == body["id"] and result["product"] == "xihu-longjing"
    assert result["origin"]["verdict"] in ("inside", "uncertain") and result["origin"]["area_version"] >= 1
    with gi_db.get_engine(database).connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM sample WHERE id = :id"), {"id": body["id"]}).scalar()
        verdicts = conn.execute(
            text("SELECT count(*) FROM origin_verdict WHERE sample_id = :id"), {"id": body["id"]}
        ).scalar()
    assert stored == 1 and verdicts == 1


def test_same_id_other_content_is_409_naming_the_fields(service: Service) -> None:
    body = longjing_sample()
    with service.client(service.sign_in("insp")) as c:
        assert c.post("/samples", json=body).status_code == 201
        changed = {**body, "lot_number": "LJ-2025-999", "x": 120.12}
        r = c.post("/samples", json=changed)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert {"lot_number", "x"} <= set(problem["differences"])
    assert problem["differences"]["lot_number"] == {"stored": "LJ-2025-001", "submitted": "LJ-2025-999"}
    assert problem["field"] in problem["differences"]


def test_bad_fields_are_named(service: Service) -> None:
    with service.client(service.sign_in("insp")) as c:
        unknown = c.post("/samples", json=longjing_sample(product="no-such-tea"))
        future = c.post("/samples", json=longjing_sample(collected_at="2999-01-01T00:00:00+08:00"))
        other = c.post("/samples", json=longjing_sample(collector="SOMEONE-ELSE"))
        missing = c.post("/samples", json={k: v for k, v in longjing_sample().items() if k != "id"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "product"
    assert future.status_code == 422 and future.json()["field"] == "collected_at"
    assert other.status_code == 422 and other.json()["field"] == "collector"
    assert missing.status_code == 422 and missing.json()["field"] == "id"


def test_unknown_fields_are_refused_and_the_template_names_are_taken(service: Service) -> None:
    """A field the upload does not take is 422 naming it (it was dropped silently); the template's column names
    (gi check --template: lon, lat, producer_credit_code) are the fields they name."""
    from geo_data.sample_files import TEMPLATE_COLUMNS

    with service.client(service.sign_in("insp")) as c:
        colour = c.post("/samples", json=longjing_sample(colour="green", flavour="chestnut"))
        body = {k: v for k, v in longjing_sample().items() if k not in ("x", "y")}
        by_template = c.post("/samples", json={**body, "lon": 120.1138, "lat": 30.2402})
        credit = c.post("/samples", json=longjing_sample(producer_credit_code="123"))
        both = c.post("/samples", json=longjing_sample(lon=120.1138))
        form = c.post("/samples/form", data={"sample": json.dumps(longjing_sample(colour="green"))})
    assert colour.status_code == 422 and colour.json()["field"] == "colour"
    assert "colour" in colour.json()["detail"] and "flavour" in colour.json()["detail"]
    assert by_template.status_code == 201, by_template.text
    assert by_template.json()["origin"]["lon"] == 120.1138 and by_template.json()["origin"]["lat"] == 30.2402
    assert credit.status_code == 422 and credit.json()["field"] == "producer", credit.text
    assert both.status_code == 422 and "lon and x" in both.json()["detail"]
    assert form.status_code == 422 and form.json()["field"] == "colour"
    # Every column of the template is a field of the upload.
    named = {column for column, _, _ in TEMPLATE_COLUMNS}
    with service.client(service.sign_in("insp")) as c:
        schema = c.get("/api").json()["components"]["schemas"]["SampleUpload"]
    assert schema.get("additionalProperties") is False
    assert named - set(schema["properties"]) == {"lon", "lat", "producer_credit_code"}


def test_reads_are_scoped(service: Service) -> None:
    body = longjing_sample()
    with service.client(service.sign_in("insp")) as c:
        assert c.post("/samples", json=body).status_code == 201
        mine = c.get("/samples", params={"limit": 1000}).json()
        assert body["id"] in {f["id"] for f in mine["features"]}
        assert c.get(f"/samples/{body['id']}").status_code == 200
    with service.client(service.sign_in("insp2")) as c:
        theirs = c.get("/samples", params={"limit": 1000}).json()
        assert body["id"] not in {f["id"] for f in theirs["features"]}
        assert c.get(f"/samples/{body['id']}").status_code == 404
    with service.client(service.sign_in("super")) as c:
        region = c.get("/samples", params={"limit": 1000}).json()
        assert body["id"] in {f["id"] for f in region["features"]}
    with service.client(service.sign_in("super2")) as c:
        assert c.get(f"/samples/{body['id']}").status_code == 404
    with service.client() as c:
        assert c.get("/samples").status_code == 401
    with service.client(service.sign_in("super")) as c:
        refused = c.post("/samples", json=longjing_sample())
    assert refused.status_code == 403 and refused.json()["detail"].startswith("a supervisor may not call")
    with service.client(service.sign_in("insp")) as c:
        staff_only = c.post("/lab-results", json=[])
    assert staff_only.status_code == 403 and staff_only.json()["detail"].startswith(
        "an inspector may not call"
    )


def test_a_task_sample_claims_its_seal_codes_and_the_task_is_sampled(service: Service, database: str) -> None:
    """The JSON door takes a sample as ODK does: the task must be the inspector's, the scanned seal codes are
    claimed once (a retry claims them again, another sample is refused), and the task becomes sampled."""
    from datetime import date

    from field_fixtures import FIELD_COMMITTED, FIELD_LOTTERY, FIELD_REVEALED
    from geoalchemy2.shape import to_shape
    from sqlalchemy import select

    from gi.accounts.users import add_user
    from gi.field.seals import issue_seal_codes, new_code
    from gi.models import Plan, PlanTask, SealCode, TaskStatus, User
    from sampling.planning import create_plan, draw_plan

    with gi_db.session_scope(gi_db.get_engine(database)) as s:
        create_plan(
            s,
            "SEAL-1",
            "封样测试",
            date(2026, 11, 1),
            date(2026, 12, 31),
            rounds=1,
            lot_size=20,
            announcement=FIELD_LOTTERY,
            committed_at=FIELD_COMMITTED,
        )
        draw_plan(
            s,
            "SEAL-1",
            "seal codes through JSON",
            FIELD_LOTTERY.source,
            FIELD_LOTTERY.draw_at,
            revealed_at=FIELD_REVEALED,
        )
        taken = {u.inspector_id for u in s.scalars(select(User)) if u.inspector_id is not None}
        task = next(
            t
            for t in s.scalars(select(PlanTask).join(Plan).where(Plan.code == "SEAL-1").order_by(PlanTask.id))
            if not taken & {i.id for i in t.inspectors}
        )
        assert task.status is TaskStatus.PLANNED
        add_user(s, "sealer", "inspector", PASSWORD, inspector=task.inspectors[0].code)
        codes = [label.code for label in issue_seal_codes(s, task.plan, [task.id])]
        point = to_shape(task.producer.location)
        task_id, product = task.id, task.product.code
    body = longjing_sample(product=product, task_id=task_id, x=point.x, y=point.y, seal_codes=codes[:2])
    with service.client(service.sign_in("sealer")) as c:
        first = c.post("/samples", json=body)
        assert first.status_code == 201, first.text
        assert first.json()["seal_codes"] == codes[:2]
        again = c.post("/samples", json=body)
        assert again.status_code == 201 and again.json()["seal_codes"] == codes[:2]
        reused = c.post("/samples", json={**body, "id": str(uuid.uuid4()), "lot_number": "other"})
        assert reused.status_code == 409 and reused.json()["field"] == "seal_code"
        unknown = c.post("/samples", json={**body, "id": str(uuid.uuid4()), "seal_codes": [new_code()]})
        assert unknown.status_code == 422 and "not a registered seal code" in unknown.json()["detail"]
    with service.client(service.sign_in("insp")) as c:  # not his task
        foreign = c.post("/samples", json={**body, "id": str(uuid.uuid4()), "seal_codes": []})
        assert foreign.status_code == 422 and foreign.json()["field"] == "task_id"
    with gi_db.session_scope(gi_db.get_engine(database)) as s:
        claimed = s.scalars(select(SealCode.code).where(SealCode.sample_id == uuid.UUID(str(body["id"]))))
        assert sorted(claimed) == sorted(codes[:2])
        fresh = s.get(PlanTask, task_id)
        assert fresh is not None and fresh.status is TaskStatus.SAMPLED


def _lab_rows(sample_id: str, moisture: str = "5.8") -> list[dict[str, object]]:
    values = {
        "moisture": (moisture, "%"),
        "total_ash": ("5.2", "%"),
        "powder": ("0.4", "%"),
        "water_extract": ("41.0", "%"),
        "lead": ("0.6", "mg/kg"),
    }
    return [
        {
            "sample": sample_id,
            "indicator": name,
            "value": value,
            "unit": unit,
            "laboratory": "浙江省茶叶检测中心",
            "tested_on": datetime.now(UTC).date().isoformat(),
        }
        for name, (value, unit) in values.items()
    ]


def test_lab_results_as_json_and_as_a_file_are_judged(service: Service) -> None:
    first, second = longjing_sample(), longjing_sample()
    with service.client(service.sign_in("insp")) as c:
        assert c.post("/samples", json=first).status_code == 201
        assert c.post("/samples", json=second).status_code == 201
        assert c.post("/lab-results", json={"results": _lab_rows(str(first["id"]))}).status_code == 403
    with service.client(service.sign_in("super")) as c:
        r = c.post("/lab-results", json={"results": _lab_rows(str(first["id"]))})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["results_stored"] == 5
        assert [v["outcome"] for v in body["verdicts"]] == ["pass"]
        rows = _lab_rows(str(second["id"]), moisture="7.9")  # above the 6.5 % limit
        header = "sample_id,indicator,value,unit,laboratory,tested_on\n"
        csv = header + "".join(
            f"{x['sample']},{x['indicator']},{x['value']},{x['unit']},{x['laboratory']},{x['tested_on']}\n"
            for x in rows
        )
        f = c.post("/lab-results/file", files={"file": ("results.csv", csv.encode(), "text/csv")})
        assert f.status_code == 201, f.text
        assert [v["outcome"] for v in f.json()["verdicts"]] == ["fail"]
        bad = c.post("/lab-results", json={"results": _lab_rows("00000000-0000-0000-0000-00000000dead")})
        assert bad.status_code == 422 and bad.json()["errors"]
        wrong = c.post("/lab-results/file", files={"file": ("results.pdf", b"%PDF", "application/pdf")})
        assert wrong.status_code == 422 and wrong.json()["field"] == "file"


def test_photos_on_the_sample_and_afterwards_are_stored_by_hash_and_cross_checked(service: Service) -> None:
    import hashlib
    import json
    import random
    from zoneinfo import ZoneInfo

    body = longjing_sample()
    taken = datetime.fromisoformat(str(body["collected_at"])).astimezone(ZoneInfo("Asia/Shanghai"))
    near = jpeg(120.1139, 30.2403, taken.replace(tzinfo=None))  # about 14 m away, same day
    far = jpeg(120.1438, 30.2402, taken.replace(tzinfo=None), colour=(10, 20, 30))  # about 2.9 km east
    bare = jpeg(exif=False, colour=(200, 10, 10))
    with service.client(service.sign_in("insp")) as c:
        r = c.post(
            "/samples/form",
            data={"sample": json.dumps(body)},
            files=[("photo", ("near.jpg", near, "image/jpeg"))],
        )
        assert r.status_code == 201, r.text
        first = r.json()
        assert first["origin"]["verdict"] in ("inside", "uncertain")
        (photo,) = first["photos"]
        assert photo["flags"] == [] and photo["sha256"] == hashlib.sha256(near).hexdigest()
        assert photo["distance_m"] < 100
        stored = service.media_dir / photo["sha256"][:2] / photo["sha256"][2:4] / photo["sha256"]
        assert stored.read_bytes() == near
        assert c.get(photo["href"].replace(service.url, "")).content == near
        later = c.post(
            f"/samples/{body['id']}/photos",
            files=[("photo", ("far.jpg", far, "image/jpeg")), ("photo", ("bare.jpg", bare, "image/jpeg"))],
        )
        assert later.status_code == 201, later.text
        assert [p["flags"] for p in later.json()] == [["photo_far"], ["photo_no_exif"]]
        again = c.post(f"/samples/{body['id']}/photos", files=[("photo", ("far.jpg", far, "image/jpeg"))])
        assert again.status_code == 201 and again.json()[0]["sha256"] == hashlib.sha256(far).hexdigest()
        not_image = c.post(
            f"/samples/{body['id']}/photos", files=[("photo", ("x.jpg", b"%PDF-1.7", "image/jpeg"))]
        )
        assert not_image.status_code == 422 and not_image.json()["field"] == "photo"
        rng = random.Random(7)
        noise = bytes(rng.getrandbits(8) for _ in range(400 * 400 * 3))
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.frombytes("RGB", (400, 400), noise).save(buffer, "JPEG", quality=95)
        too_big = c.post(
            f"/samples/{body['id']}/photos", files=[("photo", ("big.jpg", buffer.getvalue(), "image/jpeg"))]
        )
        assert too_big.status_code == 413 and too_big.json()["field"] == "photo"
        feature = c.get(f"/samples/{body['id']}").json()
        # The same sample again, as JSON or as the form without a photo: the answer is what is stored.
        replayed = c.post("/samples", json=body)
        form_again = c.post("/samples/form", data={"sample": json.dumps(body)})
    assert feature["properties"]["evidence_grade"] == "doubtful"  # a far photo and one without EXIF
    for answer in (replayed, form_again):
        assert answer.status_code == 201 and answer.headers.get("Idempotent-Replayed") == "true", answer.text
        out = answer.json()
        assert [p["flags"] for p in out["photos"]] == [[], ["photo_far"], ["photo_no_exif"]]
        assert out["photos"][0]["sha256"] == photo["sha256"] and out["evidence_grade"] == "doubtful"
    with service.client(service.sign_in("insp2")) as c:
        assert c.get(photo["href"].replace(service.url, "")).status_code == 404
        assert (
            c.post(
                f"/samples/{body['id']}/photos", files=[("photo", ("n.jpg", near, "image/jpeg"))]
            ).status_code
            == 404
        )


def test_a_sample_file_is_a_job_with_progress(service: Service) -> None:
    import time as _time

    rows = ["product,collected_at,lon,lat,crs,gps_accuracy_m,lot_number"]
    day = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    for k in range(40):
        rows.append(f"xihu-longjing,{day},{120.1138 + k * 1e-4:.6f},30.2402,WGS84,5,JOB-{k:03d}")
    rows.append(f"no-such-tea,{day},120.1138,30.2402,WGS84,5,JOB-BAD")
    csv = ("\n".join(rows) + "\n").encode()
    with service.client(service.sign_in("super")) as c:
        submitted = c.post("/jobs/samples", files={"file": ("season.csv", csv, "text/csv")})
        assert submitted.status_code == 202, submitted.text
        assert submitted.headers["Location"].endswith(f"/jobs/{submitted.json()['id']}")
        url = submitted.headers["Location"].replace(service.url, "")
        deadline = _time.monotonic() + 120
        while True:
            job = c.get(url).json()
            if job["status"] in ("done", "failed") or _time.monotonic() > deadline:
                break
            _time.sleep(0.3)
        again = c.post("/jobs/samples", files={"file": ("season.csv", csv, "text/csv")})
        while True:
            second = c.get(again.headers["Location"].replace(service.url, "")).json()
            if second["status"] in ("done", "failed") or _time.monotonic() > deadline:
                break
            _time.sleep(0.3)
    assert job["status"] == "done", job
    assert (job["processed"], job["stored"], job["refused"]) == (41, 40, 1)
    assert job["problems"][0]["field"] == "product"
    assert (second["stored"], second["already_stored"]) == (0, 40)  # a re-submitted file stores nothing twice
    with service.client(service.sign_in("super2")) as c:
        assert c.get(url).status_code == 404
    with service.client(service.sign_in("admin")) as c:
        assert c.get(url).status_code == 200
    with service.client(service.sign_in("insp")) as c:
        assert c.post("/jobs/samples", files={"file": ("season.csv", csv, "text/csv")}).status_code == 403


def test_a_token_revoked_after_use_is_refused_at_once(service: Service, database: str) -> None:
    """A token the service has checked (and cached) is still confirmed on every request: once revoked in the
    database, an upload is 401 and stores nothing, and a read is 401 too."""
    with service.client() as c:
        token = c.post("/auth/token", data={"username": "insp", "password": PASSWORD}).json()["access_token"]
    stored = longjing_sample()
    refused = longjing_sample()
    with service.client(token) as c:  # one connection: the same worker, whose cache now holds the token
        assert c.post("/samples", json=stored).status_code == 201
        assert c.get("/users/me").status_code == 200
        with gi_db.get_engine(database).begin() as conn:
            conn.execute(
                text("UPDATE auth_token SET revoked_at = now() WHERE token_sha256 = :digest"),
                {"digest": token_digest(token)},
            )
        upload = c.post("/samples", json=refused)
        me = c.get("/users/me")
    assert upload.status_code == 401 and upload.json()["field"] == "Authorization"
    assert "revoked" in upload.json()["detail"]
    assert me.status_code == 401
    with gi_db.get_engine(database).connect() as conn:
        counts = conn.execute(
            text("SELECT count(*) FILTER (WHERE id = :a), count(*) FILTER (WHERE id = :b) FROM sample"),
            {"a": stored["id"], "b": refused["id"]},
        ).one()
    assert tuple(counts) == (1, 0)


def _burst(
    service: Service, token: str, bodies: list[dict[str, object]], warm: bool = True
) -> list[httpx.Response]:
    """Send every body at once, each on its own connection (so that they arrive together in the worker)."""
    clients = [service.client(token) for _ in bodies]
    for c in clients if warm else []:  # connected and authorized beforehand: the burst is the uploads alone
        assert c.get("/users/me").status_code == 200
    start = threading.Barrier(len(bodies))

    def send(k: int) -> httpx.Response:
        start.wait()
        return clients[k].post("/samples", json=bodies[k])

    try:
        with ThreadPoolExecutor(len(bodies)) as pool:
            return list(pool.map(send, range(len(bodies))))
    finally:
        for c in clients:
            c.close()


def _verdict_entries(database: str, ids: list[object]) -> dict[str, tuple[str, int, str]]:
    """Each stored sample among ``ids``: its lot number, and the leaf count and actor of its verdict's entry."""
    with gi_db.get_engine(database).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT v.sample_id::text, s.lot_number, e.leaf_count, e.actor FROM origin_verdict v "
                "JOIN sample s ON s.id = v.sample_id "
                "JOIN audit_entry e ON e.kind = 'origin_verdict' AND v.id = ANY (e.row_ids) "
                "WHERE v.sample_id = ANY (CAST(:ids AS uuid[]))"
            ),
            {"ids": ids},
        ).all()
    found = {r[0]: (r[1], r[2], r[3]) for r in rows}
    assert len(found) == len(rows)  # one verdict, in one entry, per sample
    return found


def test_uploads_arriving_together_are_stored_as_a_group(service: Service, database: str) -> None:
    """Uploads arriving together are stored as a group: one transaction, whose audit entry records their
    verdicts together, naming the inspector; each gets its own 201."""
    token = service.sign_in("insp")
    for attempt in range(5):  # until a burst is seen stored as a group (arrival is up to the scheduler)
        bodies = [longjing_sample(lot_number=f"LJ-G{attempt}-{k}", x=120.1138 + k * 1e-4) for k in range(12)]
        answers = _burst(service, token, bodies)
        assert [r.status_code for r in answers] == [201] * len(bodies)
        assert [r.json()["id"] for r in answers] == [b["id"] for b in bodies]
        assert not any("Idempotent-Replayed" in r.headers for r in answers)
        entries = _verdict_entries(database, [b["id"] for b in bodies])
        assert {k: v[0] for k, v in entries.items()} == {b["id"]: b["lot_number"] for b in bodies}
        assert {v[2] for v in entries.values()} == {"insp"}
        if any(v[1] > 1 for v in entries.values()):
            return
    pytest.fail("no burst was stored as a group")


def test_uploads_arriving_together_are_each_answered_as_alone(service: Service, database: str) -> None:
    """A conflict, a bad field, a retry of a stored sample and a retry beside its original, arriving together with
    other uploads, each get the answer they get alone (the group they arrive in is rolled back and each of its
    uploads taken alone), and every other upload its own 201, stored with its verdict and audit entry."""
    token = service.sign_in("insp")
    stored_before = longjing_sample(lot_number="LJ-BURST-0")
    retried = longjing_sample(lot_number="LJ-BURST-R")
    with service.client(token) as c:
        assert c.post("/samples", json=stored_before).status_code == 201
        first_answer = c.post("/samples", json=retried)
    assert first_answer.status_code == 201
    fresh = [longjing_sample(lot_number=f"LJ-B-{k}", x=120.1138 + k * 1e-4) for k in range(14)]
    twin = longjing_sample(lot_number="LJ-TWIN")
    conflict = {**stored_before, "lot_number": "LJ-BURST-X"}
    invalid = longjing_sample(product="no-such-tea")
    bodies = [*fresh[:5], conflict, *fresh[5:9], twin, invalid, *fresh[9:], retried, twin]
    answers = _burst(service, token, bodies)
    for body, r in zip(bodies, answers, strict=True):
        if body is conflict:
            assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
            assert set(r.json()["differences"]) == {"lot_number"}
        elif body is invalid:
            assert r.status_code == 422 and r.json()["field"] == "product"
        elif body is retried:
            assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true"
            assert r.json() == first_answer.json()
        else:
            assert r.status_code == 201, r.text
            assert r.json()["id"] == body["id"] and r.json()["origin"]["verdict"] == "inside"
    fresh_answers = [r for body, r in zip(bodies, answers, strict=True) if body in fresh]
    assert not any("Idempotent-Replayed" in r.headers for r in fresh_answers)
    twins = [r for body, r in zip(bodies, answers, strict=True) if body is twin]
    assert twins[0].json() == twins[1].json()
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in twins) == ["", "true"]
    entries = _verdict_entries(database, [b["id"] for b in [*fresh, twin, stored_before, invalid]])
    assert {k: v[0] for k, v in entries.items()} == {
        b["id"]: b["lot_number"] for b in [*fresh, twin, stored_before]
    }  # the conflict changed nothing, the bad upload stored nothing
    assert {v[2] for v in entries.values()} == {"insp"}


def test_grouping_off_answers_the_same(database: str) -> None:
    """With GI_API_UPLOAD_GROUPING=false every upload goes alone: a burst gets the same answers."""
    with running_service(database, env={"GI_API_UPLOAD_GROUPING": "false"}) as svc:
        token = svc.sign_in("insp")
        bodies = [longjing_sample(lot_number=f"LJ-ALONE-{k}") for k in range(6)]
        answers = _burst(svc, token, bodies)
    assert [r.status_code for r in answers] == [201] * 6
    assert [r.json()["id"] for r in answers] == [b["id"] for b in bodies]
    with gi_db.get_engine(database).connect() as conn:
        leaves = conn.execute(
            text(
                "SELECT max(e.leaf_count) FROM origin_verdict v JOIN audit_entry e ON e.kind = 'origin_verdict' "
                "AND v.id = ANY (e.row_ids) WHERE v.sample_id = ANY (CAST(:ids AS uuid[]))"
            ),
            {"ids": [b["id"] for b in bodies]},
        ).scalar()
    assert leaves == 1


def test_a_revoked_token_is_refused_in_a_group_too(service: Service, database: str) -> None:
    """Uploads arriving together with a token revoked after the worker cached it: each is 401, none stored."""
    with service.client() as c:
        token = c.post("/auth/token", data={"username": "insp", "password": PASSWORD}).json()["access_token"]
    with service.client(token) as c:  # the one worker now holds the token in its cache
        assert c.get("/users/me").status_code == 200
    with gi_db.get_engine(database).begin() as conn:
        conn.execute(
            text("UPDATE auth_token SET revoked_at = now() WHERE token_sha256 = :digest"),
            {"digest": token_digest(token)},
        )
    bodies = [longjing_sample(lot_number=f"LJ-REVOKED-{k}") for k in range(8)]
    answers = _burst(service, token, bodies, warm=False)
    assert [r.status_code for r in answers] == [401] * len(bodies)
    assert all("revoked" in r.json()["detail"] for r in answers)
    assert _verdict_entries(database, [b["id"] for b in bodies]) == {}
