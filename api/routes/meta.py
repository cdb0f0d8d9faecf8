"""The service description: OpenAPI 3.0 at /api, the interactive page at /docs (offline assets), /health."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import SessionDep
from api.openapi import OPENAPI_30, openapi_30

router = APIRouter(tags=["service"])
DOCS_ASSETS = "/docs/assets"


def mount_assets(app: FastAPI) -> None:
    """Serve Swagger UI's files from the installed bundle, so /docs works without the internet."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")


@router.get(
    "/api",
    summary="Service description (OpenAPI 3.0)",
    response_class=JSONResponse,
    responses={200: {"content": {OPENAPI_30: {}}}},
)
def service_description(request: Request) -> JSONResponse:
    """The OpenAPI 3.0 document of this service."""
    return JSONResponse(openapi_30(request.app), media_type=OPENAPI_30)


@router.get(
    "/docs", summary="Interactive documentation", response_class=HTMLResponse, include_in_schema=False
)
def docs() -> HTMLResponse:
    """Swagger UI over /api."""
    return get_swagger_ui_html(
        openapi_url="/api",
        title="GI supervision service (地理标志监管服务)",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
    )


class Health(BaseModel):
    """Whether the service and its database answer."""

    status: str
    database: str


@router.get("/health", summary="Liveness and database check", response_model=Health)
def health(session: SessionDep) -> Health:
    """200 when the database answers; 503 with Retry-After when it does not."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", database="ok")
