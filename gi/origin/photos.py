"""What a sample's photos say about where and when it was taken: EXIF GPS and time against the declaration.

A photo is flagged when its EXIF position is farther from the declared point than max(GPS accuracy, 100 m), when
it was taken on another (local) day than the sample, or when it has no EXIF (or no position, or no time). The
flags become items of the combined origin evidence (``photo_*`` codes of :mod:`gi.quality.wording`).

EXIF positions of phones are raw GNSS fixes, i.e. WGS84; a time without an offset is the camera's local time,
taken as the configured zone (Asia/Shanghai).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from PIL import Image, UnidentifiedImageError
from pyproj import Geod

from gi.errors import InputError
from gi.quality.evidence import Effect, EvidenceItem

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
    """Flags of a photo against the declared WGS84 point and collection time of its sample."""
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
            if distance > limit:
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
