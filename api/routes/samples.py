"""Samples: inspectors upload them (JSON with a client UUID, idempotent), everyone signed in reads his scope.

``POST /samples`` calls the domain's one intake function (:func:`gi.origin.intake.record_sample`) and commits the
sample, its origin verdict and their audit entries before it answers 201; uploads arriving together in a worker
are stored as a group, each still answered as if alone (:mod:`api.grouping`, ``GI_API_UPLOAD_GROUPING``). A retry with the same body answers
the same (``Idempotent-Replayed: true``); the same UUID with other content is 409 naming the differing fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from api.deps import CurrentUser, ScopeDep, SessionDep, SettingsDep
from api.grouping import UploadGroups, receive_alone
from api.ogc.routes import GEOJSON, features_response
from api.problems import HTTPProblem, validation_detail
from geo_data.sample_files import TEMPLATE_COLUMNS, canonical_name
from gi.accounts.tokens import Principal
from gi.db import get_engine
from gi.errors import TooLargeError
from gi.features.catalog import SAMPLES
from gi.features.query import MAX_LIMIT, FeatureQuery, item
from gi.field.receive import ReceivedSample, Submission, Submitter, receive_sample
from gi.field.seals import PREFIX as SEAL_PREFIX
from gi.models import Role, SamplePhoto
from gi.origin.fields import SampleInput
from gi.origin.photos import attach_photo, evidence_grade, photo_file, photos_of
from gi.settings import Settings

router = APIRouter(tags=["samples"])


class SampleUpload(SampleInput):
    """A sample as an inspector submits it: the intake's own fields (:class:`gi.origin.fields.SampleInput`), with
    the client's UUID required (a retry sends the same one) and the seal labels scanned on the sealed units.

    The columns of the sample file template (``gi check --template``) are accepted by their names too
    (:data:`TEMPLATE_NAMES`: ``lon``, ``lat``, ``producer_credit_code``); any other field is refused (422), so a
    misspelt field is not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID = Field(  # required here: the client's UUID makes retries safe
        description="client-generated UUID; a retry with the same body is answered the same"
    )
    seal_codes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="registered seal codes (GI-XXXX-XXXX-X) scanned on the sealed units; each is claimed once",
    )

    @model_validator(mode="before")
    @classmethod
    def _template_names(cls, data: object) -> object:
        """The template's column names as the body's own (``lon`` is ``x``); both names of one field are refused."""
        if not isinstance(data, dict) or not TEMPLATE_NAMES.keys() & data.keys():
            return data
        renamed = dict(data)
        for alias, name in TEMPLATE_NAMES.items():
            if alias in renamed:
                if name in renamed:
                    raise PydanticCustomError(
                        "duplicate_field",
                        "{alias} and {name} are one field: give one of them",
                        {"alias": alias, "name": name},
                    )
                renamed[name] = renamed.pop(alias)
        return renamed


# The template's English column names that are not the body's own field names (lon, lat, producer_credit_code),
# with the field each one is: README, the template and the API name a sample's fields alike.
TEMPLATE_NAMES: dict[str, str] = {
    column: name
    for column, _, _ in TEMPLATE_COLUMNS
    if column not in SampleUpload.model_fields and (name := canonical_name(column)) is not None
}


class OriginOut(BaseModel):
    """The origin verdict of a sample: inside, outside or uncertain, and why."""

    verdict: str
    distance_m: float | None
    band_m: float
    area_version: int | None
    flags: list[str]
    lon: float
    lat: float
    rule: str


class PhotoOut(BaseModel):
    """A stored photo: its content hash and what its EXIF says against the sample."""

    sha256: str
    media_type: str
    bytes: int
    taken_at: datetime | None
    distance_m: float | None
    limit_m: float
    flags: list[str]
    href: str


class SampleOut(BaseModel):
    """A stored sample, its origin verdict, its photos and the combined origin grade."""

    id: uuid.UUID
    product: str
    collected_at: datetime
    origin: OriginOut | None
    seal_codes: list[str] = []
    photos: list[PhotoOut] = []
    evidence_grade: str | None = None
    links: dict[str, str]


