"""What a sample's photos say about where and when it was taken: EXIF GPS and time against the declaration.

A photo is flagged when its EXIF position is farther from the declared point than max(GPS accuracy, 100 m), when
it was taken on another (local) day than the sample, or when it has no EXIF (or no position, or no time). The
flags become items of the combined origin evidence (``photo_*`` codes of :mod:`gi.quality.wording`).

EXIF positions of phones are raw GNSS fixes, i.e. WGS84; a time without an offset is the camera's local time,
taken as the configured zone (Asia/Shanghai).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from geoalchemy2.shape import to_shape
from PIL import Image, UnidentifiedImageError
from pyproj import Geod
from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.errors import InputError, NotFoundError, TooLargeError
from gi.models import Sample, SamplePhoto
from gi.quality.evidence import Effect, EvidenceItem
from gi.settings import Settings, get_settings

MIN_DISTANCE_M = 100.0
_GEOD = Geod(ellps="WGS84")
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME, _DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x0132, 0x9003, 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4

# Formats accepted as photos: what Pillow recognizes in the bytes (not what the file name or client says).
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff"}


@dataclass(frozen=True)
class PhotoExif:
    """What a photo's EXIF says: when (aware) and where (WGS84), each None when absent."""

    has_exif: bool
    taken_at: datetime | None
    lon: float | None
    lat: float | None


@dataclass(frozen=True)
class PhotoCheck:
    """A photo against its sample: the flags, and the figures they were decided from."""

    flags: tuple[str, ...]
    distance_m: float | None
    limit_m: float
    taken_at: datetime | None
    lon: float | None
    lat: float | None


def sniff_photo(data: bytes) -> str:
    """The media type of an image, from its bytes; InputError naming ``photo`` when it is not one we accept."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError("photo", f"not a readable image ({type(exc).__name__})") from None
    if kind not in PHOTO_FORMATS:
        raise InputError(
            "photo", f"{kind or 'unknown'} images are not accepted; send JPEG, PNG, WebP or TIFF"
        )
    return PHOTO_FORMATS[kind]


def _degrees(value: object, ref: object) -> float | None:
    try:
        d, m, s = (float(part) for part in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if str(ref).strip().upper() in ("S", "W"):
        degrees = -degrees
    return degrees


def _moment(text: object, offset: object, zone: ZoneInfo) -> datetime | None:
    if not isinstance(text, str) or not text.strip("\x00 "):
        return None
    try:
        naive = datetime.strptime(text.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, str) and len(offset.strip("\x00 ")) >= 6:
        sign = -1 if offset.startswith("-") else 1
        try:
            hours, minutes = int(offset[1:3]), int(offset[4:6])
        except ValueError:
            return naive.replace(tzinfo=zone)
        return naive.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return naive.replace(tzinfo=zone)


def read_exif(data: bytes, zone_name: str = "Asia/Shanghai") -> PhotoExif:
    """The EXIF time and GPS position of a photo (fields that are absent or unreadable are None)."""
    zone = ZoneInfo(zone_name)
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return PhotoExif(False, None, None, None)
    if not exif:
        return PhotoExif(False, None, None, None)
    details = exif.get_ifd(_EXIF_IFD)
    taken = _moment(
        details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME), details.get(_OFFSET_ORIGINAL), zone
    )
    gps = exif.get_ifd(_GPS_IFD)
    lat = _degrees(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF, "N")) if gps.get(_GPS_LAT) else None
    lon = _degrees(gps.get(_GPS_LON), gps.get(_GPS_LON_REF, "E")) if gps.get(_GPS_LON) else None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat = lon = None
    return PhotoExif(True, taken, lon, lat)


def cross_check(
    exif: PhotoExif,
    lon: float,
    lat: float,
    collected_at: datetime,
    accuracy_m: float | None,
    zone_name: str = "Asia/Shanghai",
) -> PhotoCheck:
    """Flags of a photo against the declared WGS84 point and collection time of its sample.

    A declared point whose latitude is past 90° (latitude and longitude swapped, kept as submitted and flagged by
    the origin check) is measured read the other way round: it has no distance as declared.
    """
    if abs(lat) > 90 >= abs(lon):
        lon, lat = lat, lon
    limit = max(float(accuracy_m or 0.0), MIN_DISTANCE_M)
    flags: list[str] = []
    distance = None
    if not exif.has_exif:
        flags.append("photo_no_exif")
    else:
        if exif.lon is None or exif.lat is None:
            flags.append("photo_no_gps")
        else:
            distance = float(_GEOD.inv(lon, lat, exif.lon, exif.lat)[2])
            if not math.isfinite(
                distance
            ):  # not a point on the ellipsoid: unmeasurable, so not corroborating
                distance = None
                flags.append("photo_far")
            elif distance > limit:
                flags.append("photo_far")
        if exif.taken_at is None:
            flags.append("photo_no_time")
        else:
            zone = ZoneInfo(zone_name)
            if exif.taken_at.astimezone(zone).date() != collected_at.astimezone(zone).date():
                flags.append("photo_other_day")
    return PhotoCheck(tuple(flags), distance, limit, exif.taken_at, exif.lon, exif.lat)


def photo_items(checks: Sequence[PhotoCheck]) -> list[EvidenceItem]:
    """Evidence items of a sample's photos: each flag casts doubt; a photo with none supports the claim."""
    items: list[EvidenceItem] = []
    for n, check in enumerate(checks, start=1):
        params: dict[str, object] = {"photo": n, "limit_m": round(check.limit_m)}
        if check.distance_m is not None:
            params["distance_m"] = round(check.distance_m)
        if check.taken_at is not None:
            params["taken_on"] = check.taken_at.date().isoformat()
        if not check.flags:
            items.append(EvidenceItem("photo", Effect.SUPPORTS, "photo_consistent", params))
        for flag in check.flags:
            items.append(EvidenceItem("photo", Effect.DOUBT, flag, params))
    return items


