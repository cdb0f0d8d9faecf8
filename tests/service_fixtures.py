"""Helpers of the HTTP service tests: a database of its own with the register and a synthetic directory, the
service running in uvicorn as a separate process (the real server, real sockets), and signed-in clients."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from gi import db as gi_db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def service_database(
    db_url: str, prefix: str = "gi_api", producers: int = 8, inspectors: int = 3
) -> Iterator[str]:
    """A migrated database of its own with the bundled register (and a synthetic directory), dropped after."""
    from gi.db.local import create_database, drop_database

    server = make_url(db_url).set(database="postgres").render_as_string(hide_password=False)
    name = f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    create_database(server, name)
    url = make_url(db_url).set(database=name).render_as_string(hide_password=False)
    try:
        gi_db.upgrade(url)
        from demo.directories import create_synthetic_directory
        from gi.register.loader import load_register_into_db

        with gi_db.session_scope(gi_db.get_engine(url)) as session:
            load_register_into_db(session)
            create_synthetic_directory(
                session, producers_per_product=producers, inspectors_per_province=inspectors
            )
        yield url
    finally:
        gi_db.get_engine(url).dispose()
        gi_db.dispose_engines()
        drop_database(server, name)


@dataclass
class Service:
    """The service running in a uvicorn process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    media_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, token: str | None = None, **kwargs: object) -> httpx.Client:
        """An HTTP client of the service, signed in when ``token`` is given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs.setdefault("timeout", 30)
        return httpx.Client(base_url=self.url, headers=headers, **kwargs)  # type: ignore[arg-type]

    def sign_in(self, username: str, password: str = PASSWORD) -> str:
        """A token of ``username`` (cached per user)."""
        if username not in self.tokens:
            with self.client() as c:
                r = c.post("/auth/token", data={"username": username, "password": password})
                r.raise_for_status()
                self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    def log_text(self) -> str:
        """What the server wrote to its log."""
        return self.log.read_text(errors="replace")


def start_service(
    db_url: str,
    workers: int = 1,
    env: dict[str, str] | None = None,
    port: int | None = None,
    media_dir: Path | None = None,
) -> Service:
    """Start uvicorn on ``db_url`` and wait until /health answers."""
    port = port or free_port()
    media = media_dir or Path(tempfile.mkdtemp(prefix="gi-media-"))
    log = Path(tempfile.mkstemp(prefix="gi-api-", suffix=".log")[1])
    environment = {
        **os.environ,
        "GI_DATABASE_URL": db_url,
        "GI_MEDIA_DIR": str(media),
        "GI_API_LOGIN_FAILURES": "5",
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    service = Service(f"http://127.0.0.1:{port}", process, log, media)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited: {service.log_text()[-3000:]}")
        try:
            if httpx.get(f"{service.url}/health", timeout=2).status_code == 200:
                return service
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_service(service)
    raise RuntimeError(f"the service did not answer in time: {service.log_text()[-3000:]}")


def stop_service(service: Service) -> None:
    """Stop the uvicorn process (and its workers)."""
    if service.process.poll() is None:
        service.process.terminate()
        try:
            service.process.wait(20)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait(5)


@contextmanager
def running_service(db_url: str, **kwargs: object) -> Iterator[Service]:
    """The service on ``db_url`` while the block runs."""
    service = start_service(db_url, **kwargs)  # type: ignore[arg-type]
    try:
        yield service
    finally:
        stop_service(service)


def add_accounts(db_url: str) -> dict[str, str]:
    """An inspector, a supervisor of the first inspector's province, another province's supervisor and an
    admin; returns user name -> role. The inspector is a synthetic directory entry."""
    from sqlalchemy import select

    from gi.accounts.users import add_user
    from gi.models import Inspector

    with gi_db.session_scope(gi_db.get_engine(db_url)) as session:
        inspectors = list(session.scalars(select(Inspector).order_by(Inspector.code)))
        first = inspectors[0]
        other = next(i for i in inspectors if i.home_county_code[:2] != first.home_county_code[:2])
        add_user(session, "insp", "inspector", PASSWORD, inspector=first.code)
        add_user(session, "insp2", "inspector", PASSWORD, inspector=other.code)
        add_user(session, "super", "supervisor", PASSWORD, regions=[first.home_county_code[:2] + "0000"])
        add_user(session, "super2", "supervisor", PASSWORD, regions=[other.home_county_code[:2] + "0000"])
        add_user(session, "admin", "admin", PASSWORD)
    return {
        "insp": "inspector",
        "insp2": "inspector",
        "super": "supervisor",
        "super2": "supervisor",
        "admin": "admin",
    }


def store_samples(db_url: str, collector_username: str, count: int = 12) -> list[str]:
    """Store ``count`` samples at producers' locations (not naming the producer, so they belong to the
    collector's region), collected by ``collector_username``'s inspector, through the domain's intake."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select

    from gi.models import GIProduct, Producer, User
    from gi.origin.intake import record_sample

    ids: list[str] = []
    with gi_db.session_scope(gi_db.get_engine(db_url)) as session:
        user = session.scalar(select(User).where(User.username == collector_username))
        assert user is not None and user.inspector is not None
        rows = session.execute(
            select(Producer.id, GIProduct.code, func.ST_X(Producer.location), func.ST_Y(Producer.location))
            .join(GIProduct, GIProduct.id == Producer.product_id)
            .where(Producer.location.is_not(None))
            .order_by(Producer.id)
            .limit(count)
        ).all()
        start = datetime.now(UTC) - timedelta(days=30)
        for k, (_producer, code, x, y) in enumerate(rows):
            sample_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"svc-test-{db_url}-{k}"))
            record_sample(
                session,
                {
                    "id": sample_id,
                    "product": code,
                    "collected_at": (start + timedelta(days=k)).isoformat(),
                    "x": float(x),
                    "y": float(y),
                    "gps_accuracy_m": 5.0,
                    "collector": user.inspector.code,
                },
            )
            ids.append(sample_id)
    return ids
