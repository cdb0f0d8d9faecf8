"""map reference tiles: the national reference layers generalized per zoom level, cut into the map's tiles

Revision ID: 0021_maps
Revises: 0020_service

``map_reference`` holds the country outline (with Taiwan and the South China Sea islands), the provinces and the
maritime line of ``geo_data/admin_data`` in Web Mercator, one generalized copy per zoom level 0-8 (simplified to
half a pixel of a 512-pixel tile at that zoom, topology kept so no island disappears; a province's parts under
about 100 km2 are left to the country below zoom 5). The maritime line is stored as it is at every level, never
generalized. The map's reference tiles are cut from it (``maps.tiles.reference_tile``). The rows are derived from
the bundled files: a later change of those files comes with a revision that reloads them.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

from geo_data import admin

revision = "0021_maps"
down_revision = "0020_service"
branch_labels = None
depends_on = None

LEVELS = 9  # zoom levels 0-8; the map overzooms level 8 beyond it
SMALL_PART_DEG2 = 0.01  # square degrees (about 100 km2)
SMALL_PART_BELOW = 5  # levels below this leave small province parts to the country outline


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "map_reference",
        sa.Column(
            "level", sa.SmallInteger(), nullable=False, comment="tile zoom this generalization is drawn at"
        ),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="country, province or maritime"),
        sa.Column("adcode", sa.String(length=6), nullable=False, comment="administrative code"),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "geom",
            Geometry("GEOMETRY", srid=3857, spatial_index=False),
            nullable=False,
            comment="Web Mercator, simplified for the level",
        ),
        sa.PrimaryKeyConstraint("level", "kind", "adcode", name="pk_map_reference"),
    )
    load = sa.text(
        """
        WITH src AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326) AS g),
             kept AS (  -- small parts of a province are dropped at low levels (the country draws every island)
               SELECT l, CASE WHEN :kind = 'province' AND l < :small_below THEN
                               coalesce((SELECT ST_Collect(d.geom) FROM ST_Dump(src.g) d
                                         WHERE ST_Area(d.geom) >= :small_part), src.g)
                             ELSE src.g END AS g
               FROM src, generate_series(0, :levels - 1) l)
        INSERT INTO map_reference (level, kind, adcode, name, geom)
        SELECT l, :kind, :adcode, :name,
               CASE WHEN :kind = 'maritime' THEN ST_Transform(g, 3857)
                    -- half a pixel of a 512-pixel tile at this zoom, in metres
                    ELSE ST_SimplifyPreserveTopology(ST_Transform(g, 3857), 40075016.68 / (1024 * 2 ^ l)) END
        FROM kept
        """
    )
    bind = op.get_bind()
    for kind, path in (
        ("country", admin.COUNTRY_FILE),
        ("province", admin.PROVINCES_FILE),
        ("maritime", admin.MARITIME_FILE),
    ):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            properties = feature.get("properties") or {}
            bind.execute(
                load,
                {
                    "geometry": json.dumps(feature["geometry"]),
                    "kind": kind,
                    "adcode": str(properties.get("adcode", "")) if kind != "maritime" else "",
                    "name": str(properties.get("name", "")),
                    "levels": LEVELS,
                    "small_below": SMALL_PART_BELOW,
                    "small_part": SMALL_PART_DEG2,
                },
            )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("map_reference")
