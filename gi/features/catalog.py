"""The feature collections served: register areas (current and every version), producers, and samples.

Each :class:`Collection` says where its rows come from, how a row becomes a GeoJSON feature (in SQL, so a page
is built by the database in one round trip), which properties may be filtered (its queryables) and what its
temporal extent is. Samples are scoped: a caller sees only the samples of his scope (``gi.accounts.scope``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gi.reads.verdicts import current_lateral


@dataclass(frozen=True)
class Queryable:
    """A property that may be filtered: its JSON Schema type (and format), and the SQL it compares."""

    sql: str
    type: str  # string | integer | number | boolean
    title: str
    format: str | None = None  # date-time | date
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Collection:
    """One feature collection: rows, feature id, geometry, properties, queryables, temporal extent."""

    id: str
    title: str
    description: str
    source: str  # FROM clause: the main table (aliased) and the joins every row needs
    id_sql: str
    order_sql: str
    geom_sql: str  # a geometry in EPSG:4326 (or NULL)
    properties: dict[str, str]  # name -> SQL
    queryables: dict[str, Queryable]
    temporal: tuple[str, str | None]  # start, end (None: an instant); NULL end = still valid
    where: str = "TRUE"
    scoped_alias: str | None = None  # samples: the alias that the caller's scope filters
    geometry_type: str = "Point"
    keywords: tuple[str, ...] = field(default=())
    # (alias, LEFT JOIN clause): joins that add properties but never add or remove a row (a unique key, or a
    # LATERAL ... LIMIT 1), so counting the matches needs only those a condition names.
    left_joins: tuple[tuple[str, str], ...] = ()

    def from_sql(self, where: str | None = None) -> str:
        """The FROM clause: every join, or (given the conditions ``where``) only the joins they refer to."""
        joins = [
            clause
            for alias, clause in self.left_joins
            if where is None or re.search(rf"\b{alias}\.", where) is not None
        ]
        return "\n".join([self.source, *joins])


_AREA_SOURCE = "production_area a JOIN gi_product p ON p.id = a.product_id"
_AREA_PROPERTIES = {
    "product_code": "p.code",
    "name_zh": "p.name_zh",
    "name_pinyin": "p.name_pinyin",
    "name_en": "p.name_en",
    "gi_kind": "p.gi_kind::text",
    "category": "p.category::text",
    "version": "a.version",
    "valid_from": "a.valid_from",
    "valid_to": "a.valid_to",
    "legal_basis": "a.legal_basis",
    "area_km2": "a.area_km2::float8",
    "admin_codes": "(SELECT coalesce(json_agg(u->>'code'), '[]'::json) FROM jsonb_array_elements(a.admin_units) u)",
    "approximation": "a.approximation",
    "source": "a.source",
    "registration_number": "p.registration_number",
    "standard": "p.standard",
}
_AREA_QUERYABLES = {
    "product_code": Queryable("p.code", "string", "Product code"),
    "name_zh": Queryable("p.name_zh", "string", "Product name (Chinese)"),
    "gi_kind": Queryable("p.gi_kind::text", "string", "Kind of GI protection"),
    "category": Queryable("p.category::text", "string", "Product category"),
    "version": Queryable("a.version", "integer", "Area version"),
    "area_km2": Queryable("a.area_km2::float8", "number", "Area (km²)"),
}

GI_AREAS = Collection(
    id="gi-areas",
    title="GI production areas (地理标志产品保护范围), current versions",
    description="The legally protected production area of each GI product as it is valid today.",
    source=_AREA_SOURCE,
    where="a.valid_to IS NULL",
    id_sql="p.code",
    order_sql="p.code",
    geom_sql="a.geom",
    properties=_AREA_PROPERTIES,
    queryables=_AREA_QUERYABLES,
    temporal=("a.valid_from", "a.valid_to"),
    geometry_type="MultiPolygon",
)

GI_AREA_VERSIONS = Collection(
    id="gi-area-versions",
    title="GI production areas (保护范围历史版本), every version",
    description="Every legal version of each production area; `datetime` selects the versions valid at a time.",
    source=_AREA_SOURCE,
    id_sql="p.code || '-v' || a.version",
    order_sql="p.code, a.version",
    geom_sql="a.geom",
    properties=_AREA_PROPERTIES,
    queryables=_AREA_QUERYABLES,
    temporal=("a.valid_from", "a.valid_to"),
    geometry_type="MultiPolygon",
)

PRODUCERS = Collection(
    id="producers",
    title="Producers (专用标志使用人与经营主体)",
    description="Firms authorized to use the GI special mark and registered market outlets, by product.",
    source="producer pr JOIN gi_product p ON p.id = pr.product_id",
    id_sql="pr.id::text",
    order_sql="pr.id",
    geom_sql="pr.location",
    properties={
        "name": "pr.name",
        "credit_code": "pr.credit_code",
        "kind": "pr.kind",
        "product_code": "p.code",
        "product_name_zh": "p.name_zh",
        "address": "pr.address",
        "county_code": "pr.county_code",
        "authorization_number": "pr.authorization_number",
        "authorized_from": "pr.authorized_from",
        "authorized_to": "pr.authorized_to",
        "synthetic": "pr.synthetic",
    },
    queryables={
        "product_code": Queryable("p.code", "string", "Product code"),
        "kind": Queryable(
            "pr.kind", "string", "producer or market_outlet", enum=("producer", "market_outlet")
        ),
        "county_code": Queryable("pr.county_code", "string", "County adcode"),
        "credit_code": Queryable("pr.credit_code", "string", "Unified social credit code"),
        "name": Queryable("pr.name", "string", "Name"),
        "synthetic": Queryable("pr.synthetic", "boolean", "Synthetic (demo) entry"),
    },
    temporal=("pr.authorized_from::timestamptz", "pr.authorized_to::timestamptz"),
)

_SAMPLE_SOURCE = "sample s JOIN gi_product p ON p.id = s.product_id"
# The current verdict of each kind (gi/reads/verdicts.py): one LATERAL ... LIMIT 1 each, an index scan of
# (sample_id, checked_at) in the sample's own month partition per sample of the page.
_SAMPLE_JOINS = (
    ("pr", "LEFT JOIN producer pr ON pr.id = s.producer_id"),
    ("ins", "LEFT JOIN inspector ins ON ins.id = s.collector_id"),
    (
        "ov",
        current_lateral("origin", "ov", "x.verdict::text AS verdict, x.distance_m, x.flags, x.area_version"),
    ),
    ("qv", current_lateral("quality", "qv", "x.outcome::text AS outcome")),
    ("ev", current_lateral("evidence", "ev", "x.grade::text AS grade")),
)

SAMPLES = Collection(
    id="samples",
    title="Samples with their current verdicts (抽样样品及判定)",
    description="Samples collected by inspectors, with the current origin, quality and evidence verdicts; "
    "supervisors see their region, administrators everything.",
    source=_SAMPLE_SOURCE,
    left_joins=_SAMPLE_JOINS,
    id_sql="s.id::text",
    order_sql="s.collected_at, s.id",
    geom_sql="s.location",
    properties={
        "product_code": "p.code",
        "product_name_zh": "p.name_zh",
        "collected_at": "s.collected_at",
        "producer_id": "s.producer_id",
        "producer_name": "pr.name",
        "task_id": "s.task_id",
        "lot_number": "s.lot_number",
        "collector": "ins.code",
        "gps_accuracy_m": "s.gps_accuracy_m",
        "location_source": "s.location_source::text",
        "origin_verdict": "ov.verdict",
        "distance_m": "ov.distance_m",
        "origin_flags": "to_json(ov.flags)",
        "area_version": "ov.area_version",
        "quality_outcome": "qv.outcome",
        "evidence_grade": "ev.grade",
    },
    queryables={
        "product_code": Queryable("p.code", "string", "Product code"),
        "origin_verdict": Queryable(
            "ov.verdict", "string", "Origin verdict", enum=("inside", "outside", "uncertain")
        ),
        "quality_outcome": Queryable("qv.outcome", "string", "Quality outcome"),
        "evidence_grade": Queryable("ev.grade", "string", "Combined origin evidence grade"),
        "collector": Queryable("ins.code", "string", "Inspector code"),
        "producer_id": Queryable("s.producer_id", "integer", "Producer id"),
        "task_id": Queryable("s.task_id", "integer", "Plan task id"),
        "lot_number": Queryable("s.lot_number", "string", "Lot number"),
    },
    temporal=("s.collected_at", None),
    scoped_alias="s",
)

COLLECTIONS: dict[str, Collection] = {c.id: c for c in (GI_AREAS, GI_AREA_VERSIONS, PRODUCERS, SAMPLES)}
