"""ODK submissions (OpenRosa) of the sample form turned into samples, as ODK Central handles them.

A submission is the instance XML plus its attachments, sent in one POST or, when large, in several POSTs that
repeat the same XML with the rest of the files. The first POST of an instanceID becomes a sample through the
same intake as a JSON upload (:func:`gi.origin.intake.record_sample`), claims the seal codes scanned on the
sealed units and is stored byte for byte; a later POST with byte-identical XML only adds attachments; a POST with
the same instanceID and different XML is a conflict. Attachments the XML does not name are ignored.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from sqlalchemy import select
from sqlalchemy.orm import Session

from gi.errors import ConflictError, InputError, NotFoundError
from gi.field.form import sample_form
from gi.field.receive import Submitter, receive_sample
from gi.field.seals import sample_seal_codes
from gi.market.credit_code import is_valid_uscc
from gi.models import (
    GIProduct,
    OdkAttachment,
    OdkSubmission,
    OriginVerdictRecord,
    Producer,
)
from gi.origin.photos import attach_photo
from gi.origin.rule import OriginVerdict
from gi.quality.wording import flag_label_zh, reason_text
from gi.reads.verdicts import sample_verdicts
from gi.settings import Settings

__all__ = ["Attachment", "Submitter", "accept_submission", "read_submission"]

XML_PART = "xml_submission_file"
PHOTO_FIELDS = ("photo_1", "photo_2", "photo_3")
LOCATION_SOURCES = ("device_gps", "map_pick", "geocoded_address")
SUBJECT_KINDS = ("producer", "outlet")


@dataclass(frozen=True)
class SubmissionXml:
    """What the instance XML says: form, version, instanceID, the top-level fields, seal codes and file names."""

    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    fields: dict[str, str]
    seal_codes: tuple[str, ...]
    attachments: tuple[str, ...]


@dataclass(frozen=True)
class Attachment:
    """One file part of a POST: its part name (the file name the XML uses), bytes and declared type."""

    name: str
    content: bytes
    content_type: str | None = None


@dataclass
class SubmissionResult:
    """What a POST did: the sample, its verdict, the attachments received so far and those still missing."""

    instance_id: str
    sample_id: uuid.UUID
    created: bool
    verdict: OriginVerdict | None
    stored_verdict: OriginVerdictRecord | None
    seal_codes: list[str]
    received: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """The message ODK Collect shows the inspector (Chinese): the verdict, seals and photos."""
        head = "已接收" if self.created else "已补充上传"
        parts = [f"{head}：样品 {str(self.sample_id)[:8]}", origin_message(self.verdict, self.stored_verdict)]
        if self.seal_codes:
            parts.append(f"封样 {len(self.seal_codes)} 件（{'、'.join(self.seal_codes)}）")
        if self.missing:
            parts.append(f"待上传照片：{'、'.join(self.missing)}")
        else:
            parts.append(f"照片 {len(self.received)} 张已全部收到")
        return "；".join(parts) + "。"


def origin_message(verdict: OriginVerdict | None, stored: OriginVerdictRecord | None) -> str:
    """The origin verdict in one Chinese sentence, with its flags."""
    if verdict is not None:
        outcome, version, distance, band, flags = (
            verdict.verdict.value,
            verdict.area_version,
            verdict.distance_m,
            verdict.band_m,
            list(verdict.flags),
        )
    elif stored is not None:
        outcome, version, distance, band, flags = (
            stored.verdict.value,
            stored.area_version,
            stored.distance_m,
            stored.band_m,
            list(stored.flags or ()),
        )
    else:
        return "产地核验：无结论"
    params: dict[str, Any] = {"area_version": version, "distance_m": distance, "band_m": band}
    if outcome == "inside":
        text = reason_text("gps_inside", params, "zh")
    elif outcome == "outside":
        text = reason_text("gps_outside", params, "zh")
    elif distance is not None and abs(distance) <= band:
        text = reason_text("gps_band", params, "zh")
    else:
        text = reason_text("gps_untrusted", params, "zh")
    label = {"inside": "产地内", "outside": "产地外", "uncertain": "存疑"}.get(outcome, outcome)
    shown = f"产地核验：{label}（{text}）"
    if flags:
        shown += "，" + "、".join(flag_label_zh(f) for f in flags)
    return shown


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_submission(xml: bytes) -> SubmissionXml:
    """Parse an instance XML (entities and DTDs refused); a missing form id or instanceID names the field."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root: Element = fromstring(xml)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise InputError(XML_PART, f"is not well-formed XML ({exc})") from exc
    form_id = root.get("id")
    if not form_id:
        raise InputError(XML_PART, "the root element has no form ID xml attribute (id)")
    fields: dict[str, str] = {}
    seal_codes: list[str] = []
    instance_id = deprecated_id = None
    for child in root:
        name = _local(child.tag)
        if name == "meta":
            for item in child:
                if _local(item.tag) == "instanceID":
                    instance_id = (item.text or "").strip()
                elif _local(item.tag) == "deprecatedID":
                    deprecated_id = (item.text or "").strip() or None
        elif name == "unit":
            for item in child:
                if _local(item.tag) == "seal_code" and (item.text or "").strip():
                    seal_codes.append((item.text or "").strip())
        else:
            fields[name] = (child.text or "").strip()
    if not instance_id:
        raise InputError("instanceID", "the submission has no meta/instanceID")
    if len(instance_id) > 100:
        raise InputError("instanceID", "is longer than 100 characters")
    attachments = tuple(dict.fromkeys(fields[f] for f in PHOTO_FIELDS if fields.get(f)))
    return SubmissionXml(
        form_id=form_id,
        version=root.get("version") or "",
        instance_id=instance_id,
        deprecated_id=deprecated_id,
        fields=fields,
        seal_codes=tuple(seal_codes),
        attachments=attachments,
    )


