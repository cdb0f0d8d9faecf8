"""OpenRosa for ODK Collect: the caller's form list, the sample form, its manifest and media, and submissions.

Collect's server URL is ``https://HOST/odk`` (README). As ODK Central does it: every answer carries
``X-OpenRosa-Version: 1.0`` and ``X-OpenRosa-Accept-Content-Length``; ``formList`` and ``/submission`` refuse a
request without ``X-OpenRosa-Version: 1.0`` (400); ``HEAD /submission`` answers 204; a submission answers 201 with
an ``OpenRosaResponse`` whose message Collect shows (the origin verdict), and an error answers with the same XML
(``nature="error"``) so that Collect shows why. Collect signs in with HTTP Basic (over TLS; see
``api.deps.authorize``), answering the ``WWW-Authenticate: Basic`` challenge of a first 401.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Header, Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.openrosa_xml import OPENROSA_XML, error_zh, openrosa_headers, openrosa_message
from api.problems import STATUS, HTTPProblem, classify_request_error
from gi.field.form import sample_form
from gi.field.submission import XML_PART, Attachment, Submitter, accept_submission
from gi.field.tasklists import form_media, media_file

FORMLIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"

log = logging.getLogger("gi.api")


class OpenRosaRoute(APIRoute):
    """A route whose every answer, an error included, is OpenRosa: its headers, and errors as XML messages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler: OpenRosa headers on every answer; any error as an ``OpenRosaResponse``."""
        handler = super().get_route_handler()

        async def openrosa_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPProblem as exc:
                if (
                    exc.status_code == 401
                ):  # the access check's challenge (problem+json, WWW-Authenticate: Basic)
                    raise
                principal = getattr(request.state, "principal", None)
                role = str(principal.role) if exc.status_code == 403 and principal is not None else None
                field = getattr(exc, "field", None)
                response = _error(request, exc.status_code, str(exc.detail), field, exc.headers, role)
            except Exception as exc:  # every other error through the one classification of gi.errors
                response = _classified(request, exc)
            response.headers.update(openrosa_headers())
            return response

        return openrosa_handler


def _classified(request: Request, exc: Exception) -> Response:
    """An error of the domain (or a library) as OpenRosa; a failure is logged with its traceback."""
    problem, incident = classify_request_error(request, exc)
    if incident is not None:
        message = f"系统内部错误：事件 {incident} 已记入服务日志，请稍后重新发送或联系管理员。"
        return Response(openrosa_message(message, "error"), 500, media_type=OPENROSA_XML)
    retry = {"Retry-After": str(problem.retry_after)} if problem.retry_after else None
    return _error(request, STATUS[problem.kind], problem.message, problem.field, retry)


def _error(
    request: Request,
    status: int,
    detail: str,
    field: str | None,
    headers: Mapping[str, str] | None,
    role: str | None = None,
) -> Response:
    """The error as an ``OpenRosaResponse`` in Chinese (what Collect shows); the English detail goes to the log."""
    log.info("openrosa %s on %s %s: %s", status, request.method, request.url.path, detail)
    message = error_zh(status, detail, field, role)
    return Response(openrosa_message(message, "error"), status, headers=headers, media_type=OPENROSA_XML)


router = APIRouter(prefix="/odk", tags=["ODK Collect (OpenRosa)"], route_class=OpenRosaRoute)

OpenRosaVersion = Annotated[str | None, Header(alias="X-OpenRosa-Version")]


def _require_openrosa(version: str | None) -> None:
    if version != "1.0":
        raise HTTPProblem(
            400, f"X-OpenRosa-Version: expected 1.0, got {version!r}", field="X-OpenRosa-Version"
        )


def _scope(user: CurrentUser) -> tuple[int | None, tuple[str, ...] | None]:
    """Whose tasks the caller's form lists: an inspector his own; a supervisor his region; an admin all."""
    if user.inspector_id is not None:
        return user.inspector_id, None
    return None, (user.regions or None) if user.role != "admin" else None


def _xml(body: str, status: int = 200) -> Response:
    return Response(body, status, media_type=OPENROSA_XML)


XML_OK: dict[int | str, dict[str, Any]] = {200: {"content": {"text/xml": {"schema": {"type": "string"}}}}}


