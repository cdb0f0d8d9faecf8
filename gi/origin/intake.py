"""Sample intake, one sample: validate, identify, check origin, store sample and verdict together.

:func:`record_sample` is what the HTTP service (``POST /samples``) and the command line call. It validates with
the declaration of :mod:`gi.origin.fields` and stores in the caller's transaction; the seal codes (封样编号) the
sample carries are claimed for it (:func:`gi.field.seals.claim_seal_codes`). Intake is idempotent on the
sample's UUID (a client's own, or one derived from the content): the same UUID with the same content is a no-op
that returns the stored verdict; with any difference that matters it is a :class:`~gi.errors.ConflictError`
naming the differing fields (as ODK Central answers 409). Many samples: :mod:`gi.origin.batch`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gi.errors import ConflictError
from gi.field.seals import claim_seal_codes, codes_in
from gi.origin.batch import BatchResult, BatchRow, IntakeSummary, RowStatus, record_samples
from gi.origin.fields import SampleContent, SampleInput, conflict_message, differences, validate_row
from gi.origin.files import check_sample_file
from gi.origin.index import area_index
from gi.origin.references import References, claim_of, claims_of, prepare_sample
from gi.origin.rule import OriginVerdict, check_claims, check_origin
from gi.origin.store import (
    StoredSample,
    identity_without_sample,
    insert_sample,
    stage_chunk,
    store_staged,
    stored_samples,
)
from gi.settings import Settings

# Many samples go through the same steps in gi.origin.batch (a list) and gi.origin.files (a file); their entry
# points are named here too, so that callers find every kind of intake in one place.
__all__ = [
    "BatchResult",
    "BatchRow",
    "IntakeSummary",
    "RecordedSample",
    "RowStatus",
    "check_sample_file",
    "record_sample",
    "record_samples",
    "record_samples_together",
]


@dataclass(frozen=True)
class RecordedSample:
    """A stored sample and its current origin verdict; ``created`` is False when it was stored before."""

    sample_id: uuid.UUID
    verdict: OriginVerdict | None
    verdict_id: int | None
    created: bool
    content: SampleContent

    @property
    def status(self) -> str:
        """``stored`` (now) or ``already stored`` (before, with the same content)."""
        return "stored" if self.created else "already stored"


def record_sample(
    session: Session,
    sample: SampleInput | Mapping[str, Any],
    actor: str | None = None,
    settings: Settings | None = None,
    inspector_ids: Mapping[str, int] | None = None,
) -> RecordedSample:
    """Validate, check and store one sample with its verdict, in the caller's transaction.

    ``actor`` names who submitted it (a user, a device, a file); ``inspector_ids`` are inspector codes the caller
    has already resolved (the signed-in inspector), so they are not looked up again. Raises
    :class:`~gi.errors.InputError` for a bad field and :class:`~gi.errors.ConflictError` (with ``differences``)
    when its UUID is stored with other content.
    """
    row = validate_row(sample.model_dump() if isinstance(sample, SampleInput) else sample)
    session.flush()  # what the caller added (a product, an inspector) is visible to the statements below
    # The verdict is made against the area versions valid now, and they stay so until the caller commits: the
    # products are read with the hold taken (gi.register.areas.hold_area_versions), in one statement.
    refs = References(session, hold_areas=True)
    if inspector_ids:
        refs.inspectors.update(inspector_ids)
    content = prepare_sample(refs, row)
    verdict = check_origin(session, claim_of(content), settings)
    # A new sample is inserted at once (one round trip); a UUID stored before (a retry, or a concurrent
    # submission that committed first: the insert waited for it) inserts nothing and is compared instead.
    verdict_id = insert_sample(session, content, verdict)
    if verdict_id is None:
        stored = stored_samples(session, [content.id]).get(content.id)
        if stored is None:  # its identity is stored without its sample row
            raise ConflictError(f"id: {identity_without_sample(content.id)}", field="id")
        return _claimed(session, _known(content, stored))
    return _claimed(session, RecordedSample(content.id, verdict, verdict_id, True, content))


def record_samples_together(
    session: Session,
    samples: Sequence[SampleInput | Mapping[str, Any]],
    settings: Settings | None = None,
    inspector_ids: Mapping[str, int] | None = None,
) -> list[RecordedSample]:
    """Validate, check and store a few samples as one, in the caller's transaction: all or none of them.

    For uploads that arrive together (the service groups them, api/grouping.py): the products are read (with the
    area hold) once, the checks run vectorized on the in-process area index (:func:`gi.origin.rule.check_claims`,
    whose verdicts equal :func:`check_origin`'s) and the samples go in with the batch's one statement
    (:func:`gi.origin.store.store_staged`, which also claims the seal codes they carry). Each sample gets what
    :func:`record_sample` would give it, but any problem of any one (a bad field, a conflict, the same UUID twice)
    raises as :func:`record_sample` would for it: the caller then rolls back and records each sample alone, so one
    sample's problem is never another's. ``verdict_id`` is None for the samples stored here (the statement does
    not return it; the service does not answer with it).
    """
    rows = [validate_row(s.model_dump() if isinstance(s, SampleInput) else s) for s in samples]
    session.flush()
    refs = References(session, hold_areas=True)  # one statement: products, and the hold on the area versions
    if inspector_ids:
        refs.inspectors.update(inspector_ids)
    contents = [prepare_sample(refs, row) for row in rows]
    if len({c.id for c in contents}) < len(contents):  # a retry beside its original: each alone answers it
        raise ConflictError("id: the same sample twice in one group", field="id")
    # The index is read under the hold just taken: its versions stay the current ones until the commit.
    verdicts = check_claims(None, claims_of(contents), settings, area_index(session))
    raw = session.connection().connection.driver_connection
    skipped = set(store_staged(raw, stage_chunk(contents, verdicts)))
    known = stored_samples(session, sorted(skipped)) if skipped else {}
    out = []
    for content, verdict in zip(contents, verdicts, strict=True):
        if content.id not in skipped:
            out.append(_claimed(session, RecordedSample(content.id, verdict, None, True, content)))
            continue
        stored = known.get(content.id)
        if stored is None:  # its identity is stored without its sample row
            raise ConflictError(f"id: {identity_without_sample(content.id)}", field="id")
        out.append(_claimed(session, _known(content, stored)))
    return out


def _claimed(session: Session, recorded: RecordedSample) -> RecordedSample:
    """Bind the seal codes the sample carries to it (again, harmlessly, for a sample stored before)."""
    codes = codes_in(recorded.content.seal_code)
    if codes:
        claim_seal_codes(session, codes, recorded.content.task_id, recorded.sample_id)
    return recorded


def _known(content: SampleContent, stored: StoredSample) -> RecordedSample:
    found = differences(stored.columns, content)
    if found:
        raise ConflictError(conflict_message(content.id, found), field=next(iter(found)), differences=found)
    return RecordedSample(content.id, stored.verdict, stored.verdict_id, False, content)
