"""Plans through the service: a supervisor commits and draws, the public downloads the published files and
`gi plan verify` reproduces the draw from them; inspectors see their own tasks, supervisors their region's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import gi
from service_fixtures import Service, add_accounts, running_service, service_database

pytestmark = pytest.mark.postgis


NOWHERE = "postgresql://nobody@127.0.0.1:1/none"  # a URL no server answers


@pytest.fixture(scope="module")
def service_db(db_url: str) -> Iterator[str]:
    with service_database(db_url, prefix="gi_apiplan", inspectors=12) as url:
        add_accounts(url)
        yield url


@pytest.fixture(scope="module")
def service(service_db: str) -> Iterator[Service]:
    with running_service(service_db) as svc:
        yield svc


@pytest.fixture(scope="module")
def drawn(service: Service) -> dict:
    token = service.sign_in("admin")
    # The public value is announced in the commitment: a draw 15 seconds after it (a second party's value).
    draw_at = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0) + timedelta(seconds=15)
    announced = {"public_value_source": "福彩3D", "public_value_draw_at": draw_at.isoformat()}
    with service.client(token) as c:
        created = c.post(
            "/plans",
            json={
                "code": "API-2025Q2",
                "period_from": "2025-04-01",
                "period_to": "2025-06-30",
                "rounds": 2,
                "repair": True,
                **announced,
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["status"] == "committed" and len(body["commitment_sha256"]) == 64
        again = c.post(
            "/plans",
            json={"code": "API-2025Q2", "period_from": "2025-04-01", "period_to": "2025-06-30", **announced},
        )
        assert again.status_code == 422 and again.json()["field"] == "code"
        centuries = c.post(  # a 384-year plan once reached the draw: the domain refuses it, naming the field
            "/plans",
            json={"code": "API-LONG", "period_from": "2026-01-01", "period_to": "2409-12-31", **announced},
        )
        assert centuries.status_code == 422 and centuries.json()["field"] == "period_to", centuries.text
        early = c.post("/plans/API-2025Q2/draw", json={"public_value": "123", **announced})
        assert early.status_code == 422 and "has not taken place yet" in early.text
        time.sleep(max(0.0, (draw_at - datetime.now(ZoneInfo("Asia/Shanghai"))).total_seconds() + 0.5))
        draw = c.post("/plans/API-2025Q2/draw", json={"public_value": "2025-03-31 福彩3D 123", **announced})
        assert draw.status_code == 200, draw.text
        assert c.post("/plans/API-2025Q2/draw", json={"public_value": "456", **announced}).status_code == 409
        return dict(draw.json())


def test_public_reads_plans_and_verifies_the_draw_from_served_files(
    service: Service, drawn: dict, tmp_path: Path
) -> None:
    with service.client() as c:
        listed = c.get("/plans").json()
        assert [p["code"] for p in listed] == ["API-2025Q2"]
        names = c.get("/plans/API-2025Q2/files").json()
        assert len(names) == 9 and {"results.json", "notice.csv", "notice.md"} <= set(names)
        for name in names:
            r = c.get(f"/plans/API-2025Q2/files/{name}")
            assert r.status_code == 200
            (tmp_path / name).write_bytes(r.content)
        assert c.get("/plans/API-2025Q2/files/secret.txt").status_code == 404
        assert c.get("/plans/API-2025Q2/tasks").status_code == 401
    # Verification needs no database: the published files alone reproduce the draw.
    done = gi(NOWHERE, "plan", "verify", str(tmp_path), "--commitment", drawn["commitment_sha256"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified" in done.stdout
    # The same check straight from the service, over HTTP (what the public sees is what is verified).
    files = f"{service.url.rstrip('/')}/plans/API-2025Q2/files/"
    served = gi(NOWHERE, "plan", "verify", files, "--commitment", drawn["commitment_sha256"])
    assert served.returncode == 0 and "verified" in served.stdout, served.stdout + served.stderr


def test_tasks_are_scoped(service: Service, drawn: dict) -> None:
    with service.client(service.sign_in("admin")) as c:
        every = c.get("/tasks", params={"limit": 1000}).json()
    assert every["total"] > 0
    with service.client(service.sign_in("insp")) as c:
        me = c.get("/users/me").json()["inspector"]
        mine = c.get("/tasks", params={"limit": 1000}).json()
        assert (
            c.post(f"/tasks/{every['tasks'][0]['id']}/result", json={"result": "conforming"}).status_code
            == 403
        )
    assert all(me in [i["code"] for i in t["inspectors"]] for t in mine["tasks"])
    assert mine["total"] == sum(me in [i["code"] for i in t["inspectors"]] for t in every["tasks"])
    with service.client(service.sign_in("super")) as c:
        region = c.get("/users/me").json()["regions"][0]
        ours = c.get("/plans/API-2025Q2/tasks", params={"limit": 1000}).json()
        assert ours["total"] == sum(t["county_code"].startswith(region) for t in every["tasks"])
        outside = [t for t in every["tasks"] if not t["county_code"].startswith(region)]
        if ours["tasks"]:
            task = ours["tasks"][0]
            r = c.post(f"/tasks/{task['id']}/result", json={"result": "nonconforming", "note": "标签不符"})
            assert r.status_code == 200 and r.json()["result"] == "nonconforming"
            assert r.json()["status"] == "completed"
            # The same result again is a no-op; another one is a correction, asked for and explained.
            same = c.post(f"/tasks/{task['id']}/result", json={"result": "nonconforming"})
            assert same.status_code == 200 and same.json()["result"] == "nonconforming"
            silent = c.post(f"/tasks/{task['id']}/result", json={"result": "conforming"})
            assert silent.status_code == 409 and silent.json()["field"] == "result"
            fixed = c.post(
                f"/tasks/{task['id']}/result",
                json={"result": "conforming", "correct": True, "note": "复检合格"},
            )
            assert fixed.status_code == 200 and fixed.json()["result"] == "conforming"
        if outside:
            r = c.post(f"/tasks/{outside[0]['id']}/result", json={"result": "conforming"})
            assert r.status_code == 404 and r.json()["field"] == "task_id"
        bad = c.post(f"/tasks/{every['tasks'][0]['id']}/result", json={"result": "maybe"})
        assert bad.status_code == 422 and bad.json()["field"] == "result"


def test_findings_are_recorded_for_the_callers_region_only(service: Service, drawn: dict) -> None:
    """POST /plans/{code}/findings: a supervisor's region's tasks; none is sampled here, so every one stays
    open (or keeps the result recorded before); inspectors and the public may not."""
    with service.client(service.sign_in("super")) as c:
        ours = c.get("/plans/API-2025Q2/tasks", params={"limit": 1000}).json()
        r = c.post("/plans/API-2025Q2/findings")
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["plan"] == "API-2025Q2" and done["conforming"] == done["nonconforming"] == 0
        assert done["to_verify"] == 0 and done["unsampled"] + done["kept"] == ours["total"]
        assert c.post("/plans/NO-SUCH/findings").status_code == 404
    with service.client(service.sign_in("insp")) as c:
        assert c.post("/plans/API-2025Q2/findings").status_code == 403
    with service.client() as c:
        assert c.post("/plans/API-2025Q2/findings").status_code == 401


def test_plan_steps_are_in_the_audit_log_under_the_signed_in_user(service_db: str, drawn: dict) -> None:
    from sqlalchemy import text

    from gi.audit import verify_log
    from gi.db import get_engine, session_scope

    engine = get_engine(service_db)
    with session_scope(engine) as session:
        actors = dict(
            session.execute(
                text(
                    "SELECT kind, array_agg(DISTINCT actor ORDER BY actor) FROM audit_entry"
                    " WHERE kind IN ('plan', 'plan_commitment', 'plan_task') GROUP BY kind"
                )
            ).all()
        )
    assert actors["plan"] == ["admin"] and actors["plan_commitment"] == ["admin"]  # created, committed, drawn
    assert "admin" in actors["plan_task"] and set(actors["plan_task"]) <= {"admin", "super"}  # draw, results
    result = verify_log(engine)
    assert result.ok, [f.text() for f in result.findings]
