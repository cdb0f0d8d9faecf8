"""The published files of a plan and how each is made from the draw: selection, assignment, failure, results
and the public notice (抽查对象公示). Everything here is a pure function of published documents, so that
`gi plan verify` can rebuild every published file byte for byte and compare it with what was published."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gi.models import PRODUCER_KIND_ZH, TASK_RESULT_ZH
from sampling.assign import Infeasibility
from sampling.design import DesignParameters
from sampling.draw import DrawResult, lot_of

SELECTION_SCHEME = "gi-plan-selection/2"
ASSIGNMENT_SCHEME = "gi-plan-assignment/2"
FAILURE_SCHEME = "gi-plan-failure/1"
RESULTS_SCHEME = "gi-plan-results/1"

FRAME_FILE = "frame.json"
PARAMETERS_FILE = "parameters.json"
COMMITMENT_FILE = "commitment.json"
REVEAL_FILE = "reveal.json"
SELECTION_FILE = "selection.json"
ASSIGNMENT_FILE = "assignment.json"
RESULTS_FILE = "results.json"
FAILURE_FILE = "failure.json"
NOTICE_CSV = "notice.csv"
NOTICE_MD = "notice.md"
BEFORE_DRAW = (FRAME_FILE, PARAMETERS_FILE, COMMITMENT_FILE)
AFTER_DRAW = (REVEAL_FILE, SELECTION_FILE, ASSIGNMENT_FILE, RESULTS_FILE, NOTICE_CSV, NOTICE_MD)
AFTER_FAILURE = (REVEAL_FILE, FAILURE_FILE, NOTICE_CSV, NOTICE_MD)
ALL_FILES = (*BEFORE_DRAW, *AFTER_DRAW, FAILURE_FILE)
JSON_FILES = tuple(name for name in ALL_FILES if name.endswith(".json"))

RESULT_ZH = {r.value: zh for r, zh in TASK_RESULT_ZH.items()}
KIND_ZH = PRODUCER_KIND_ZH  # every Producer.kind: the notice is public and in Chinese
SEASON_ZH = {"peak": "旺季", "regular": "常规", "off_season": "淡季"}
BINDING_ZH = {
    "home_county": "本县回避",
    "declared_conflict": "利益冲突回避",
    "previous_inspector": "上次检查人员回避",
    "qualification": "资质不符",
    "capacity": "任务量已满",
    "pool_empty": "库中无检查人员",
}
NOTICE_COLUMNS = (
    ("round", "轮次"),
    ("due", "检查期限"),
    ("product", "地理标志产品"),
    ("target", "检查对象"),
    ("credit_code", "统一社会信用代码"),
    ("county", "所在县（市、区）代码"),
    ("kind", "类型"),
    ("season", "季节"),
    ("lot_sample", "抽样（GB/T 2828.1）"),
    ("result", "检查结果"),
    ("result_date", "结果日期"),
)
PENDING_ZH = "待检查"


def selection_document(
    params: DesignParameters, result: DrawResult, commitment_sha256: str
) -> dict[str, Any]:
    """selection.json: the coverage rounds, the strata of every round and the drawn targets."""
    return {
        "scheme": SELECTION_SCHEME,
        "plan": params.plan,
        "commitment_sha256": commitment_sha256,
        "coverage": [
            {"product": product, "segment": segment, "county": county, "round": number}
            for (product, segment), counties in sorted(result.coverage.items())
            for county, number in sorted(counties.items())
        ],
        "strata": [s.to_dict() for s in result.strata],
        "tasks": [
            {
                "round": t.round,
                "order": t.order,
                "product": t.product,
                "segment": t.segment,
                "county": t.county,
                "producer_id": t.producer_id,
                "pi_ticks": t.pi_ticks,
                "weight": t.weight,
                "season_kind": t.season_kind,
                "lot": lot_of(t, params),
            }
            for t in result.tasks
        ],
    }


def assignment_document(
    params: DesignParameters, result: DrawResult, commitment_sha256: str
) -> dict[str, Any]:
    """assignment.json: each task's inspectors (lead first) and each round's loads (inspectors with load > 0)."""
    return {
        "scheme": ASSIGNMENT_SCHEME,
        "plan": params.plan,
        "commitment_sha256": commitment_sha256,
        "tasks": [
            {
                "round": t.round,
                "order": t.order,
                "producer_id": t.producer_id,
                "inspectors": list(t.inspectors),
            }
            for t in result.tasks
        ],
        "loads": {
            str(r): {code: n for code, n in sorted(loads.items()) if n}
            for r, loads in sorted(result.loads.items())
        },
    }


def draw_documents(
    params: DesignParameters, result: DrawResult, commitment_sha256: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The selection and the assignment documents of a draw."""
    return (
        selection_document(params, result, commitment_sha256),
        assignment_document(params, result, commitment_sha256),
    )


