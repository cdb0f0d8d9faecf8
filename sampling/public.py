"""What the public results pages show about the double-random plans (双随机、一公开): the published plans, how to
verify a draw from its files, the notice of drawn targets and their results. Business data of the targets only
(name, unified social credit code, county): no inspector, no personal data. Read only."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from geo_data import admin
from gi.models import Plan, PlanStatus
from gi.settings import get_settings
from sampling.commit import Announcement
from sampling.frames import UNKNOWN_COUNTY
from sampling.planning import find_plan, list_plans, plan_summary, published_documents, tasks_of_plan
from sampling.published import KIND_ZH, SEASON_ZH
from sampling.verify import VerificationReport, verify_files

STATUS_ZH = {
    "committed": "已承诺，待抽取",
    "drawn": "已抽取",
    "failed": "抽取失败（终局，须以新承诺重新抽取）",
    "cancelled": "已撤销",
}
FILE_ROLE_ZH = {
    "frame.json": "抽查对象名录与检查人员名录（抽取范围）",
    "parameters.json": "抽查参数（比例、轮次、批量与检验水平）",
    "commitment.json": "承诺文件：上述两文件与秘密值的 SHA-256",
    "reveal.json": "揭示文件：秘密值、公开随机数及种子",
    "selection.json": "抽取结果：各层抽中的检查对象",
    "assignment.json": "分派结果：各任务的检查人员编号",
    "results.json": "检查结果：已记录的各任务结果",
    "failure.json": "抽取失败记录：无法配齐检查人员的轮次与原因",
    "notice.csv": "抽查对象公示表（CSV，可用 Excel 打开）",
    "notice.md": "抽查对象公示（文本）",
}
# The checks of sampling.verify in Chinese, for the pages (the command line keeps verify's English). A check
# named after a file ("frame.json matches its schema") is matched by its pattern; a check missing here is shown
# in English, which tests/test_verify_labels.py refuses for every check verify.py can report.
CHECK_ZH = {
    "commitment scheme": "承诺文件格式",
    "reveal scheme": "揭示文件格式",
    "commitment.json is the commitment published before the draw": "commitment.json 即抽取前公开的承诺文件",
    "frame.json matches the commitment": "名录文件与承诺一致",
    "parameters.json matches the commitment": "参数文件与承诺一致",
    "all files name one plan": "所有文件属于同一计划",
    "every later file refers to this commitment": "此后的各文件均引用本承诺",
    "the public value was announced for a draw after the commitment": "承诺时已预告公开随机数，且其开奖在承诺之后",
    "the revealed value is from the announced draw": "揭示的公开随机数来自预告的开奖",
    "revealed after the announced draw": "揭示时间在预告的开奖之后",
    "reveal refers to this commitment": "揭示文件引用本承诺",
    "revealed secret matches its committed hash": "揭示的秘密值与承诺的哈希一致",
    "all files belong to one plan": "所有文件属于同一计划",
    "seed": "由秘密值与公开随机数计算种子",
    "seed = SHA-256(domain, commitment, secret, public value)": "种子 = SHA-256（域、承诺、秘密值、公开随机数）",
    "the published failure is reproduced": "公开的抽取失败结果重现一致",
    "the draw is reproduced": "抽取过程重现",
    "strata reproduced": "分层重现一致",
    "selection reproduced exactly": "抽取结果完全重现",
    "assignment reproduced exactly": "人员分派完全重现",
    "every published result belongs to a drawn task": "每项公开的检查结果都对应一项抽中的任务",
    "notice.csv lists exactly the drawn targets and published results": "notice.csv 恰好列出抽中的对象和公开的结果",
    "notice.md lists exactly the drawn targets, counts and published results": (
        "notice.md 恰好列出抽中的对象、数量和公开的结果"
    ),
    "files are UTF-8 JSON": "文件为 UTF-8 JSON",
    "no file of a draw comes without reveal.json": "抽取后的文件均附有揭示文件 reveal.json",
}
# Checks of one published file each: "<file> matches its schema" and the like.
FILE_CHECK_ZH = {
    "matches its schema": "{file} 符合其格式规范（schema）",
    "is UTF-8 JSON": "{file} 为 UTF-8 编码的 JSON",
    "is in canonical form": "{file} 为规范格式（canonical JSON）",
    "is readable": "{file} 可以读取（UTF-8 文本）",
}


def check_label_zh(name: str) -> str:
    """A verification check's name (sampling.verify) in Chinese; the English name when it has no label."""
    if name in CHECK_ZH:
        return CHECK_ZH[name]
    file, _, rest = name.partition(" ")
    if file.endswith((".json", ".csv", ".md")) and rest in FILE_CHECK_ZH:
        return FILE_CHECK_ZH[rest].format(file=file)
    return name


@dataclass(frozen=True)
class PublishedFile:
    """One published file of a plan: its name, role, size and SHA-256."""

    name: str
    role: str
    size: int
    sha256: str


@dataclass(frozen=True)
class NoticeRow:
    """One drawn target on the public notice, with its result once recorded (business data only: the
    supervisor's free-text note stays internal, as on the notice of sampling.notice)."""

    round: int
    due_from: date
    due_to: date
    product: str
    target: str
    credit_code: str
    county: str
    kind: str
    season: str
    units: str
    result: str
    result_date: date | None


@dataclass(frozen=True)
class VerificationStatus:
    """The draw reproduced by the service from the published files alone (what ``gi plan verify`` does)."""

    ok: bool
    tasks: int
    checks: list[tuple[str, bool, str]]