def _submitter(body: SampleUpload, user: Principal) -> Submitter:
    """Who uploads: an inspector as himself (another collector is refused), staff as themselves."""
    if user.role is Role.INSPECTOR:
        if body.collector not in (None, user.inspector_code):
            raise HTTPProblem(
                422, f"collector: you upload as yourself ({user.inspector_code})", field="collector"
            )
        return Submitter(user.username, user.inspector_id, user.inspector_code)
    return Submitter(user.username)


def _submission(body: SampleUpload, user: Principal) -> Submission:
    """The upload as the domain receives it: its fields, its sender and the seal codes scanned."""
    submitter = _submitter(body, user)
    fields = body.model_dump(exclude={"seal_codes"})
    fields["source"] = "api"
    if submitter.inspector_code:
        fields["collector"] = submitter.inspector_code
    codes = list(body.seal_codes)
    if body.seal_code and body.seal_code.strip().upper().startswith(SEAL_PREFIX) and not codes:
        codes = [body.seal_code]  # a scanned label given as the one seal code is claimed like a list of them
    return Submission(fields, submitter, codes)


def _receive(session: Session, body: SampleUpload, user: Principal, settings: Settings) -> ReceivedSample:
    submission = _submission(body, user)
    return receive_sample(session, submission.fields, submission.submitter, submission.seal_codes, settings)


def _sample_out(request: Request, received: ReceivedSample) -> SampleOut:
    recorded = received.recorded
    v = recorded.verdict
    origin = (
        OriginOut(
            verdict=v.verdict.value,
            distance_m=v.distance_m,
            band_m=v.band_m,
            area_version=v.area_version,
            flags=list(v.flags),
            lon=round(v.lon, 7),
            lat=round(v.lat, 7),
            rule=v.rule,
        )
        if v is not None
        else None
    )
    return SampleOut(
        id=recorded.sample_id,
        product=recorded.content.product_code,
        collected_at=recorded.content.collected_at,
        origin=origin,
        seal_codes=received.seal_codes,
        links={"self": f"{request.base_url}samples/{recorded.sample_id}"},
    )


def _photo_out(request: Request, p: SamplePhoto) -> PhotoOut:
    return PhotoOut(
        sha256=p.sha256,
        media_type=p.media_type,
        bytes=p.bytes,
        taken_at=p.taken_at,
        distance_m=round(p.distance_m, 1) if p.distance_m is not None else None,
        limit_m=p.limit_m,
        flags=list(p.flags or []),
        href=f"{request.base_url}samples/{p.sample_id}/photos/{p.sha256}",
    )


def _with_stored_photos(session: Session, request: Request, out: SampleOut) -> None:
    """Fill ``out`` with the sample's stored photos and, when it has any, its current combined origin grade."""
    stored = photos_of(session, out.id)
    out.photos = [_photo_out(request, p) for p in stored]
    out.evidence_grade = evidence_grade(session, out.id) if stored else None


async def _photo_bytes(photos: list[UploadFile], limit: int) -> list[bytes]:
    out = []
    for upload in photos:
        if upload.size is not None and upload.size > limit:
            raise TooLargeError("photo", f"{upload.filename}: more than the limit of {limit} bytes")
        out.append(await upload.read())
    return out