def failure_document(plan: str, commitment_sha256: str, problems: Sequence[Infeasibility]) -> dict[str, Any]:
    """failure.json: why the draw is infeasible — every target that could not be staffed, in the order found."""
    return {
        "scheme": FAILURE_SCHEME,
        "plan": plan,
        "commitment_sha256": commitment_sha256,
        "problems": [p.to_dict() for p in problems],
    }


@dataclass(frozen=True)
class PublishedResult:
    """The recorded outcome of one task, as published."""

    round: int
    order: int
    producer_id: int
    result: str
    recorded_on: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Published form."""
        return {
            "round": self.round,
            "order": self.order,
            "producer_id": self.producer_id,
            "result": self.result,
            "recorded_on": self.recorded_on,
            "note": self.note,
        }


def results_document(plan: str, commitment_sha256: str, results: Sequence[PublishedResult]) -> dict[str, Any]:
    """results.json: the recorded results, by round and order."""
    return {
        "scheme": RESULTS_SCHEME,
        "plan": plan,
        "commitment_sha256": commitment_sha256,
        "results": [r.to_dict() for r in sorted(results, key=lambda r: (r.round, r.order))],
    }


def notice_rows(
    frame: dict[str, Any], parameters: dict[str, Any], selection: dict[str, Any], results: dict[str, Any]
) -> list[dict[str, str]]:
    """One row per drawn target, in round and assignment order; the result columns stay '待检查' until a
    result is recorded."""
    producers = {p["id"]: p for p in frame["producers"]}
    products = {p["code"]: p for p in frame["products"]}
    rounds = {r["number"]: r for r in parameters["rounds"]}
    recorded = {(r["round"], r["order"]): r for r in results["results"]}
    rows = []
    for t in selection["tasks"]:
        p, lot, rnd = producers[t["producer_id"]], t["lot"], rounds[t["round"]]
        result = recorded.get((t["round"], t["order"]))
        name = p["name"] + ("（合成数据）" if p["synthetic"] and "合成" not in p["name"] else "")
        rows.append(
            {
                "round": str(t["round"]),
                "due": f"{rnd['from']} 至 {rnd['to']}",
                "product": products[t["product"]]["name_zh"],
                "target": name,
                "credit_code": p["credit_code"],
                "county": t["county"],
                "kind": KIND_ZH.get(p["kind"], p["kind"]),
                "season": SEASON_ZH.get(t["season_kind"], t["season_kind"]),
                "lot_sample": f"{lot['code_letter']}: {lot['units_to_take']} / {lot['lot_size']}（{lot['level']}）",
                "result": RESULT_ZH.get(result["result"], result["result"]) if result else PENDING_ZH,
                "result_date": result["recorded_on"] if result else "",
            }
        )
    return rows


def render_notice_csv(rows: Sequence[dict[str, str]]) -> bytes:
    """notice.csv: UTF-8 with BOM (opens in Excel), a header row of the Chinese column names, CRLF line ends,
    a field quoted when it holds a comma, a double quote, CR or LF (quotes doubled inside)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([zh for _, zh in NOTICE_COLUMNS])
    for r in rows:
        writer.writerow([r[key] for key, _ in NOTICE_COLUMNS])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _cell(text: str) -> str:
    # A table cell holds one line; a "|" would end the cell.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def render_notice_md(
    parameters: dict[str, Any],
    commitment: dict[str, Any],
    commitment_sha256: str,
    reveal: dict[str, Any],
    rows: Sequence[dict[str, str]],
    failure: dict[str, Any] | None = None,
    frame: dict[str, Any] | None = None,
) -> bytes:
    """notice.md: the notice for people — plan, commitment, public value, a re-draw's failed predecessor, and
    the table of targets drawn (or, for a failed draw, the targets that could not be staffed)."""
    period = parameters["period"]
    announced = commitment["public_value"]
    done = sum(1 for r in rows if r["result"] != PENDING_ZH)
    lines = [f"# {parameters['title'] or parameters['plan']}", ""]
    if failure is None:
        lines.append(
            f"双随机、一公开 抽查对象公示 — 计划 {parameters['plan']}，{period['from']} 至 {period['to']}，"
            f"共 {len(rows)} 个检查对象，已公布结果 {done} 个。"
        )
    else:
        lines.append(
            f"双随机、一公开 抽取结果公示 — 计划 {parameters['plan']}，{period['from']} 至 {period['to']}："
            f"**抽取失败**，{len(failure['problems'])} 个检查对象无法配齐检查人员。本次抽取为最终结果，"
            "不得以同一承诺值重新抽取；重新抽取须另立计划并发布新的承诺值。"
        )
    lines += [
        "",
        f"承诺值 (commitment SHA-256): `{commitment_sha256}`，发布于 {commitment['committed_at']}  ",
        f"预告的公开随机数来源 (announced public value): {_cell(announced['source'])}"
        + (f"，第 {_cell(announced['draw'])} 期" if announced["draw"] else "")
        + f"，{announced['draw_at']}  ",
        f"公开随机数 (public value): `{_cell(reveal['public_value'])}`，揭示于 {reveal['revealed_at']}  ",
        f"任何人可用公开文件复核：`gi plan verify <目录> --commitment {commitment_sha256}`。检查人员信息不予公示。",
    ]
    previous = commitment.get("supersedes")
    if previous:
        lines += [
            "",
            "## 重新抽取 (re-draw)",
            "",
            "本计划重新抽取一次失败的抽取；两次抽取均予公示：",
            "",
            "| 计划 | 承诺值 | 公开随机数 | 结果 |",
            "|---|---|---|---|",
            f"| {_cell(previous['plan'])} | `{previous['commitment_sha256']}` | "
            f"`{_cell(previous['public_value'])}` | 抽取失败（failure.json SHA-256 `{previous['failure_sha256']}`） |",
            f"| {_cell(parameters['plan'])} | `{commitment_sha256}` | `{_cell(reveal['public_value'])}` | "
            + ("抽取失败" if failure is not None else "已抽取")
            + " |",
        ]
    lines.append("")
    if failure is None:
        lines += [
            "| " + " | ".join(zh for _, zh in NOTICE_COLUMNS) + " |",
            "|" + "---|" * len(NOTICE_COLUMNS),
        ]
        lines += ["| " + " | ".join(_cell(r[key]) for key, _ in NOTICE_COLUMNS) + " |" for r in rows]
    else:
        names = {p["id"]: p["name"] for p in (frame or {}).get("producers", [])}
        lines += [
            "| 轮次 | 产品 | 县（市、区）代码 | 检查对象 | 已配检查人员 | 需要 | 主要原因 |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {p['round']} | {_cell(p['product'])} | {p['county']} | {_cell(names.get(p['producer_id'], ''))} "
            f"| {p['found']} | {p['needed']} | {BINDING_ZH.get(p['binding'], p['binding'])} |"
            for p in failure["problems"]
        ]
    return ("\n".join(lines) + "\n").encode("utf-8")
