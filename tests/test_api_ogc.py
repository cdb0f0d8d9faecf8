"""OGC API - Features read by two real clients, OWSLib and GDAL's OAPIF driver (ogrinfo): every collection,
paging past the first page, bbox and property filters, datetime on area versions, and samples for supervisors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import httpx
import pytest
from service_fixtures import Service, add_accounts, running_service, service_database, store_samples

pytestmark = pytest.mark.postgis

PUBLIC = ["gi-areas", "gi-area-versions", "producers"]
ALL = [*PUBLIC, "samples"]
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"


@pytest.fixture(scope="module")
def service(db_url: str) -> Iterator[Service]:
    with service_database(db_url) as url:
        add_accounts(url)
        store_samples(url, "insp", count=12)
        with running_service(url) as svc:
            yield svc


def _get(service: Service, path: str, token: str | None = None, **params: object) -> httpx.Response:
    with service.client(token) as c:
        return c.get(path, params=params)  # type: ignore[arg-type]


def test_landing_conformance_and_links_for_owslib(service: Service) -> None:
    """OWSLib reads the landing page (no Accept header), conformance and the collections."""
    from owslib.ogcapi.features import Features

    api = Features(service.url)
    links = api.links
    assert all("type" in link for link in links)
    desc = [link for link in links if link["rel"] == "service-desc"]
    assert desc and desc[0]["type"] == OPENAPI_30
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in api.conformance()["conformsTo"]
    listed = [c["id"] for c in api.collections()["collections"]]
    assert listed == PUBLIC  # samples are not listed to the public
    r = httpx.get(f"{service.url}/api")
    assert r.headers["content-type"] == OPENAPI_30 and r.json()["openapi"].startswith("3.0")


def test_owslib_reads_every_collection_pages_and_filters(service: Service) -> None:
    """Each collection through OWSLib: page 1 and 2 differ, numberMatched is the total, bbox narrows."""
    from owslib.ogcapi.features import Features

    token = service.sign_in("super")
    api = Features(service.url, headers={"Authorization": f"Bearer {token}"})
    for cid in ALL:
        first = api.collection_items(cid, limit=3)
        matched = first["numberMatched"]
        assert matched > 3, (cid, matched)
        assert first["numberReturned"] == 3 and len(first["features"]) == 3
        nxt = [link["href"] for link in first["links"] if link["rel"] == "next"]
        assert nxt, cid
        second = api.collection_items(cid, limit=3, offset=3)
        ids1 = {f["id"] for f in first["features"]}
        ids2 = {f["id"] for f in second["features"]}
        assert ids1.isdisjoint(ids2)
        assert any(link["rel"] == "prev" for link in second["links"])
        feature = first["features"][0]
        assert feature["type"] == "Feature" and feature["geometry"]["type"] in ("MultiPolygon", "Point")
        # a box around the first feature's first coordinate narrows the result and keeps that feature
        x, y = _first_xy(feature["geometry"])
        box = [x - 0.01, y - 0.01, x + 0.01, y + 0.01]
        boxed = api.collection_items(cid, bbox=box, limit=100)
        assert 1 <= boxed["numberMatched"] < matched, cid
        assert feature["id"] in {f["id"] for f in boxed["features"]}
        single = api.collection_item(cid, str(feature["id"]))
        assert single["id"] == feature["id"]


def _first_xy(geometry: dict) -> tuple[float, float]:
    coords = geometry["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    return float(coords[0]), float(coords[1])


def test_property_filters_on_queryables(service: Service) -> None:
    """A queryable property filters server-side; an unknown parameter is a 400 naming it."""
    q = _get(service, "/collections/producers/queryables")
    assert q.headers["content-type"] == "application/schema+json"
    assert "product_code" in q.json()["properties"]
    all_items = _get(service, "/collections/producers/items", limit=1000).json()
    code = all_items["features"][0]["properties"]["product_code"]
    only = _get(service, "/collections/producers/items", product_code=code, limit=1000).json()
    assert 0 < only["numberMatched"] < all_items["numberMatched"]
    assert {f["properties"]["product_code"] for f in only["features"]} == {code}
    bad = _get(service, "/collections/producers/items", colour="red")
    assert bad.status_code == 400 and bad.json()["field"] == "colour"


def test_datetime_selects_the_area_version_valid_then(service: Service) -> None:
    """gi-area-versions with a datetime returns one version per product: the one valid at that moment."""
    every = _get(service, "/collections/gi-area-versions/items", limit=1000).json()
    codes = {f["properties"]["product_code"] for f in every["features"]}
    now = _get(service, "/collections/gi-area-versions/items", datetime="2026-01-01T00:00:00Z", limit=1000)
    current = now.json()
    per_product = [f["properties"]["product_code"] for f in current["features"]]
    assert len(per_product) == len(set(per_product)) == len(codes)
    for f in current["features"]:
        p = f["properties"]
        assert p["valid_from"] <= "2026-01-01T08:00:00+08:00"
        assert p["valid_to"] is None or p["valid_to"] > "2026-01-01"
    versioned = [f for f in every["features"] if f["properties"]["version"] > 1]
    if versioned:  # before a later version began, the earlier one is returned
        v = versioned[0]["properties"]
        before = _get(
            service,
            "/collections/gi-area-versions/items",
            datetime=v["valid_from"].replace("+08:00", "+08:00"),
            product_code=v["product_code"],
        ).json()
        assert [f["properties"]["version"] for f in before["features"]] == [v["version"]]


def test_samples_are_scoped(service: Service) -> None:
    """Samples: 401 for the public, the supervisor of the collector's province sees them, another sees none."""
    assert _get(service, "/collections/samples/items").status_code == 401
    mine = _get(service, "/collections/samples/items", service.sign_in("super"), limit=100).json()
    other = _get(service, "/collections/samples/items", service.sign_in("super2"), limit=100).json()
    admin = _get(service, "/collections/samples/items", service.sign_in("admin"), limit=100).json()
    assert mine["numberMatched"] == 12 and other["numberMatched"] == 0 and admin["numberMatched"] >= 12
    props = mine["features"][0]["properties"]
    assert props["origin_verdict"] in ("inside", "outside", "uncertain")
    assert "collected_at" in props and "evidence_grade" in props


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is installed by scripts/setup.sh")
def test_gdal_oapif_reads_every_collection_pages_and_filters(service: Service) -> None:
    """ogrinfo (GDAL's OAPIF driver): every collection, all features over pages of 4, and a bbox filter."""
    token = service.sign_in("super")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write(f"Authorization: Bearer {token}\n")
        header_file = fh.name
    for cid in ALL:
        expected = _get(service, f"/collections/{cid}/items", token, limit=1).json()["numberMatched"]
        out = _ogrinfo(service, cid, header_file, "-oo", "PAGE_SIZE=4")
        fids = re.findall(rf"^OGRFeature\({re.escape(cid)}\):", out, re.M)
        assert len(fids) == expected > 4, (cid, len(fids), expected)
        one = json.loads(_get(service, f"/collections/{cid}/items", token, limit=1).text)
        x, y = _first_xy(one["features"][0]["geometry"])
        boxed = _ogrinfo(
            service, cid, header_file, "-spat", str(x - 0.01), str(y - 0.01), str(x + 0.01), str(y + 0.01)
        )
        n_boxed = len(re.findall(rf"^OGRFeature\({re.escape(cid)}\):", boxed, re.M))
        assert 1 <= n_boxed < expected, (cid, n_boxed, expected)
        requests = service.log_text()
        assert "Traceback" not in requests


