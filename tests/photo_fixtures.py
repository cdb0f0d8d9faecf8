"""Real JPEG photos written in the tests, with EXIF GPS and time set by piexif (or none at all)."""

from __future__ import annotations

import io
from datetime import datetime
from fractions import Fraction

import piexif
from PIL import Image


def _rational(value: float) -> tuple[int, int]:
    f = Fraction(value).limit_denominator(1_000_000)
    return f.numerator, f.denominator


def _dms(degrees: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    degrees = abs(degrees)
    d = int(degrees)
    minutes = (degrees - d) * 60
    m = int(minutes)
    s = (minutes - m) * 60
    return (d, 1), (m, 1), _rational(round(s, 4))


def jpeg(
    lon: float | None = None,
    lat: float | None = None,
    taken: datetime | None = None,
    exif: bool = True,
    size: tuple[int, int] = (64, 48),
    colour: tuple[int, int, int] = (90, 140, 60),
) -> bytes:
    """A JPEG with EXIF DateTimeOriginal (local time, with its offset when aware) and GPS, as a phone writes."""
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    if not exif:
        image.save(out, "JPEG", quality=80)
        return out.getvalue()
    zeroth = {piexif.ImageIFD.Make: b"GI test camera"}
    details: dict[int, object] = {}
    if taken is not None:
        details[piexif.ExifIFD.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S").encode()
        if taken.tzinfo is not None:
            offset = taken.strftime("%z")
            details[piexif.ExifIFD.OffsetTimeOriginal] = f"{offset[:3]}:{offset[3:]}".encode()
    gps: dict[int, object] = {}
    if lon is not None and lat is not None:
        gps = {
            piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S",
            piexif.GPSIFD.GPSLatitude: _dms(lat),
            piexif.GPSIFD.GPSLongitudeRef: b"E" if lon >= 0 else b"W",
            piexif.GPSIFD.GPSLongitude: _dms(lon),
        }
    blob = piexif.dump({"0th": zeroth, "Exif": details, "GPS": gps, "1st": {}, "thumbnail": None})
    image.save(out, "JPEG", quality=80, exif=blob)
    return out.getvalue()
