"""Helpers shared by the test modules (imported as ``from fixtures import ...``; pytest fixtures stay in
conftest.py): throw-away databases (new, or copies of a template), the `gi` command line in a subprocess, and
the text of a PDF."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from gi import db as gi_db

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@contextmanager
def scratch_database(db_url: str, prefix: str, migrate: bool = True) -> Iterator[str]:
    """A throw-away database of its own on the test server (migrated unless ``migrate`` is False), dropped after."""
    from gi.db.local import create_database, drop_database

    server = make_url(db_url).set(database="postgres").render_as_string(hide_password=False)
    name = f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    create_database(server, name)
    url = make_url(db_url).set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            gi_db.upgrade(url)
        yield url
    finally:
        gi_db.get_engine(url).dispose()
        drop_database(server, name)


@contextmanager
def database_copy(template_url: str, prefix: str) -> Iterator[str]:
    """A throw-away copy of the database at ``template_url``, dropped after: tests that commit data use one,
    since audited rows are append-only and cannot be cleaned up by DELETE (docs/audit.md)."""
    import psycopg

    from gi.db.local import drop_database, libpq_dsn

    template = make_url(template_url)
    server = template.set(database="postgres").render_as_string(hide_password=False)
    name = f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_dsn(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    url = template.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        gi_db.get_engine(url).dispose()
        drop_database(server, name)


def default_sigint() -> None:
    """Give a child process Ctrl-C's default handling (for ``preexec_fn``): pytest-xdist's workers ignore SIGINT,
    children inherit that, and Python then installs no KeyboardInterrupt handler, so a test's SIGINT would be
    lost (a run to be interrupted finished, or waited for ever)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def gi(
    db_url: str, *args: str, out: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run `gi ARGS` as a user would (a new process in the project root) against ``db_url``, with outputs under
    ``out`` when given; wide, uncoloured output so that tests can read it."""
    env = {**os.environ, "GI_DATABASE_URL": db_url, "COLUMNS": "200", "NO_COLOR": "1"}
    if out is not None:
        env["GI_OUTPUT_DIR"] = str(out)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def pdf_pages(path: Path, layout: bool = False) -> list[str]:
    """The text of each page of a PDF (pdftotext, reading order or ``layout``)."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def pdf_text(path: Path) -> str:
    """The whole text of a PDF (pdftotext, reading order)."""
    return "\n".join(pdf_pages(path))


def square_product(session: Any, code: str, name_zh: str, name_en: str) -> Any:
    """A farm product with one area version since 2010: the 0.1-degree square at 120.0 E, 30.0 N (near Hangzhou)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from shapely.geometry import box

    from geo_data.io import as_multipolygon
    from gi.models import GIKind, GIProduct, ProductCategory
    from gi.register.areas import AreaImport, add_area_version

    product = GIProduct(
        code=code,
        name_zh=name_zh,
        name_pinyin="Cèshì",
        name_en=name_en,
        gi_kind=GIKind.PROTECTED_PRODUCT,
        category=ProductCategory.FARM_PRODUCT,
    )
    session.add(product)
    session.flush()
    add_area_version(
        session,
        product,
        AreaImport(
            geometry=as_multipolygon(box(120.0, 30.0, 120.1, 30.1)),
            legal_basis="test",
            source="test",
            source_crs="WGS84",
            valid_from=datetime(2010, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
            admin_units=[],
        ),
    )
    return product
