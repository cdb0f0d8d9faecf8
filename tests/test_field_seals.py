"""Seal codes: issued per task and unit before the field trip, printed as QR labels, accepted once."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures import gi, pdf_pages
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gi.errors import ConflictError, InputError
from gi.field.seals import (
    ALPHABET,
    check_character,
    claim_seal_codes,
    issue_seal_codes,
    new_code,
    normalize_code,
)
from gi.models import Plan, PlanTask, SealCode, TaskStatus
from tests.field_fixtures import drawn_field_plan

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def plan_code(engine: Engine, loaded_register: None) -> Iterator[str]:
    """A drawn plan, committed for this module."""
    yield from drawn_field_plan(engine)


def _plan(session: Session, code: str) -> Plan:
    return session.scalars(select(Plan).where(Plan.code == code)).one()


def test_the_check_character_catches_every_single_misread_character() -> None:
    code = new_code()
    assert normalize_code(code) == code
    body = code[3:7] + code[8:12]
    for i in range(8):
        for ch in ALPHABET:
            if ch != body[i]:
                changed = body[:i] + ch + body[i + 1 :]
                assert check_character(changed) != code[-1], (body, i, ch)
    # Lower case and the letters people type for digits (O for 0, I or L for 1) are read as the code.
    assert normalize_code(code.lower().replace("0", "o")) == code
    with pytest.raises(InputError, match="check character"):
        normalize_code(code[:-1] + ALPHABET[(ALPHABET.index(code[-1]) + 1) % 32])
    with pytest.raises(InputError) as info:
        normalize_code("https://example.com/x")
    assert info.value.field == "seal_code" and "GI-XXXX-XXXX-X" in str(info.value)


@pytest.mark.postgis
def test_codes_are_issued_per_task_and_unit_and_a_reprint_keeps_them(
    session: Session, plan_code: str
) -> None:
    plan = _plan(session, plan_code)
    tasks = list(session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id)))
    labels = issue_seal_codes(session, plan)
    assert len(labels) == sum(t.units_to_take for t in tasks) > 0
    assert len({label.code for label in labels}) == len(labels)
    assert {(label.task_id, label.unit_number) for label in labels} == {
        (t.id, n) for t in tasks for n in range(1, t.units_to_take + 1)
    }
    assert [label.code for label in issue_seal_codes(session, plan)] == [label.code for label in labels]
    # A cancelled task gets no new labels in a plan-wide print, and asking for it alone is refused.
    first = tasks[0]
    first.status = TaskStatus.CANCELLED
    session.flush()
    assert first.id not in {label.task_id for label in issue_seal_codes(session, plan)}
    with pytest.raises(InputError, match="cancelled"):
        issue_seal_codes(session, plan, [first.id])
    with pytest.raises(InputError, match="not a task of plan"):
        issue_seal_codes(session, plan, [10_000_000])


@pytest.mark.postgis
def test_a_code_is_accepted_once_and_refused_when_reused_unknown_or_for_another_task(
    session: Session, plan_code: str
) -> None:
    from gi.origin.intake import record_sample

    plan = _plan(session, plan_code)
    labels = issue_seal_codes(session, plan)
    task = session.get(PlanTask, labels[0].task_id)
    assert task is not None
    mine = [label.code for label in labels if label.task_id == task.id]
    other = next(label.code for label in labels if label.task_id != task.id)

    def sample() -> uuid.UUID:
        recorded = record_sample(
            session,
            {
                "id": str(uuid.uuid4()),
                "product": task.product.code,
                "task_id": task.id,
                "collected_at": "2026-11-20T10:00:00+08:00",
                "x": 120.1,
                "y": 30.2,
            },
        )
        return recorded.sample_id

    first, second = sample(), sample()
    assert claim_seal_codes(session, [mine[0].lower(), mine[1]], task.id, first) == mine[:2]
    stored = session.scalars(select(SealCode).where(SealCode.sample_id == first)).all()
    assert {s.code for s in stored} == set(mine[:2]) and all(s.used_at is not None for s in stored)
    # The same sample claiming again (a retried upload) is fine; another sample re-using a code is refused.
    assert claim_seal_codes(session, mine[:2], task.id, first) == mine[:2]
    with pytest.raises(ConflictError, match="already used") as conflict:
        claim_seal_codes(session, [mine[2], mine[1]], task.id, second)
    assert conflict.value.field == "seal_code"
    unknown = new_code()
    with pytest.raises(InputError, match="not a registered seal code"):
        claim_seal_codes(session, [unknown], task.id, second)
    with pytest.raises(InputError, match=f"issued for task {session.get(SealCode, other).task_id}"):  # type: ignore[union-attr]
        claim_seal_codes(session, [other], task.id, second)
    with pytest.raises(InputError, match="scanned twice"):
        claim_seal_codes(session, [mine[2], mine[2]], task.id, second)
    with pytest.raises(InputError, match="at least one"):
        claim_seal_codes(session, [], task.id, second)


@pytest.mark.postgis
def test_gi_labels_prints_a_sheet_whose_qr_codes_decode_to_the_registered_codes(
    db_url: str, engine: Engine, plan_code: str, tmp_path: Path
) -> None:
    import zxingcpp
    from PIL import Image

    out = tmp_path / "labels.pdf"
    run = gi(db_url, "labels", plan_code, "--out", str(out))
    assert run.returncode == 0, run.stderr
    with Session(engine) as s:
        plan = _plan(s, plan_code)
        registered = {
            code
            for (code,) in s.execute(select(SealCode.code).join(PlanTask).where(PlanTask.plan_id == plan.id))
        }
    assert f"{len(registered)} seal labels" in run.stdout
    text = "\n".join(pdf_pages(out, layout=True))
    assert {c for c in registered if c in text} == registered, "every code is printed in clear"
    assert "封样标签" in text and "第 1/" in text
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(out), str(tmp_path / "page")], check=True)
    decoded: set[str] = set()
    for page in sorted(tmp_path.glob("page*.png")):
        found = zxingcpp.read_barcodes(Image.open(page))
        assert all(b.format == zxingcpp.BarcodeFormat.QRCode for b in found)
        decoded |= {b.text for b in found}
    assert decoded == registered
    # A reprint prints the same codes; an unknown plan is one line and exit code 1.
    again = gi(db_url, "labels", plan_code, "--out", str(tmp_path / "again.pdf"))
    assert again.returncode == 0 and f"{len(registered)} seal labels" in again.stdout
    missing = gi(db_url, "labels", "NO-SUCH-PLAN")
    assert missing.returncode == 1 and "NO-SUCH-PLAN" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.postgis
def test_sample_rows_carrying_seal_codes_claim_them_in_the_batch_as_in_the_single_intake(
    session: Session, plan_code: str
) -> None:
    from gi.origin.batch import RowStatus, record_samples
    from gi.origin.intake import record_sample

    plan = _plan(session, plan_code)
    labels = issue_seal_codes(session, plan)
    task = session.get(PlanTask, labels[0].task_id)
    assert task is not None
    mine = [label.code for label in labels if label.task_id == task.id and not label.used]
    other_task = next(label for label in labels if label.task_id != task.id)

    def row(seal: str | None, **extra: object) -> dict[str, object]:
        return {
            "product": task.product.code,
            "task_id": task.id,
            "collected_at": "2026-11-21T10:00:00+08:00",
            "x": 120.1,
            "y": 30.2,
            "lot_number": f"L-{uuid.uuid4().hex[:6]}",
            "seal_code": seal,
            **extra,
        }

    rows = [
        # Two codes typed in lower case, separated as people do: claimed by the row's sample, stored canonical.
        (2, row(f"{mine[0].lower()}、{mine[1]}")),
        (3, row(mine[0])),  # the code row 2 carries: refused as a conflict
        (4, row(new_code())),  # never registered
        (5, row(other_task.code)),  # issued for another task
        (6, row(mine[2][:-1] + ("0" if mine[2][-1] != "0" else "1"))),  # a misread check character
        (7, row("封条 2026-117")),  # a seal of another kind: kept as written, nothing claimed
    ]
    result = record_samples(session, rows, source="seal test")
    by_row = {r.row: r for r in result.rows}
    assert by_row[2].status is RowStatus.STORED and by_row[7].status is RowStatus.STORED
    assert by_row[3].status is RowStatus.CONFLICT and "already used" in (by_row[3].problem or "")
    assert [by_row[n].field for n in (3, 4, 5, 6)] == ["seal_code"] * 4
    assert "not a registered seal code" in (by_row[4].problem or "")
    assert f"issued for task {other_task.task_id}" in (by_row[5].problem or "")
    assert "check character" in (by_row[6].problem or "")
    first = by_row[2].sample_id
    assert first is not None
    claimed = session.scalars(select(SealCode).where(SealCode.sample_id == first)).all()
    assert sorted(s.code for s in claimed) == sorted(mine[:2]) and all(s.used_at for s in claimed)
    from gi.models import Sample

    assert session.get(Sample, first).seal_code == f"{mine[0]}, {mine[1]}"  # type: ignore[union-attr]
    assert session.get(Sample, by_row[7].sample_id).seal_code == "封条 2026-117"  # type: ignore[union-attr]
    # The single intake claims the same way, and a re-submission of the same sample is a no-op.
    single = row(mine[3])
    recorded = record_sample(session, single)
    assert session.get(SealCode, mine[3]).sample_id == recorded.sample_id  # type: ignore[union-attr]
    assert record_sample(session, single).created is False
    with pytest.raises(ConflictError, match="already used"):
        record_sample(session, row(mine[1]))