# ------------------------------------------------------------------------------------------- the store


def media_path(media_dir: Path, sha256: str) -> Path:
    """Where a photo's bytes live: ``ab/cd/<sha256>`` under the media directory."""
    return media_dir / sha256[:2] / sha256[2:4] / sha256


def store_bytes(media_dir: Path, data: bytes) -> str:
    """Write ``data`` under its SHA-256 (atomically: a temporary file, fsync, rename); returns the hash.

    Stored before the database row is committed: a rolled-back upload leaves at most an unreferenced file with
    a correct name, never a row without its file.
    """
    sha = hashlib.sha256(data).hexdigest()
    path = media_path(media_dir, sha)
    if path.exists() and path.stat().st_size == len(data):
        return sha
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha


@dataclass(frozen=True)
class AttachedPhoto:
    """A photo attached to a sample (``created`` False when the same photo was attached before), and the
    sample's combined origin grade with every photo's evidence."""

    photo: SamplePhoto
    created: bool
    evidence_grade: str


def _check_of(photo: SamplePhoto) -> PhotoCheck:
    return PhotoCheck(
        tuple(photo.flags or ()), photo.distance_m, photo.limit_m, photo.taken_at, photo.lon, photo.lat
    )


def attach_photo(
    session: Session,
    sample_id: uuid.UUID,
    data: bytes,
    uploaded_by: str | None = None,
    settings: Settings | None = None,
    name: str = "photo",
) -> AttachedPhoto:
    """Check a photo (size, type), store it content-addressed, cross-check its EXIF with the sample, and record
    the sample's combined origin evidence with all its photos (in the caller's transaction); problems name
    ``name`` (the form field or file the photo came in)."""
    from gi.quality.evidence import record_evidence

    settings = settings or get_settings()
    if len(data) > settings.max_photo_bytes:
        raise TooLargeError(name, f"{len(data)} bytes is more than the limit of {settings.max_photo_bytes}")
    if not data:
        raise InputError(name, "the file is empty")
    try:
        media_type = sniff_photo(data)
    except InputError as exc:
        raise InputError(name, exc.problem) from None
    sample = session.get(Sample, sample_id)
    if sample is None:
        raise NotFoundError(f"sample_id: no sample {sample_id}", field="sample_id")
    sha = hashlib.sha256(data).hexdigest()
    existing = session.scalars(
        select(SamplePhoto).where(SamplePhoto.sample_id == sample_id, SamplePhoto.sha256 == sha)
    ).first()
    created = existing is None
    if existing is None:
        point = to_shape(sample.location)
        exif = read_exif(data, settings.timezone)
        check = cross_check(
            exif, point.x, point.y, sample.collected_at, sample.gps_accuracy_m, settings.timezone
        )
        store_bytes(settings.media_dir, data)
        existing = SamplePhoto(
            sample_id=sample_id,
            sha256=sha,
            media_type=media_type,
            bytes=len(data),
            taken_at=check.taken_at,
            lon=check.lon,
            lat=check.lat,
            distance_m=check.distance_m,
            limit_m=check.limit_m,
            flags=list(check.flags),
            uploaded_by=uploaded_by,
        )
        session.add(existing)
        session.flush()
    photos = photos_of(session, sample_id)
    if created:
        evidence = record_evidence(session, sample, extra=photo_items([_check_of(p) for p in photos]))
        grade = evidence.grade.value
    else:
        grade = evidence_grade(session, sample_id) or ""
    return AttachedPhoto(existing, created, grade)


def photos_of(session: Session, sample_id: uuid.UUID) -> list[SamplePhoto]:
    """Every photo attached to a sample, in the order they were attached."""
    return list(
        session.scalars(
            select(SamplePhoto).where(SamplePhoto.sample_id == sample_id).order_by(SamplePhoto.id)
        )
    )


def evidence_grade(session: Session, sample_id: uuid.UUID) -> str | None:
    """The sample's current combined origin grade (None before any evidence was recorded)."""
    from gi.models import OriginEvidence

    latest = session.scalars(
        select(OriginEvidence)
        .where(OriginEvidence.sample_id == sample_id)
        .order_by(OriginEvidence.checked_at.desc(), OriginEvidence.id.desc())
        .limit(1)
    ).first()
    return latest.grade.value if latest is not None else None


def photo_file(session: Session, sample_id: uuid.UUID, sha256: str, settings: Settings | None = None) -> Path:
    """The stored file of one photo of a sample, or NotFoundError naming ``sha256``."""
    settings = settings or get_settings()
    found = session.scalars(
        select(SamplePhoto).where(SamplePhoto.sample_id == sample_id, SamplePhoto.sha256 == sha256)
    ).first()
    path = media_path(settings.media_dir, sha256)
    if found is None or not path.exists():
        raise NotFoundError(f"sha256: no photo {sha256} of sample {sample_id}", field="sha256")
    return path
