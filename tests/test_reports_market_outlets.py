"""The campaign report's market section (市场抽样情况): its text announces a table only when one follows."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from reportlab.platypus import Paragraph

from gi.reads.season import RESULT_FAIL, RESULT_PASS
from reports.campaign import _market, heading
from reports.layout import Styles


def _samples(results: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(len(results))],
            "sampled_at": ["outlet"] * len(results),
            "producer_kind": ["outlet"] * len(results),
            "sampled_unit": [f"合成·商店{i}" for i in range(len(results))],
            "sampled_address": [f"杭州市某路{i}号" for i in range(len(results))],
            "product_name": ["西湖龙井"] * len(results),
            "result": results,
        }
    )


def _text(flowables: list) -> str:
    return "".join(f.getPlainText() for f in flowables if isinstance(f, Paragraph))


def test_only_quiet_outlets_announce_no_table() -> None:
    heading.count = 0  # as a report's build starts it (another test's report may have run in this thread)
    quiet = _market(SimpleNamespace(samples=_samples([RESULT_PASS, RESULT_PASS])), Styles())  # type: ignore[arg-type]
    assert "下表" not in _text(quiet) and "各经营场所均抽取 1 批次且结论合格" in _text(quiet)
    mixed = _market(SimpleNamespace(samples=_samples([RESULT_PASS, RESULT_FAIL])), Styles())  # type: ignore[arg-type]
    assert "其中 1 个经营场所各抽取 1 批次且结论合格，不逐一列示；下表列出其余经营场所。" in _text(mixed)


def test_section_numbers_are_per_thread() -> None:
    """Two reports built at once in the service's threads number their own sections from 一."""
    import threading

    heading.count = 5
    seen: list[str] = []
    worker = threading.Thread(target=lambda: seen.append(heading("甲", Styles()).getPlainText()))
    worker.start()
    worker.join()
    assert seen == ["一、甲"] and heading.count == 5
