"""Sample seal codes (封样编号): issued per task and unit before the field trip, printed as QR labels, and
claimed once by the sample whose sealed units carry them.

A code reads ``GI-XXXX-XXXX-C``: eight random characters of Crockford's base 32 (no I, L, O, U, so nothing is
misread) and a Luhn mod 32 check character that catches a mistyped or misread character and most swaps of two.
Codes are random, not counted, so a code cannot be guessed from its neighbours on the sheet.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import false, func, or_, select, update
from sqlalchemy.orm import Session

from gi.errors import ConflictError, InputError
from gi.models import Plan, PlanTask, SealCode, TaskStatus

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
PREFIX = "GI-"
CODE_PATTERN = re.compile(rf"^{PREFIX}([{ALPHABET}]{{4}})-([{ALPHABET}]{{4}})-([{ALPHABET}])$")
# Crockford decoding: the letters people type for the digits they resemble.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def check_character(body: str) -> str:
    """The Luhn mod 32 check character of a body of base-32 characters."""
    total = 0
    factor = 2
    for ch in reversed(body):
        addend = factor * ALPHABET.index(ch)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_code() -> str:
    """A fresh random seal code with its check character."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{PREFIX}{body[:4]}-{body[4:]}-{check_character(body)}"


def normalize_code(text: str) -> str:
    """A scanned or typed seal code in its canonical form; a malformed code is refused, naming the problem."""
    raw = text.strip().upper()
    code = raw[: len(PREFIX)] + raw[len(PREFIX) :].translate(_CONFUSABLE)
    match = CODE_PATTERN.match(code)
    if match is None:
        raise InputError("seal_code", f"{text.strip()!r} is not a seal code of this system (GI-XXXX-XXXX-X)")
    body = match.group(1) + match.group(2)
    if check_character(body) != match.group(3):
        raise InputError("seal_code", f"{code} has a wrong check character: misread or mistyped")
    return code


_SEPARATORS = re.compile(r"[\s,;，；、/]+")


def codes_in(text: str | None) -> list[str] | None:
    """The canonical seal codes a sample's seal field names (one or more, separated by commas, semicolons,
    、 or spaces), or None when it names none of this system's codes (a seal number of another kind is kept as
    written). A malformed code of this system is refused."""
    if text is None or not text.strip().upper().startswith(PREFIX):
        return None
    codes = [normalize_code(part) for part in _SEPARATORS.split(text.strip()) if part]
    if len(set(codes)) < len(codes):
        twice = next(c for c in codes if codes.count(c) > 1)
        raise InputError("seal_code", f"{twice} is scanned twice: each unit has its own label")
    return codes


def seal_text(codes: Sequence[str]) -> str:
    """The seal field of a sample carrying ``codes`` (canonical, in the order given)."""
    return ", ".join(codes)


def check_claim(
    code: str, issued_task: int | None, used_by: uuid.UUID | None, task_id: int | None, sample_id: uuid.UUID
) -> None:
    """Refuse a claim of ``code`` (issued for ``issued_task``, None when not registered; used by ``used_by``) by
    sample ``sample_id`` of task ``task_id``: the one rule of :func:`claim_seal_codes` and of batch intake."""
    if issued_task is None:
        raise InputError("seal_code", f"{code} is not a registered seal code (print labels with gi labels)")
    if task_id is not None and issued_task != task_id:
        raise InputError("seal_code", f"{code} was issued for task {issued_task}, not task {task_id}")
    if used_by is not None and used_by != sample_id:
        raise ConflictError(
            f"seal_code: {code} is already used by sample {str(used_by)[:8]}", field="seal_code"
        )


@dataclass(frozen=True)
class SealLabel:
    """What one printed label shows: the code and the task and unit it seals."""

    code: str
    task_id: int
    unit_number: int
    units: int
    plan_code: str
    round_number: int
    due_from: date
    due_to: date
    product_name: str
    producer_name: str
    county_code: str
    used: bool


