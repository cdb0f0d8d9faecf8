"""No accepted upload is lost across a database crash: clients upload while PostgreSQL is killed (immediate
stop) and started again; while it is down the service answers 503 with Retry-After (never 500); afterwards
every sample answered 201 is stored, once. The cluster is a private one, so other tests are not disturbed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from service_fixtures import Service, add_accounts, free_port, running_service, service_database
from sqlalchemy import text

from gi import db as gi_db
from gi.db.local import LocalCluster, _as_service, ensure_cluster, find_bindir, resolve_pgdata
from gi.settings import Settings

pytestmark = pytest.mark.postgis

CLIENTS = 6


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Settings, LocalCluster]]:
    base = Path(tempfile.mkdtemp(prefix="gi-restart-", dir="/tmp"))
    base.chmod(0o755)
    settings = Settings(local_pgdata=base / "pgdata", local_port=free_port(), database_url=None)
    cluster = ensure_cluster(settings)
    try:
        yield settings, cluster
    finally:
        gi_db.dispose_engines()
        pgdata = resolve_pgdata(settings)
        subprocess.run(
            _as_service([str(find_bindir() / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(pgdata, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def _crash_and_restart(settings: Settings, down_s: float) -> None:
    pgdata = resolve_pgdata(settings)
    subprocess.run(
        _as_service([str(find_bindir() / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "-w", "stop"]),
        check=True,
        capture_output=True,
    )
    time.sleep(down_s)
    ensure_cluster(settings)


def _body(n: int, i: int) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "product": "xihu-longjing",
        "collected_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds"),
        "x": 120.1138 + (n * 37 + i) % 500 * 1e-5,
        "y": 30.2402 + (n * 53 + i) % 500 * 1e-5,
        "gps_accuracy_m": 5,
    }


def test_uploads_survive_a_database_crash(cluster: tuple[Settings, LocalCluster]) -> None:
    settings, pg = cluster
    with service_database(pg.url(settings.local_database), prefix="gi_restart") as url:
        add_accounts(url)
        with running_service(url, workers=2) as service:
            accepted, answers = _upload_through_a_crash(service, settings)
        with gi_db.get_engine(url).connect() as conn:
            stored = set(
                str(r[0])
                for r in conn.execute(
                    text("SELECT id FROM sample WHERE id = ANY(:ids)"), {"ids": list(accepted)}
                )
            )
            verdicts = conn.execute(
                text("SELECT count(*) FROM origin_verdict WHERE sample_id = ANY(:ids)"),
                {"ids": list(accepted)},
            ).scalar_one()
    assert len(accepted) > 20
    assert stored == accepted, f"{len(accepted - stored)} accepted uploads lost"
    assert verdicts == len(accepted)
    assert answers.get(500, 0) == 0, answers
    assert answers.get(503, 0) > 0, f"the outage was not seen: {answers}"


def _upload_through_a_crash(service: Service, settings: Settings) -> tuple[set[str], dict[int, int]]:
    token = service.sign_in("insp")
    accepted: set[str] = set()
    answers: dict[int, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    retry_after_seen: list[str] = []

    def client(n: int) -> None:
        i = 0
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as c:
            while not stop.is_set():
                i += 1
                body = _body(n, i)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:  # retry the same body until it is acknowledged
                    try:
                        r = c.post("/samples", json=body)
                    except httpx.HTTPError:
                        time.sleep(0.2)
                        continue
                    with lock:
                        answers[r.status_code] = answers.get(r.status_code, 0) + 1
                    if r.status_code == 201:
                        with lock:
                            accepted.add(str(body["id"]))
                        break
                    if r.status_code == 503:
                        retry_after_seen.append(r.headers.get("Retry-After", ""))
                        time.sleep(0.2)
                        continue
                    raise AssertionError(f"unexpected {r.status_code}: {r.text[:300]}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(3)
    _crash_and_restart(settings, down_s=3)
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(90)
    assert all(v.isdigit() and int(v) > 0 for v in retry_after_seen)
    return accepted, answers
