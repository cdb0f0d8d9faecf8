"""The baseline of benchmarks/api.py: a bare FastAPI app with one PostGIS insert (and one select) per request,
no authentication, validation, verdict or audit; served by the same uvicorn settings as the service."""

from __future__ import annotations

import os
import uuid

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import create_engine, text

ENGINE = create_engine(os.environ["GI_DATABASE_URL"], pool_size=8, max_overflow=4)


class Point(BaseModel):
    """A point to store."""

    x: float
    y: float


def create_app() -> FastAPI:
    """The bare app."""
    app = FastAPI()

    @app.post("/bare", status_code=201)
    def insert(point: Point) -> dict[str, str]:
        """One INSERT of a PostGIS point, committed."""
        key = uuid.uuid4()
        with ENGINE.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO bench_bare (id, geom) VALUES (:id, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"id": key, "x": point.x, "y": point.y},
            )
        return {"id": str(key)}

    @app.get("/bare")
    def select() -> dict[str, int]:
        """One SELECT."""
        with ENGINE.connect() as conn:
            return {"n": int(conn.execute(text("SELECT count(*) FROM bench_bare WHERE false")).scalar_one())}

    return app
