"""A plan's task results from its samples' final findings: only final findings are recorded, recorded results
are kept, a second run records nothing, and the published files carry the results and still verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from fixtures import gi, scratch_database
from sqlalchemy import select

from gi import clock
from gi.db import get_engine, session_scope
from gi.models import Plan, PlanTask, TaskResult
from gi.reads.season import RESULT_FAIL, RESULT_PASS, RESULT_VERIFY, season_samples
from gi.settings import get_settings

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def judged_season(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo's steps 1 to 5 on a database of their own: register, last season's market (its flagged online
    sellers become targets), a drawn plan, one sample per task, lab results and verdicts. Yields the database
    URL and the plan's code."""
    from demo.market import last_season_market
    from demo.origin import DEMO_SOURCE_PREFIX, check_season
    from demo.planning import plan_season
    from demo.quality import judge_season
    from demo.register import load_register

    with scratch_database(db_url, "gi_test_findings") as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("GI_DATABASE_URL", url)
        patch.setenv("GI_OUTPUT_DIR", str(tmp_path_factory.mktemp("findings")))
        get_settings.cache_clear()
        try:
            load_register()
            last_season_market(today=date(2026, 12, 3))
            step = plan_season(today=date(2026, 12, 3))
            check_season()
            judge_season(source_prefix=DEMO_SOURCE_PREFIX)
            yield url, step.code
        finally:
            get_settings.cache_clear()


def test_only_final_findings_are_recorded_and_recorded_results_are_kept(
    judged_season: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from demo.planning import publish_findings
    from sampling.findings import CONFORMING_NOTE
    from sampling.planning import record_result

    url, code = judged_season
    monkeypatch.setenv("GI_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = get_engine(url)
    with session_scope(engine) as session:
        plan = session.scalars(select(Plan).where(Plan.code == code)).one()
        tasks = list(
            session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id).order_by(PlanTask.id))
        )
        # An inspector recorded one task already (the firm had stopped production): that result stands.
        record_result(session, tasks[0].id, TaskResult.NOT_FOUND, "停产")
        frame = season_samples(session, plan.period_from, clock.today())
        by_task: dict[int, set[str]] = {}
        for task_id, result in zip(frame["task_id"], frame["result"], strict=True):
            if not pd.isna(task_id):
                by_task.setdefault(int(task_id), set()).add(result)

    step = publish_findings(code)
    found = step.findings
    assert found.kept == 1 and found.unsampled == 0
    assert found.total_recorded + found.to_verify + found.unsampled + found.kept == len(tasks)
    assert found.recorded["conforming"] > 0 and found.recorded["nonconforming"] > 0 and found.to_verify > 0

    with session_scope(engine) as session:
        stored = {
            t.id: (t.result, t.result_note)
            for t in session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id))
        }
    assert stored[tasks[0].id] == (TaskResult.NOT_FOUND, "停产")
    for task in tasks[1:]:
        results = by_task[task.id]
        result, note = stored[task.id]
        if RESULT_FAIL in results:
            assert result == TaskResult.NONCONFORMING and note and note.startswith(("产地：", "特色品质："))
        elif results == {RESULT_PASS}:
            assert (result, note) == (TaskResult.CONFORMING, CONFORMING_NOTE)
        else:
            assert RESULT_VERIFY in results and result is None  # not final: the task stays open

    # The re-exported files carry every recorded result and still verify against the commitment.
    assert step.verification.ok, [c for c in step.verification.checks if not c.ok]
    published = json.loads((step.published / "results.json").read_text(encoding="utf-8"))
    assert len(published["results"]) == found.total_recorded + found.kept

    again = publish_findings(code)
    assert again.findings.total_recorded == 0 and again.findings.kept == found.total_recorded + 1
    assert again.findings.to_verify == found.to_verify
    get_settings.cache_clear()


def test_the_command_reports_the_counts_and_names_an_unknown_plan(judged_season: tuple[str, str]) -> None:
    url, code = judged_season
    ran = gi(url, "plan", "findings", code)
    assert ran.returncode == 0, ran.stderr
    assert f"{code}: " in ran.stdout and "still to verify (待核实)" in ran.stdout
    unknown = gi(url, "plan", "findings", "NO-SUCH-PLAN")
    assert unknown.returncode != 0 and "no plan 'NO-SUCH-PLAN'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_the_public_notice_names_every_kind_of_target_in_chinese(judged_season: tuple[str, str]) -> None:
    """The demo's plan has online sellers (flagged by the market step), one known by its shop only: the public
    page names their kind in Chinese and their place as unknown, never an enum or the code 000000."""
    from sampling.public import public_plan
    from sampling.published import KIND_ZH

    url, code = judged_season
    with session_scope(get_engine(url)) as session:
        notice = public_plan(session, code).notice
    kinds = {row.kind for row in notice}
    assert "平台内经营者" in kinds and kinds <= set(KIND_ZH.values())
    assert not any("000000" in row.county for row in notice)
    assert any(row.county == "所在地不详（网店）" for row in notice)


def test_the_note_of_a_failed_task_gives_every_final_ground() -> None:
    """A sample that failed its test and lies outside the area: the public note names both, as the season's
    notice does; a position that may be an entry error is not a ground."""
    from sampling.findings import _failure_note

    row = {
        "quality": "fail",
        "quality_reason": "粉末 1.2% > 1%",
        "origin": "outside",
        "distance_m": -4600.0,
        "band_m": 30.0,
        "area_version": 1,
        "flags": [],
    }
    note = _failure_note(row, 30.0)
    assert note.startswith("特色品质：粉末 1.2% > 1%；产地：采样点位于第1版保护范围外"), note
    swapped = _failure_note({**row, "flags": ["swapped_lat_lon"]}, 30.0)
    assert swapped == "特色品质：粉末 1.2% > 1%"
    outside_only = _failure_note({**row, "quality": "pass", "quality_reason": ""}, 30.0)
    assert outside_only.startswith("产地：采样点位于第1版保护范围外")
