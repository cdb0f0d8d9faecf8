"""EXIF cross-check of sample photos, on real JPEGs written with piexif: position, day, and no EXIF at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from photo_fixtures import jpeg

from gi.errors import InputError
from gi.origin.photos import cross_check, photo_items, read_exif, sniff_photo
from gi.quality.evidence import Effect

SHANGHAI = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2025, 4, 2, 10, 30, tzinfo=SHANGHAI)
LON, LAT = 120.1138, 30.2402  # West Lake Longjing area


def test_reads_gps_and_local_time() -> None:
    exif = read_exif(jpeg(LON, LAT, WHEN.replace(tzinfo=None)))
    assert exif.has_exif and exif.taken_at == WHEN
    assert exif.lon == pytest.approx(LON, abs=1e-6) and exif.lat == pytest.approx(LAT, abs=1e-6)


def test_offset_time_is_honoured() -> None:
    utc_evening = datetime(2025, 4, 1, 20, 0, tzinfo=ZoneInfo("UTC"))  # 04:00 on 2 April in Shanghai
    check = cross_check(read_exif(jpeg(LON, LAT, utc_evening)), LON, LAT, WHEN, 5.0)
    assert "photo_other_day" not in check.flags


def test_close_same_day_photo_is_not_flagged_and_supports() -> None:
    # 60 m north: within the 100 m floor even though the fix claims 5 m accuracy
    check = cross_check(read_exif(jpeg(LON, LAT + 0.00054, WHEN.replace(tzinfo=None))), LON, LAT, WHEN, 5.0)
    assert check.flags == () and 50 < (check.distance_m or 0) < 70 and check.limit_m == 100
    (item,) = photo_items([check])
    assert item.effect is Effect.SUPPORTS and item.code == "photo_consistent" and "照片1" in item.text_zh


def test_far_photo_is_flagged_against_max_of_accuracy_and_100_m() -> None:
    photo = read_exif(jpeg(LON + 0.003, LAT, WHEN.replace(tzinfo=None)))  # about 290 m east
    assert cross_check(photo, LON, LAT, WHEN, 5.0).flags == ("photo_far",)
    assert cross_check(photo, LON, LAT, WHEN, 400.0).flags == ()  # a poor fix widens the circle


def test_other_day_no_gps_and_no_exif() -> None:
    yesterday = (WHEN - timedelta(days=1)).replace(tzinfo=None)
    assert cross_check(read_exif(jpeg(LON, LAT, yesterday)), LON, LAT, WHEN, 5.0).flags == (
        "photo_other_day",
    )
    assert cross_check(read_exif(jpeg(None, None, WHEN.replace(tzinfo=None))), LON, LAT, WHEN, 5).flags == (
        "photo_no_gps",
    )
    bare = cross_check(read_exif(jpeg(exif=False)), LON, LAT, WHEN, 5.0)
    assert bare.flags == ("photo_no_exif",)
    items = photo_items([bare])
    assert [i.effect for i in items] == [Effect.DOUBT] and "EXIF" in items[0].text


def test_sniff_refuses_what_is_not_an_image() -> None:
    assert sniff_photo(jpeg(LON, LAT, WHEN)) == "image/jpeg"
    with pytest.raises(InputError) as caught:
        sniff_photo(b"%PDF-1.7 not a photo")
    assert caught.value.field == "photo"
