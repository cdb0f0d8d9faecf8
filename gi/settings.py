"""One settings object for the whole system, read from ``GI_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """System settings; every field can be set as ``GI_<NAME>`` in the environment or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="GI_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a PostGIS database; unset means the project's own local cluster.",
    )
    local_pgdata: Path = Field(
        default=PROJECT_ROOT / ".pgdata",
        description="Data directory of the project's own local PostgreSQL cluster.",
    )
    local_port: int = Field(default=54329, description="Preferred TCP port of the local cluster (127.0.0.1).")
    local_fast: bool = Field(
        default=False,
        description="Start the local cluster without crash safety (fsync, full-page writes and synchronous "
        "commit off): for throw-away test data only, as scripts/test.sh does; a power loss can lose or corrupt "
        "it. Applies when the cluster starts; a running cluster keeps its settings.",
    )
    database_replica_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a read replica for read-only paths (public pages, OGC reads, read models); "
        "unset means they read the primary. `gi db up --replica` prints the local replica's URL.",
    )
    replica_max_lag_s: float = Field(
        default=5.0,
        ge=0,
        description="A replica further behind than this (or not streaming) is not read: reads go to the primary.",
    )
    replica_check_s: float = Field(
        default=1.0,
        ge=0,
        description="How long a replica's freshness check is trusted before it is repeated, s.",
    )
    local_replica_pgdata: Path = Field(
        default=PROJECT_ROOT / ".pgdata-replica",
        description="Data directory of the local cluster's streaming replica (`gi db up --replica`).",
    )
    local_database: str = Field(default="gi", description="Database name on the local cluster.")
    output_dir: Path = Field(default=PROJECT_ROOT / "out", description="Where maps, reports and exports go.")
    boundary_tolerance_m: float = Field(
        default=30.0, ge=0, description="Band around an area boundary in which a verdict is 'uncertain'."
    )
    max_gps_accuracy_m: float = Field(
        default=100.0, gt=0, description="A GPS accuracy worse than this is flagged and not trusted."
    )
    # 2,500 rather than 10,000: 1.4 M rows against 2,875 county areas peaked at 892-902 MiB instead of
    # 1,007-1,009 MiB, in the same wall time (benchmarks/origin.py (d), 2026-12-06 evening).
    intake_chunk_rows: int = Field(
        default=2_500,
        ge=100,
        description="Rows of a sample file stored and committed together (memory grows with it, not with the file).",
    )
    area_min_overlap: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A new area version that covers less than this share of the current one needs --replace.",
    )
    area_max_size_ratio: float = Field(
        default=1.5,
        ge=1,
        description="A new area version larger or smaller than the current one by more than this factor needs "
        "--replace.",
    )
    timezone: str = Field(default="Asia/Shanghai", description="Time zone that decides seasons and dates.")
    tile_url: str | None = Field(default=None, description="Optional XYZ tile URL for maps; none = offline.")
    tianditu_key: str | None = Field(
        default=None,
        description="Key (tk) of the 天地图 (Tianditu) WMTS service: its vector and imagery base maps are "
        "offered on every map; none = offline.",
    )
    map_review_number: str = Field(
        default="审图号：（示意图，未送审）",
        description="Map review number (审图号) printed on published maps.",
    )
    balance_tolerance: float = Field(
        default=1.0,
        ge=1.0,
        description="A holder, outlet or online seller is flagged when what it issued or sold exceeds its capacity "
        "or supply times this factor.",
    )
    balance_market_factor: float = Field(
        default=1.0,
        gt=0,
        description="A product is flagged when the volume seen on the market exceeds its capacity times this factor.",
    )
    reference_min_per_year: int | None = Field(
        default=None,
        ge=1,
        description="Authentic fingerprint references a product needs per harvest year; unset = what the "
        "fingerprint needs for the set's variables (min_ratio × p).",
    )
    references_dir: Path | None = Field(
        default=None,
        description="Directory of origin-fingerprint reference sets (CSV + JSON); unset = the bundled "
        "synthetic sets in geo_data/references.",
    )
    # The HTTP service (`gi serve`).
    api_host: str = Field(default="127.0.0.1", description="Address `gi serve` listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port `gi serve` listens on.")
    api_workers: int = Field(default=1, ge=1, description="Uvicorn worker processes of `gi serve`.")
    api_cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (JSON list); empty = CORS closed."
    )
    api_token_minutes: int = Field(default=720, ge=1, description="Lifetime of an access token, minutes.")
    api_max_request_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above it)."
    )
    api_max_json_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest JSON request body accepted (413 above it)."
    )
    api_login_failures: int = Field(
        default=5, ge=1, description="Failed logins per user name (and 4x per client) before a pause."
    )
    api_login_window_s: int = Field(default=900, ge=1, description="Window of the failed-login count, s.")
    # argon2id cost of stored passwords: OWASP's minimum (19 MiB, 2 passes, 1 lane), not pwdlib's recommended()
    # (64 MiB, 3 passes, 4 lanes): see docs/security.md. A changed cost rehashes each password at its next login.
    password_memory_kib: int = Field(
        default=19456, ge=7168, le=4 * 1024 * 1024, description="argon2id memory per password check, KiB."
    )
    password_time_cost: int = Field(default=2, ge=1, le=20, description="argon2id passes over that memory.")
    password_parallelism: int = Field(default=1, ge=1, le=16, description="argon2id lanes (threads).")
    media_dir: Path = Field(
        default=PROJECT_ROOT / "media", description="Content-addressed store of photos (SHA-256 names)."
    )
    issuing_office: str | None = Field(
        default=None, description="Issuing office printed on notices and reports (e.g. 杭州市市场监督管理局)."
    )
    legal_basis: str | None = Field(
        default=None, description="Legal basis cited by notices and reports (default: reports.layout's)."
    )
    max_photo_bytes: int = Field(default=15 * 1024 * 1024, ge=1024, description="Largest photo accepted.")
    api_upload_grouping: bool = Field(
        default=True,
        description="Store JSON uploads that arrive together in one service worker as one group (one transaction "
        "and commit); off: each upload alone (the benchmark's baseline). Answers are the same either way.",
    )
    api_basic_over_http: bool = Field(
        default=False,
        description="Accept HTTP Basic credentials (ODK Collect) over plain HTTP; only for a closed test network: "
        "behind a TLS proxy the scheme is https (X-Forwarded-Proto).",
    )


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; call ``get_settings.cache_clear()`` after env changes)."""
    return Settings()