def _ogrinfo(service: Service, cid: str, header_file: str, *args: str) -> str:
    command = [
        "ogrinfo",
        "-ro",
        "-al",
        "-q",
        "--config",
        "GDAL_HTTP_HEADER_FILE",
        header_file,
        "--config",
        "CPL_CURL_VERBOSE",
        "NO",
        *args,
        f"OAPIF:{service.url}",
        cid,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_cql2_filters_part_3(service: Service) -> None:
    """CQL2 text (through OWSLib) and JSON filter on queryables; a bad filter or property is a 400 naming it."""
    from owslib.ogcapi.features import Features

    api = Features(service.url)
    every = api.collection_items("producers", limit=1000)
    code = every["features"][0]["properties"]["product_code"]
    text_filter = f"product_code = '{code}' AND kind <> 'market_outlet'"
    some = api.collection_items("producers", filter=text_filter, limit=1000)
    expected = [
        f["id"]
        for f in every["features"]
        if f["properties"]["product_code"] == code and f["properties"]["kind"] != "market_outlet"
    ]
    assert sorted(f["id"] for f in some["features"]) == sorted(expected) and expected
    as_json = json.dumps({"op": "=", "args": [{"property": "product_code"}, code]})
    r = _get(
        service, "/collections/producers/items", filter=as_json, **{"filter-lang": "cql2-json", "limit": 1000}
    )
    assert r.json()["numberMatched"] == sum(
        f["properties"]["product_code"] == code for f in every["features"]
    )
    x, y = _first_xy(every["features"][0]["geometry"])
    spatial = _get(
        service,
        "/collections/producers/items",
        filter=f"S_INTERSECTS(geometry, BBOX({x - 0.01},{y - 0.01},{x + 0.01},{y + 0.01}))",
    ).json()
    assert every["features"][0]["id"] in {f["id"] for f in spatial["features"]}
    unknown = _get(service, "/collections/producers/items", filter="colour = 'red'")
    broken = _get(service, "/collections/producers/items", filter="name =")
    assert (
        unknown.status_code == 400
        and unknown.json()["field"] == "filter"
        and "colour" in unknown.json()["detail"]
    )
    assert broken.status_code == 400 and broken.json()["field"] == "filter"


def test_pages_found_by_key_and_the_count_bounded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paging the samples one by one gives every sample once, in order, each with its current verdict; past
    COUNT_BEYOND rows beyond the page numberMatched is not counted (None) and a next page is still announced."""
    from sqlalchemy import text

    from gi import db as gi_db
    from gi.accounts.scope import Scope
    from gi.features import query as fq
    from gi.features.catalog import COLLECTIONS

    with service_database(db_url, prefix="gi_ogcpage") as url:
        add_accounts(url)
        stored = store_samples(url, "insp", count=8)
        engine = gi_db.get_engine(url)
        with gi_db.session_scope(engine) as session:
            expected = [
                (str(sid), verdict)
                for sid, verdict in session.execute(
                    text(
                        "SELECT s.id, (SELECT v.verdict::text FROM origin_verdict v WHERE v.sample_id = s.id "
                        "ORDER BY v.checked_at DESC, v.id DESC LIMIT 1) FROM sample s ORDER BY s.collected_at, s.id"
                    )
                )
            ]
        assert sorted(e[0] for e in expected) == sorted(stored)
        everything, samples = Scope(everything=True), COLLECTIONS["samples"]
        seen = []
        with gi_db.session_scope(engine) as session:
            for offset in range(len(expected)):
                page = fq.items(session, samples, everything, fq.FeatureQuery(limit=1, offset=offset))
                (feature,) = json.loads(page.features_json)
                seen.append((feature["id"], feature["properties"]["origin_verdict"]))
                assert page.number_matched == len(expected)
                assert page.has_next(offset) == (offset < len(expected) - 1)
            monkeypatch.setattr(fq, "COUNT_BEYOND", 2)
            first = fq.items(session, samples, everything, fq.FeatureQuery(limit=3))
            assert first.number_matched is None and first.has_next(0)  # 8 > 3 + 2: not counted
            last = fq.items(session, samples, everything, fq.FeatureQuery(limit=3, offset=6))
            assert last.number_matched == 8 and not last.has_next(6)
        assert seen == expected