@dataclass
class PublicPlan:
    """A plan as the public sees it."""

    code: str
    title: str
    status: str
    status_zh: str
    period_from: date
    period_to: date
    rounds: list[tuple[int, date, date]]
    products: dict[str, str]
    targets_in_frame: int
    commitment_sha256: str | None
    committed_at: str
    public_value: str | None
    public_value_source: str | None
    revealed_at: datetime | None
    files: list[PublishedFile] = field(default_factory=list)
    # The public value announced in the commitment (whose draw, which issue, when): the public watches it.
    announced: Announcement | None = None
    promised: dict[str, str] = field(default_factory=dict)  # the hashes commitment.json promises
    notice: list[NoticeRow] = field(default_factory=list)
    results: dict[str, int] = field(default_factory=dict)

    @property
    def drawn(self) -> bool:
        """True once the draw is published."""
        return self.status == PlanStatus.DRAWN.value


def announcement_of(plan: Plan) -> Announcement | None:
    """The public value the plan's commitment announced (source, issue, time of the draw); None before it."""
    if plan.commitment is None:
        return None
    return Announcement.from_dict(json.loads(plan.commitment.commitment_json)["public_value"])


def _files(session: Session, plan: Plan) -> list[PublishedFile]:
    if plan.commitment is None:
        return []
    return [
        PublishedFile(name, FILE_ROLE_ZH.get(name, ""), len(data), hashlib.sha256(data).hexdigest())
        for name, data in published_documents(session, plan).items()
    ]


def _notice(session: Session, plan: Plan) -> list[NoticeRow]:
    from gi.models import TASK_RESULT_ZH

    counties = admin.county_parts()
    rows = []
    for t in tasks_of_plan(session, plan.id):
        province, county = counties.get(t.county_code, ("", t.county_code))
        if t.county_code == UNKNOWN_COUNTY:  # a shop known by its platform and name only
            province, county = "", "所在地不详（网店）"
        target = t.producer.name
        if t.producer.synthetic and "合成" not in target:
            target += "（合成数据）"
        rows.append(
            NoticeRow(
                round=t.round_number,
                due_from=t.due_from,
                due_to=t.due_to,
                product=t.product.name_zh,
                target=target,
                credit_code=t.producer.credit_code or "",
                county=f"{province}{county}",
                kind=KIND_ZH.get(t.producer.kind, t.producer.kind),
                season=SEASON_ZH.get(t.season_kind, t.season_kind),
                units=f"{t.units_to_take} / {t.lot_size}（{t.inspection_level}）",
                result=TASK_RESULT_ZH[t.result] if t.result else "待检查",
                result_date=t.result_recorded_at.astimezone(ZoneInfo(get_settings().timezone)).date()
                if t.result_recorded_at
                else None,
            )
        )
    return rows


def public_plan(session: Session, key: str, with_notice: bool = True) -> PublicPlan:
    """A plan (code or id) as published: state, commitment, files with their hashes, notice and results."""
    plan = find_plan(session, key)
    summary = plan_summary(session, plan)
    c = plan.commitment
    out = PublicPlan(
        code=plan.code,
        title=plan.title,
        status=plan.status.value,
        status_zh=STATUS_ZH.get(plan.status.value, plan.status.value),
        period_from=plan.period_from,
        period_to=plan.period_to,
        rounds=[(r.number, r.starts_on, r.ends_on) for r in plan.rounds],
        products=summary.product_names,
        targets_in_frame=summary.targets,
        commitment_sha256=c.commitment_sha256 if c else None,
        committed_at=summary.committed_at,
        public_value=c.public_value if c and plan.status == PlanStatus.DRAWN else None,
        public_value_source=c.public_value_source if c and plan.status == PlanStatus.DRAWN else None,
        revealed_at=c.revealed_at if c and plan.status == PlanStatus.DRAWN else None,
        files=_files(session, plan),
        announced=announcement_of(plan),
    )
    if c is not None:
        committed = json.loads(c.commitment_json)
        out.promised = {k: str(v) for k, v in committed.items() if k.endswith("_sha256")}
    if with_notice and plan.status == PlanStatus.DRAWN:
        out.notice = _notice(session, plan)
        counts: dict[str, int] = {}
        for row in out.notice:
            counts[row.result] = counts.get(row.result, 0) + 1
        out.results = counts
    return out


def published_plans(session: Session) -> list[PublicPlan]:
    """Every plan with a published commitment, newest first (no notice rows: see :func:`public_plan`)."""
    return [public_plan(session, p.code, with_notice=False) for p in list_plans(session) if p.commitment]


def verification_status(session: Session, key: str) -> VerificationStatus | None:
    """Reproduce a drawn plan's draw from its published files (None before the draw)."""
    plan = find_plan(session, key)
    if plan.status != PlanStatus.DRAWN:
        return None
    documents = published_documents(session, plan)
    # Pinned to the commitment hash stored (and published) before the draw, as anyone verifying would pin it.
    pinned = plan.commitment.commitment_sha256 if plan.commitment else None
    report: VerificationReport = verify_files(documents, pinned)
    return VerificationStatus(
        report.ok, report.tasks, [(check_label_zh(c.name), c.ok, c.detail) for c in report.checks]
    )


def notice_csv(rows: list[NoticeRow]) -> bytes:
    """The notice as CSV (UTF-8 with BOM, so Excel opens it in Chinese)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["轮次", "检查期限", "地理标志产品", "检查对象", "统一社会信用代码", "所在地", "类型", "季节",
         "抽样数量/批量（检验水平）", "检查结果", "结果日期"]
    )  # fmt: skip
    for r in rows:
        writer.writerow(
            [r.round, f"{r.due_from:%Y-%m-%d} 至 {r.due_to:%Y-%m-%d}", r.product, r.target, r.credit_code,
             r.county, r.kind, r.season, r.units, r.result, f"{r.result_date:%Y-%m-%d}" if r.result_date else ""]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")
