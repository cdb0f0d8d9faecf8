"""Schemathesis against the service's OpenAPI 3.0 description: a bounded run (coverage, fuzzing and stateful
phases) signed in as an admin, with no server error and no response outside the schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_fixtures import ROOT, Service, add_accounts, running_service, service_database

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def service(db_url: str) -> Iterator[Service]:
    with service_database(db_url, prefix="gi_apischema") as url:
        add_accounts(url)
        with running_service(url) as svc:
            yield svc


def test_schemathesis_finds_no_server_error_and_no_schema_violation(service: Service, tmp_path: Path) -> None:
    token = service.sign_in("admin")
    command = [
        str(Path(sys.executable).with_name("schemathesis"))
        if shutil.which("schemathesis") is None
        else "schemathesis",
        "run",
        f"{service.url}/api",
        "--max-examples",
        "12",
        "--seed",
        "20261203",
        "--header",
        f"Authorization: Bearer {token}",
        "--exclude-path",
        "/auth/logout",  # it would revoke the token the run signs in with
        "--exclude-path",
        "/maps/season",  # a document of every area's outline (6 MB, seconds to build): tests/test_api_reports.py
        "--request-timeout",
        "60",  # the PDF reports are built per request
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:]
    assert "Server error" not in done.stdout


def test_every_operation_has_its_own_id_and_the_description_builds_without_a_warning() -> None:
    """Duplicate operation ids break generated clients (and FastAPI warns on the first GET /api)."""
    import warnings
    from collections import Counter

    from api.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = create_app().openapi()
    ids = Counter(op["operationId"] for path in schema["paths"].values() for op in path.values())
    assert [i for i, n in ids.items() if n > 1] == []
    assert {"get", "head", "post"} <= set(schema["paths"]["/odk/submission"])
