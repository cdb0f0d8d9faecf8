"""What an error means, in Chinese, for the error pages: the service's problem details are English and precise
(API clients and the command line read them); a person on a Chinese page gets an explanation in Chinese, the
English detail kept below it for whoever reports the problem."""

from __future__ import annotations

import re
from collections.abc import Callable

# Known problems by the English detail the domain raises (field first, as gi.errors words every message).
_KNOWN: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"sample_id: no sample '(?P<key>.*)'"),
        lambda m: f"没有编号为“{m['key']}”的样品，或该样品不在您的辖区内。",
    ),
    (
        re.compile(r"sample_id: '(?P<key>.*)' matches more than one sample"),
        lambda m: f"编号“{m['key']}”对应不止一个样品，请输入更多位数。",
    ),
    (
        re.compile(r"(?:plan|plan_id): no plan '(?P<key>.*?)'(?: \(latest: (?P<latest>[^)]*)\))?"),
        lambda m: (
            f"没有编号为“{m['key']}”的抽查计划。"
            + (f"最近的计划：{m['latest']}。" if m["latest"] and not m["latest"].startswith("none") else "")
        ),
    ),
    (
        re.compile(r"to: (?P<end>\d{4}-\d\d-\d\d) is before (?P<start>\d{4}-\d\d-\d\d)"),
        lambda m: f"结束日期（{m['end']}）早于开始日期（{m['start']}），请重新选择期间。",
    ),
    (
        re.compile(r"to: a dashboard season covers at most"),
        lambda m: "所选期间过长：监管看板的期间最长为三年。",
    ),
    (
        re.compile(r"from: no samples were collected (?P<start>\S+) to (?P<end>\S+)"),
        lambda m: (
            f"{m['start']} 至 {m['end']} 本辖区没有采集样品（本期无抽检），没有可报告的内容，不能生成工作报告。"
        ),
    ),
    (
        re.compile(r"(?:GI_ISSUING_OFFICE|issuer)\b"),
        lambda m: "未配置发文机关（GI_ISSUING_OFFICE），不能生成正式文件。",
    ),
    (re.compile(r"csrf: "), lambda m: "表单已过期或不是从本站提交的，请刷新页面后重试。"),
    (
        re.compile(r"(?:product|products?): no (?:GI )?product '(?P<key>.*?)'"),
        lambda m: f"没有名为“{m['key']}”的地理标志产品。",
    ),
]

# A query parameter's name in words, for problems not known above.
FIELD_ZH = {
    "from": "开始日期",
    "to": "结束日期",
    "plan": "抽查计划",
    "plan_id": "抽查计划",
    "sample_id": "样品编号",
    "year": "年份",
    "product": "产品",
    "sha256": "照片",
    "next": "跳转地址",
}

# What a status means when nothing more precise is known.
STATUS_ZH = {
    400: "请求的参数有误。",
    401: "请先登录。",
    403: "您的账号无权访问此页面。",
    404: "没有找到您要的内容。",
    405: "不支持此操作。",
    409: "与已保存的记录冲突。",
    413: "提交的内容过大。",
    422: "填写的内容有误。",
    429: "尝试过于频繁，请稍后再试。",
    500: "系统内部错误，已记录在服务日志中，请联系管理员。",
    503: "服务暂时不可用，请稍后重试。",
}


def explain_zh(status: int, detail: str, field: str | None = None) -> str:
    """A Chinese sentence saying what went wrong: a known problem in words, else the field and the status."""
    for pattern, words in _KNOWN:
        found = pattern.match(detail)
        if found:
            return words(found)
    general = STATUS_ZH.get(status, "请求未能完成。")
    if field and status in (400, 404, 409, 422):
        return f"{general.rstrip('。')}：{FIELD_ZH.get(field, field)}。"
    return general