def parse_geopoint(text: str) -> tuple[float, float, float | None, float | None]:
    """An ODK geopoint "lat lon [alt [accuracy]]" as (lat, lon, altitude, accuracy); out of range in both readings
    (latitude first, or swapped) is an :class:`InputError` on ``location``."""
    parts = text.split()
    if len(parts) < 2 or len(parts) > 4:
        raise InputError("location", f"{text!r} is not an ODK geopoint 'lat lon alt accuracy'")
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise InputError("location", f"{text!r} is not an ODK geopoint 'lat lon alt accuracy'") from exc
    lat, lon = values[0], values[1]
    if not all(math.isfinite(v) for v in values):
        raise InputError("location", f"{text!r} holds a value that is not a number")
    if not (abs(lat) <= 90 and abs(lon) <= 180) and not (abs(lon) <= 90 and abs(lat) <= 180):
        # Swapped (latitude past 90, longitude within it) is kept, as a JSON upload is: the origin check flags it.
        raise InputError(
            "location",
            f"{text!r}: latitude {lat:g} and longitude {lon:g} are out of range in either order "
            "(latitude within ±90°, longitude within ±180°)",
        )
    altitude = values[2] if len(values) > 2 else None
    accuracy = values[3] if len(values) > 3 else None
    return lat, lon, altitude, accuracy


def sample_fields(parsed: SubmissionXml, submitter: Submitter) -> dict[str, Any]:
    """The submission as the fields of a sample upload (the JSON upload's fields), checked field by field."""
    f = parsed.fields
    lat, lon, _, accuracy = parse_geopoint(f.get("location", ""))
    lat_text, lon_text = f["location"].split()[:2]
    task = f.get("task", "")
    if not task.isdigit():
        raise InputError("task", f"{task!r} is not a task of the task list")
    lot_size = f.get("lot_size") or None
    if lot_size is not None and not lot_size.isdigit():
        raise InputError("lot_size", f"{lot_size!r} is not a whole number of units")
    source = f.get("location_source") or "device_gps"
    if source not in LOCATION_SOURCES:
        raise InputError("location_source", f"{source!r} is not one of {', '.join(LOCATION_SOURCES)}")
    uid = parsed.instance_id.removeprefix("uuid:")
    try:
        sample_id = str(uuid.UUID(uid))
    except ValueError:
        sample_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"odk:{parsed.form_id}:{parsed.instance_id}"))
    return {
        "id": sample_id,
        "product": f.get("product", ""),
        "task_id": int(task),
        "collected_at": f.get("collected_at") or None,
        "x": lon,
        "y": lat,
        "x_text": lon_text,
        "y_text": lat_text,
        "crs": "WGS84",  # ODK geopoints are WGS84 (the phone's GNSS)
        "gps_accuracy_m": accuracy,
        "location_source": source,
        "lot_number": f.get("lot_number") or None,
        "lot_size": int(lot_size) if lot_size else None,
        "collector": submitter.inspector_code,
        "notes": f.get("notes") or None,
        # What the notice prints: where the sample was taken, the label, the specification and the date.
        "sampled_at": f.get("subject_kind") or None,
        "outlet_name": f.get("producer_name") or None,
        "outlet_address": f.get("outlet_address") or None,
        "labelled_producer": f.get("labelled_producer") or None,
        "labelled_address": f.get("labelled_address") or None,
        "specification": f.get("specification") or None,
        "production_date": f.get("production_date") or None,
        "source": f"odk:{parsed.form_id}@{parsed.version}",
    }