@router.get(
    "/formList",
    summary="OpenRosa form list: the forms the caller may fill",
    response_class=Response,
    responses=XML_OK,
)
def form_list(request: Request, user: CurrentUser, openrosa: OpenRosaVersion = None) -> Response:
    """The sample form, with its manifest URL (its task list is the caller's own)."""
    _require_openrosa(openrosa)
    form = sample_form()
    download = request.url_for("openrosa_form", form_id=form.form_id)
    manifest = request.url_for("openrosa_manifest", form_id=form.form_id)
    return _xml(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<xforms xmlns="{FORMLIST_NS}"><xform>'
        f"<formID>{escape(form.form_id)}</formID><name>{escape(form.title)}</name>"
        f"<version>{escape(form.version)}</version><hash>md5:{form.md5}</hash>"
        f"<downloadUrl>{escape(str(download))}</downloadUrl><manifestUrl>{escape(str(manifest))}</manifestUrl>"
        "</xform></xforms>\n"
    )


def _known_form(form_id: str) -> None:
    if form_id != sample_form().form_id:
        raise HTTPProblem(404, f"form: there is no form {form_id!r} on this server", field="form")


@router.get(
    "/forms/{form_id}.xml", name="openrosa_form", summary="The XForm (built from the XLSForm by pyxform)"
)
def form_xml(form_id: str, user: CurrentUser) -> Response:
    """The XForm of the sample form."""
    _known_form(form_id)
    return _xml(sample_form().xml.decode("utf-8"))


@router.get(
    "/forms/{form_id}/manifest", name="openrosa_manifest", summary="The form's media files, per caller"
)
def manifest(form_id: str, request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """The caller's task list and the products, each with its MD5 and download URL."""
    _known_form(form_id)
    files = form_media(session, *_scope(user))
    items = "".join(
        f"<mediaFile><filename>{escape(f.name)}</filename><hash>md5:{f.md5}</hash>"
        f"<downloadUrl>{escape(str(request.url_for('openrosa_media', form_id=form_id, name=f.name)))}</downloadUrl>"
        "</mediaFile>"
        for f in files.values()
    )
    return _xml(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="{MANIFEST_NS}">{items}</manifest>\n'
    )


@router.get(
    "/forms/{form_id}/attachments/{name}", name="openrosa_media", summary="One media file of the form"
)
def media(form_id: str, name: str, user: CurrentUser, session: SessionDep) -> Response:
    """tasks.csv (the caller's open tasks) or products.csv."""
    _known_form(form_id)
    found = media_file(session, name, *_scope(user))
    return Response(found.content, media_type=f"{found.content_type}; charset=utf-8")


# One route per method, each with its own operation id (one route for both gives the two operations one id).
@router.head(
    "/submission",
    status_code=204,
    summary="OpenRosa pre-flight: 204 and the accepted size",
    response_class=Response,
    operation_id="openrosa_submission_preflight_head",
)
@router.get(
    "/submission",
    status_code=204,
    summary="OpenRosa pre-flight: 204 and the accepted size",
    response_class=Response,
    operation_id="openrosa_submission_preflight_get",
)
def submission_head(user: CurrentUser, openrosa: OpenRosaVersion = None) -> Response:
    """204 with X-OpenRosa-Accept-Content-Length: how large one POST may be (Collect splits larger uploads)."""
    _require_openrosa(openrosa)
    return Response(status_code=204)


@router.post(
    "/submission",
    status_code=201,
    summary="OpenRosa submission: the instance XML and its photos (one POST, or several repeating the XML)",
    response_class=Response,
    responses={
        201: {
            "description": "OpenRosaResponse with the origin verdict",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        },
    },
)
async def submission(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    openrosa: OpenRosaVersion = None,
) -> Response:
    """A sample from ODK Collect: checked and stored (with its verdict and seal codes) before 201 is sent."""
    _require_openrosa(openrosa)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPProblem(400, f"{XML_PART}: required multipart POST field is missing", field=XML_PART)
    try:
        form = await request.form(max_files=100, max_fields=100)
    except HTTPProblem:
        raise  # the body went over the limit while it was read (api/middleware.py): 413
    except Exception as exc:  # the multipart parser's own errors: a malformed body, answered in one line
        raise HTTPProblem(400, f"body: multipart form content failed to parse ({exc})", field="body") from exc
    xml: bytes | None = None
    files: list[Attachment] = []
    for name, value in form.multi_items():
        if not isinstance(value, UploadFile):
            continue
        content = await value.read()
        if name == XML_PART:
            xml = content
        else:
            files.append(Attachment(name, content, value.content_type))
    if xml is None:
        raise HTTPProblem(400, f"{XML_PART}: required multipart POST field is missing", field=XML_PART)
    submitter = Submitter(user.username, user.inspector_id, user.inspector_code)
    result = accept_submission(
        session,
        xml,
        files,
        submitter,
        settings,
        device_id=request.query_params.get("deviceID"),
        user_agent=request.headers.get("user-agent"),
    )
    session.commit()  # the sample, its verdict and seals are committed before Collect hears 201
    return _xml(openrosa_message(result.message), 201)
