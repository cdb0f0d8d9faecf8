"""Chinese wording of the rules and statements the domain stores in English or as codes, for the reports.

Verdicts store the rule that produced them (``origin_verdict.rule`` begins with its id, e.g. ``origin/1``;
``quality_verdict.rule_config`` holds the decision rule's kind, guard-band factor and comparison); a report
prints the Chinese sentence mapped from that id or kind, never the stored English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gi.quality.decision import Comparison, RuleKind

# Origin rules by id (gi.origin.rule.RULE: "origin/<version>: ...").
ORIGIN_RULES_ZH: dict[str, str] = {
    "origin/1": (
        "计算采样点至采样时有效保护范围版本边界的带符号大地线距离 d（界内为正，边界上视为界内）；"
        "|d| 不超过 GPS 定位精度与判定容差中的较大者，判为“边界存疑”；位于范围内判为“产地相符”"
        "（定位不可信时判为“边界存疑”）；其余判为“产地不符”"
    ),
}

# Decision rules (gi.quality.decision.RuleKind, ILAC-G8:09/2019), with the guard band w = r·U.
_RULE_KINDS_ZH: dict[str, str] = {
    RuleKind.SIMPLE_ACCEPTANCE: (
        "简单接受规则（ILAC-G8:09/2019 第4.2.1条，保护带 w = 0）：以测得值直接与限值比较，"
        "扩展不确定度仅作记录"
    ),
    RuleKind.GUARD_BAND: (
        "保护带规则（非二元判定，ILAC-G8:09/2019 第4.2.3条，保护带 w = {factor}U）：区间［测得值 - w，测得值 + w］"
        "完全满足限值判为合格，完全不满足判为不合格，跨越限值判为无法判定"
    ),
    RuleKind.GUARDED_ACCEPTANCE: (
        "保护带接受规则（ILAC-G8:09/2019 第4.2.2条，保护带 w = {factor}U）：区间［测得值 - w，测得值 + w］"
        "完全满足限值方判为合格"
    ),
    RuleKind.GUARDED_REJECTION: (
        "保护带拒绝规则（JCGM 106:2012，保护带 w = {factor}U）：区间［测得值 - w，测得值 + w］"
        "完全不满足限值方判为不合格"
    ),
}
_COMPARISONS_ZH: dict[str, str] = {
    Comparison.FULL_VALUE: "全数值比较法（GB/T 8170-2008 第4.3.1条）",
    Comparison.ROUNDED_VALUE: "修约值比较法（GB/T 8170-2008 第4.3.2条）",
}

# ILAC-G8 statements of an indicator (gi.quality.decision.Decision.statement, gi.quality.judge.IndicatorOutcome.statement).
STATEMENTS_ZH: dict[str, str] = {
    "pass": "合格",
    "fail": "不合格",
    "conditional pass": "有条件合格",
    "conditional fail": "有条件不合格",
    "inconclusive": "无法判定",
    "not tested": "未检测",
    "not comparable": "无法比较",
}


def origin_rule_zh(stored: str | None) -> str:
    """The origin rule of a stored verdict in Chinese, found by the id its text begins with."""
    if not stored:
        return "—"
    rule_id = stored.split(":", 1)[0].strip()
    sentence = ORIGIN_RULES_ZH.get(rule_id)
    version = rule_id.rsplit("/", 1)[-1]
    label = f"产地判定规则第{version}版" if version.isdigit() else "产地判定规则"
    return f"{sentence}（{label}）" if sentence else label


def _factor(value: Any) -> str:
    text = str(value if value is not None else "1")
    return "" if text in ("1", "1.0") else f"{text}·"


def quality_rule_zh(config: Mapping[str, Any] | None) -> str:
    """The decision rule of a stored quality verdict (its ``rule_config``) in Chinese."""
    config = config or {}
    kind = str(config.get("kind") or RuleKind.SIMPLE_ACCEPTANCE)
    comparison = str(config.get("comparison") or Comparison.FULL_VALUE)
    rule = _RULE_KINDS_ZH.get(kind, f"判定规则 {kind}").format(factor=_factor(config.get("guard_factor")))
    return f"{rule}；{_COMPARISONS_ZH.get(comparison, comparison)}"


def indicator_note_zh(item: Mapping[str, Any]) -> str:
    """A remark on one stored indicator outcome where the outcome needs one (gi.quality.judge.IndicatorOutcome)."""
    outcome = item.get("outcome")
    statement = str(item.get("statement") or "")
    reported = str(item.get("reported") or "")
    untested = outcome == "inconclusive" and item.get("value") is None and not reported
    if statement == "not tested" or untested:
        return "无检测结果" + ("（强制性指标）" if item.get("mandatory") else "")
    if statement == "not comparable":
        return "报告单位无法换算为标准单位，无法与限值比较"
    censored = reported[:1] in ("<", ">")
    if outcome == "inconclusive":
        if censored:
            return "检测结果为检出限以下（或量程以上）的区间值，无法判定是否满足限值"
        return "结果处于测量不确定度范围内，无法判定（{}）".format(STATEMENTS_ZH.get(statement, "跨越限值"))
    if statement in ("conditional pass", "conditional fail"):
        verdict = "合格" if outcome == "pass" else "不合格"
        return f"测量区间跨越限值（{STATEMENTS_ZH[statement]}），按判定规则判为{verdict}"
    return ""


# Sample sources written by the system itself (demo.origin.check_season); any other source is the
# user's own label (a file name, a batch) and is printed as given.
_SYSTEM_SOURCES_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"demo season \(seed (\d+)\)"), r"演示抽查季（模拟数据，随机种子 \1）"),
    (re.compile(r"api"), "移动端上传（接口）"),
    (re.compile(r"odk:(.+)@(.+)"), r"ODK 移动采集（表单 \1，版本 \2）"),
)


def source_zh(source: str | None) -> str | None:
    """The source of a sample as the record prints it: system labels in Chinese, others as given."""
    if not source:
        return source
    for pattern, wording in _SYSTEM_SOURCES_ZH:
        if pattern.fullmatch(source):
            return pattern.sub(wording, source)
    return source