def issue_seal_codes(
    session: Session,
    plan: Plan,
    task_ids: Iterable[int] | None = None,
    regions: Sequence[str] | None = None,
) -> list[SealLabel]:
    """Register a code for every unit still to be taken of the plan's open tasks (or of ``task_ids``; only
    tasks in counties starting with one of ``regions`` when given) and return the labels, in the plan's task
    order; codes already issued are kept, so a reprint shows the same codes.

    Cancelled and completed tasks get no new codes. Runs in the caller's transaction: commit before printing.
    """
    query = select(PlanTask).where(PlanTask.plan_id == plan.id)
    if regions is not None:
        query = query.where(or_(*(PlanTask.county_code.startswith(r) for r in regions), false()))
    wanted = set(task_ids) if task_ids is not None else None
    if wanted is not None:
        query = query.where(PlanTask.id.in_(wanted))
    tasks = list(session.scalars(query.order_by(PlanTask.round_number, PlanTask.draw_order)))
    if wanted is not None and len(tasks) != len(wanted):
        missing = sorted(wanted - {t.id for t in tasks})
        where = " in your region" if regions is not None else ""
        raise InputError("task", f"task {missing[0]} is not a task of plan {plan.code}{where}")
    if not tasks:
        if regions is not None:
            raise InputError("plan", f"plan {plan.code} has no tasks in your region")
        raise InputError("plan", f"plan {plan.code} has no tasks yet: draw it first (gi plan draw)")
    # One transaction at a time issues codes for a plan: two printers at once would otherwise both add unit 3.
    session.execute(select(Plan.id).where(Plan.id == plan.id).with_for_update())
    existing: dict[tuple[int, int], SealCode] = {
        (s.task_id, s.unit_number): s
        for s in session.scalars(select(SealCode).where(SealCode.task_id.in_([t.id for t in tasks])))
    }
    open_statuses = (TaskStatus.PLANNED, TaskStatus.SAMPLED)
    labels: list[SealLabel] = []
    for task in tasks:
        if task.status not in open_statuses and wanted is None:
            continue
        if task.status not in open_statuses:
            raise InputError("task", f"task {task.id} is {task.status.value}: no labels are printed for it")
        for unit in range(1, task.units_to_take + 1):
            seal = existing.get((task.id, unit))
            if seal is None:
                seal = SealCode(code=_unused_code(session), task_id=task.id, unit_number=unit)
                session.add(seal)
                session.flush()
            labels.append(
                SealLabel(
                    code=seal.code,
                    task_id=task.id,
                    unit_number=unit,
                    units=task.units_to_take,
                    plan_code=plan.code,
                    round_number=task.round_number,
                    due_from=task.due_from,
                    due_to=task.due_to,
                    product_name=task.product.name_zh,
                    producer_name=task.producer.name,
                    county_code=task.county_code,
                    used=seal.sample_id is not None,
                )
            )
    return labels


def _unused_code(session: Session) -> str:
    while True:  # 32^8 codes: a collision is rare, and then another is drawn
        code = new_code()
        if session.get(SealCode, code) is None:
            return code


def claim_seal_codes(
    session: Session, codes: Sequence[str], task_id: int | None, sample_id: uuid.UUID
) -> list[str]:
    """Bind the scanned codes to the sample that carries them, in the caller's transaction.

    Each code must be well formed, registered, issued for the sample's task, and not used by another sample;
    the same sample claiming its codes again (a retried upload) changes nothing. Returns the canonical codes.
    """
    if not codes:
        raise InputError("seal_code", "at least one seal code is needed: scan the label on each sealed unit")
    canonical = [normalize_code(c) for c in codes]
    seen: set[str] = set()
    for code in canonical:
        if code in seen:
            raise InputError("seal_code", f"{code} is scanned twice: each unit has its own label")
        seen.add(code)
    rows = {
        s.code: s
        for s in session.scalars(
            select(SealCode).where(SealCode.code.in_(canonical)).order_by(SealCode.code).with_for_update()
        )
    }
    for code in canonical:
        seal = rows.get(code)
        check_claim(
            code,
            None if seal is None else seal.task_id,
            None if seal is None else seal.sample_id,
            task_id,
            sample_id,
        )
    if task_id is None:
        tasks = {rows[c].task_id for c in canonical}
        if len(tasks) > 1:
            raise InputError("seal_code", f"the codes belong to {len(tasks)} different tasks")
    fresh = [c for c in canonical if rows[c].sample_id is None]
    if fresh:
        session.execute(
            update(SealCode).where(SealCode.code.in_(fresh)).values(sample_id=sample_id, used_at=func.now())
        )
    return canonical


def seal_task(session: Session, code: str) -> int:
    """The task a registered seal code was issued for."""
    canonical = normalize_code(code)
    task_id = session.scalar(select(SealCode.task_id).where(SealCode.code == canonical))
    if task_id is None:
        raise InputError(
            "seal_code", f"{canonical} is not a registered seal code (print labels with gi labels)"
        )
    return task_id


def sample_seal_codes(session: Session, sample_id: uuid.UUID) -> list[str]:
    """The seal codes a sample carries, by unit."""
    return list(
        session.scalars(
            select(SealCode.code).where(SealCode.sample_id == sample_id).order_by(SealCode.unit_number)
        )
    )