@router.post(
    "/samples",
    summary="Upload a sample (idempotent on its UUID)",
    status_code=201,
    response_model=SampleOut,
    responses={409: {"description": "The UUID is stored with other content; `differences` names the fields"}},
)
async def upload_sample(
    body: SampleUpload,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
) -> Response:
    """Validate, check origin and store the sample with its verdict; committed (with its audit entry) before the
    answer. The same body again answers the same; the same UUID with other content is 409."""
    submission = _submission(body, user)
    if settings.api_upload_grouping:  # with the uploads waiting beside it in this worker (api/grouping.py)
        groups: UploadGroups = request.app.state.upload_groups
        engine = getattr(request.app.state, "engine", None) or get_engine()
        received = await groups.receive(engine, session, submission, settings)
    else:
        received = await run_in_threadpool(receive_alone, session, submission, settings)
    headers = None if received.recorded.created else {"Idempotent-Replayed": "true"}
    out = _sample_out(request, received)
    if not received.recorded.created:  # a replay answers what is stored, photos sent by the form included
        await run_in_threadpool(_with_stored_photos, session, request, out)
    # The model built here is valid by construction: answered as its JSON at once, rather than validated again
    # and serialized by FastAPI against response_model (which still documents it), about 0.1 ms an upload.
    return Response(
        out.model_dump_json().encode(),
        status_code=201,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "/samples/form",
    summary="Upload a sample with its photos (multipart)",
    status_code=201,
    response_model=SampleOut,
    responses={409: {"description": "The UUID is stored with other content"}},
)
async def upload_sample_form(
    sample: Annotated[str, Form(description="the sample as JSON (the body of POST /samples)")],
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    photo: Annotated[list[UploadFile] | None, File(description="JPEG, PNG, WebP or TIFF photos")] = None,
) -> SampleOut:
    """The sample and its photos in one request, stored together (photos cross-checked against the sample)."""
    try:
        body = SampleUpload.model_validate_json(sample)
    except ValidationError as exc:
        name, detail = validation_detail(exc.errors(), "sample")
        raise HTTPProblem(422, detail, field=name) from None
    data = await _photo_bytes(photo or [], settings.max_photo_bytes)

    def store() -> SampleOut:
        received = _receive(session, body, user, settings)
        recorded = received.recorded
        attached = [attach_photo(session, recorded.sample_id, d, user.username, settings) for d in data]
        session.commit()
        out = _sample_out(request, received)
        if attached:
            out.photos = [_photo_out(request, p) for p in photos_of(session, recorded.sample_id)]
            out.evidence_grade = attached[-1].evidence_grade
        elif not recorded.created:
            _with_stored_photos(session, request, out)
        if not recorded.created and not any(a.created for a in attached):
            response.headers["Idempotent-Replayed"] = "true"
        return out

    return await run_in_threadpool(store)


@router.post(
    "/samples/{sample_id}/photos",
    summary="Add photos to a sample (multipart)",
    status_code=201,
    response_model=list[PhotoOut],
)
async def add_photos(
    sample_id: Annotated[uuid.UUID, Path()],
    photo: Annotated[list[UploadFile], File(description="JPEG, PNG, WebP or TIFF photos")],
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    settings: SettingsDep,
) -> list[PhotoOut]:
    """Store each photo content-addressed, cross-check its EXIF GPS and time with the sample, and record the
    combined origin evidence; the same photo again is a no-op."""
    data = await _photo_bytes(photo, settings.max_photo_bytes)

    def store() -> list[PhotoOut]:
        item(session, SAMPLES, scope, str(sample_id))  # 404 outside the caller's scope
        attached = [attach_photo(session, sample_id, d, user.username, settings) for d in data]
        session.commit()
        return [_photo_out(request, a.photo) for a in attached]

    return await run_in_threadpool(store)


@router.get(
    "/samples/{sample_id}/photos/{sha256}",
    summary="One photo of a sample",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}, "image/tiff": {}}}},
)
def get_photo(
    sample_id: Annotated[uuid.UUID, Path()],
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
) -> FileResponse:
    """The photo's bytes (only for callers who may see the sample)."""
    item(session, SAMPLES, scope, str(sample_id))
    path = photo_file(session, sample_id, sha256, settings)
    from gi.origin.photos import sniff_photo

    return FileResponse(path, media_type=sniff_photo(path.read_bytes()))


@router.get(
    "/samples",
    summary="Samples in your scope with their current verdicts (GeoJSON)",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
)
def samples(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """An inspector's own samples, a supervisor's region's, or all (admin), newest last, paged."""
    return features_response(
        request,
        session,
        SAMPLES,
        scope,
        FeatureQuery(limit=limit, offset=offset),
        f"{request.base_url}samples",
    )


@router.get(
    "/samples/{sample_id}",
    summary="One sample in your scope with its current verdicts (GeoJSON feature)",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
)
def sample(sample_id: Annotated[uuid.UUID, Path()], session: SessionDep, scope: ScopeDep) -> Response:
    """The sample as a GeoJSON feature (404 when it is not in your scope)."""
    return Response(item(session, SAMPLES, scope, str(sample_id)).encode("utf-8"), media_type=GEOJSON)