def _producer_key(session: Session, parsed: SubmissionXml) -> str | None:
    """The credit code to record as the sample's producer: only a producer of the product in the directory.

    An outlet, or a producer missing from the authorized directory, is kept with the submission as recorded
    (a finding for the supervisor), not refused: the sample is evidence either way.
    """
    f = parsed.fields
    kind = f.get("subject_kind") or "producer"
    if kind not in SUBJECT_KINDS:
        raise InputError("subject_kind", f"{kind!r} is not one of {', '.join(SUBJECT_KINDS)}")
    code = (f.get("credit_code") or "").upper()
    if code and not is_valid_uscc(code):
        raise InputError(
            "credit_code", f"{code} is not a valid unified social credit code (check characters)"
        )
    if kind != "producer" or not code:
        return None
    found = session.scalar(
        select(Producer.id)
        .join(GIProduct, GIProduct.id == Producer.product_id)
        .where(Producer.credit_code == code, GIProduct.code == f.get("product", ""))
    )
    return code if found is not None else None


def accept_submission(
    session: Session,
    xml: bytes,
    files: Sequence[Attachment],
    submitter: Submitter,
    settings: Settings | None = None,
    device_id: str | None = None,
    user_agent: str | None = None,
) -> SubmissionResult:
    """Take one OpenRosa POST (in the caller's transaction): a new sample, or more attachments of a known one.

    The sample is received as a JSON upload is (:func:`gi.field.receive.receive_sample`); its photos go to the
    photo store with their EXIF cross-check (:func:`gi.origin.photos.attach_photo`).
    """
    parsed = read_submission(xml)
    form = sample_form()
    if parsed.form_id != form.form_id:
        raise NotFoundError(f"form: there is no form {parsed.form_id!r} on this server")
    if parsed.version != form.version:
        raise NotFoundError(
            f"form: version {parsed.version!r} of {form.form_id} is not the current version {form.version}; "
            "download the blank form again (获取空白表单)"
        )
    if parsed.deprecated_id:
        raise InputError(
            "deprecatedID",
            "an edited submission is not accepted: a stored sample is evidence; send a note instead",
        )
    existing = session.scalars(
        select(OdkSubmission).where(OdkSubmission.instance_id == parsed.instance_id).with_for_update()
    ).first()
    if existing is not None:
        if existing.xml != xml:
            raise ConflictError(
                f"instanceID: a submission {parsed.instance_id} with different XML was already received",
                field="instanceID",
            )
        received, missing = _store_attachments(session, existing, files, submitter, settings)
        stored = sample_verdicts(session, existing.sample_id).origin

        return SubmissionResult(
            parsed.instance_id,
            existing.sample_id,
            False,
            None,
            stored,
            sample_seal_codes(session, existing.sample_id),
            received,
            missing,
        )
    data = sample_fields(parsed, submitter)
    data["producer"] = _producer_key(session, parsed)
    received_sample = receive_sample(
        session, data, submitter, parsed.seal_codes, settings, seals_required=True, task_field="task"
    )
    recorded, codes = received_sample.recorded, received_sample.seal_codes
    f = parsed.fields
    submission = OdkSubmission(
        instance_id=parsed.instance_id,
        form_id=parsed.form_id,
        form_version=parsed.version,
        xml=xml,
        xml_sha256=hashlib.sha256(xml).hexdigest(),
        sample_id=recorded.sample_id,
        submitted_by=submitter.username,
        device_id=(device_id or None) and device_id[:200],
        user_agent=user_agent,
        subject_kind=f.get("subject_kind") or None,
        subject_name=(f.get("producer_name") or None) and f["producer_name"][:200],
        subject_credit_code=(f.get("credit_code") or "").upper()[:18] or None,
        address=f.get("address") or None,
        expected_attachments=list(parsed.attachments),
    )
    session.add(submission)
    session.flush()
    received, missing = _store_attachments(session, submission, files, submitter, settings)
    stored = None
    if recorded.verdict is None:  # the sample's UUID was already stored (a JSON upload of the same sample)
        stored = sample_verdicts(session, recorded.sample_id).origin
    return SubmissionResult(
        parsed.instance_id, recorded.sample_id, True, recorded.verdict, stored, codes, received, missing
    )


def _store_attachments(
    session: Session,
    submission: OdkSubmission,
    files: Sequence[Attachment],
    submitter: Submitter,
    settings: Settings | None,
) -> tuple[list[str], list[str]]:
    """Keep the files the XML names (others are ignored, as ODK Central does) as the sample's photos, EXIF
    cross-checked; return received and missing."""
    have = {
        a.name
        for a in session.scalars(
            select(OdkAttachment).where(OdkAttachment.instance_id == submission.instance_id)
        )
    }
    expected = list(submission.expected_attachments)
    for item in files:
        if item.name not in expected or item.name in have:
            continue
        attached = attach_photo(
            session, submission.sample_id, item.content, submitter.username, settings, name=item.name
        )
        digest = attached.photo.sha256
        session.add(
            OdkAttachment(
                instance_id=submission.instance_id,
                name=item.name,
                sha256=digest,
                size_bytes=len(item.content),
                content_type=item.content_type,
            )
        )
        have.add(item.name)
    session.flush()
    return [n for n in expected if n in have], [n for n in expected if n not in have]
