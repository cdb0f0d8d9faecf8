"""`gi quality`: characteristic-quality verdicts, origin fingerprints and combined origin evidence of samples."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from api.console import console, progress, table
from api.options import PERIOD_SEASON, parse_day, parse_period
from gi import clock
from gi.db import session_scope
from gi.errors import InputError

if TYPE_CHECKING:  # the domain is imported when a command runs, so `gi --help` stays quick
    from gi.quality.judge import SampleCheck

app = typer.Typer(
    help="Characteristic quality (特色质量) and origin fingerprint of samples.", no_args_is_help=True
)

OUTCOME_STYLE = {
    "pass": "green",
    "fail": "red",
    "inconclusive": "yellow",
    "consistent": "green",
    "doubtful": "yellow",
    "inconsistent": "red",
    "atypical": "red",
    "not_assessed": "dim",
}


def _styled(value: str) -> str:
    style = OUTCOME_STYLE.get(value)
    return f"[{style}]{value}[/]" if style else value


def _p(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if value >= 0.001 else f"{value:.0e}"


@app.command("check")
def check(
    sample: str = typer.Option(None, "--sample", "-s", help="One sample: UUID or its first 8+ hex digits."),
    start: str = typer.Option(None, "--from", metavar="DATE", help="Samples collected from YYYY-MM-DD."),
    end: str = typer.Option(None, "--to", metavar="DATE", help="Samples collected until YYYY-MM-DD."),
    season: str = PERIOD_SEASON,
    product: str = typer.Option(None, "--product", "-p", help="Only this product's samples."),
    grade: str = typer.Option(None, "--grade", help="Judge against this grade/class (default: as declared)."),
) -> None:
    """Judge samples that have lab results: quality against the specification, fingerprint, origin evidence."""
    from gi.quality.judge import judge_samples, select_samples

    first, last = parse_period(start, end, season)
    period = (first, last) if first is not None or last is not None else None
    if sample is None and period is None and product is None:
        raise InputError("selection", "give --sample, --from/--to (or --season) or --product")
    with session_scope() as session:
        samples = select_samples(session, sample, period, product)
        if not samples:
            console.print("no samples with lab results in that selection")
            return
        with progress() as bar:
            task = bar.add_task("checking", total=len(samples))
            checks = judge_samples(session, samples, grade, lambda n: bar.advance(task, n))
        if len(checks) == 1:
            print_sample_detail(checks[0])
        else:
            print_quality_table(checks)
            print_evidence_table(checks)


def print_sample_detail(check: SampleCheck) -> None:
    """Every indicator of one sample, its fingerprint and the reasons of its origin grade."""
    q, fp, ev, s = check.quality, check.fingerprint, check.evidence, check.sample
    console.print(
        f"[bold]sample {s.id}[/]  {s.product.name_zh} ({s.product.code}), collected "
        f"{q.inputs['collected_on']}, grade {q.declared_grade or 'not declared'}"
    )
    console.print(
        table(
            f"quality: {q.outcome.value}  ({q.rule})",
            ["indicator", "grade", "limit", "value", "U", "outcome", "reason", "source"],
            [
                [
                    f"{i['name_zh']} {i['code']}",
                    i["grade"] or "all",
                    i["limit"],
                    i["value"] or "",
                    i["uncertainty"] or "",
                    _styled(i["outcome"]),
                    i["reason"] + ("; " + "; ".join(i["notes"]) if i["notes"] else ""),
                    i["source"],
                ]
                for i in q.indicators
            ],
        )
    )
    if q.missing_mandatory:
        console.print(f"[yellow]missing mandatory indicators:[/] {', '.join(q.missing_mandatory)}")
    if q.grades_met:
        console.print(f"grades met: {', '.join(q.grades_met)}")
    if fp is not None:
        console.print(f"fingerprint: {_styled(fp.outcome.value)} — {fp.reason}")
    console.print(f"origin evidence: {_styled(ev.grade.value)}")
    for reason in ev.reasons:
        console.print(f"  [{reason['effect']}] {reason['source']}: {reason['text']}")


def print_quality_table(checks: Sequence[SampleCheck]) -> None:
    """Counts of quality outcomes per product, then the samples that did not pass."""
    per: dict[str, Counter[str]] = {}
    for c in checks:
        counter = per.setdefault(c.sample.product.name_zh, Counter())
        counter[c.quality.outcome.value] += 1
        counter["missing"] += bool(c.quality.missing_mandatory)
    console.print(
        table(
            "Characteristic quality (特色质量) by product",
            ["产品", "samples", "pass", "fail", "inconclusive", "missing mandatory", "rule"],
            [
                [
                    name,
                    sum(v for k, v in c.items() if k != "missing"),
                    c["pass"],
                    c["fail"],
                    c["inconclusive"],
                    c["missing"],
                    _rule_of(checks, name),
                ]
                for name, c in sorted(per.items())
            ],
        )
    )
    failing = [c for c in checks if c.quality.outcome.value != "pass"]
    if failing:
        console.print(
            table(
                f"samples not passing ({len(failing)}; first 20)",
                ["sample", "产品", "grade", "quality", "why"],
                [
                    [
                        str(c.sample.id)[:8],
                        c.sample.product.name_zh,
                        c.quality.declared_grade or "",
                        _styled(c.quality.outcome.value),
                        c.quality.inputs.get("summary", ""),
                    ]
                    for c in failing[:20]
                ],
            )
        )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _rule_of(checks: Sequence[SampleCheck], name: str) -> str:
    for c in checks:
        if c.sample.product.name_zh == name:
            kind = c.quality.rule_config.get("kind", "")
            factor = c.quality.rule_config.get("guard_factor", "1")
            return kind if kind == "simple_acceptance" else f"{kind} (w = {factor}·U)"
    return ""


def print_evidence_table(checks: Sequence[SampleCheck]) -> None:
    """Combined origin grades per product, then the doubtful and inconsistent samples with their reasons."""
    per: dict[str, Counter[str]] = {}
    for c in checks:
        per.setdefault(c.sample.product.name_zh, Counter())[c.evidence.grade.value] += 1
    console.print(
        table(
            "Combined origin evidence (GPS + fingerprint) by product",
            ["产品", "consistent", "doubtful", "inconsistent"],
            [[name, c["consistent"], c["doubtful"], c["inconsistent"]] for name, c in sorted(per.items())],
        )
    )
    flagged = [c for c in checks if c.evidence.grade.value != "consistent"]
    flagged.sort(key=lambda c: (c.evidence.grade.value != "inconsistent", c.sample.product.name_zh))
    if flagged:
        rows = []
        for c in flagged[:20]:
            fp = c.fingerprint
            fp_text = (
                ""
                if fp is None
                else (
                    fp.outcome.value.replace("_", " ")
                    if fp.p_value is None
                    else f"{fp.outcome.value} p={_p(fp.p_value)}"
                )
            )
            best = ""
            if fp is not None and fp.best_fit_code and fp.best_fit_code != c.sample.product.code:
                best = next(
                    (k["area_zh"] for k in fp.candidates if k.get("product_code") == fp.best_fit_code),
                    fp.best_fit_code,
                )
            reasons = "; ".join(
                _clip(r["text"], 150) for r in c.evidence.reasons if r["effect"] in ("contradicts", "doubt")
            )
            rows.append(
                [
                    str(c.sample.id)[:8],
                    c.sample.product.name_zh,
                    _styled(c.evidence.grade.value),
                    fp_text,
                    best,
                    reasons,
                ]
            )
        console.print(
            table(
                f"doubtful and inconsistent origin ({len(flagged)}; first 20)",
                ["sample", "产品", "origin", "fingerprint", "fits best", "reasons"],
                rows,
            )
        )


@app.command("rule")
def rule(
    product: str = typer.Argument(..., help="Product code or Chinese name."),
    kind: str = typer.Option(
        None,
        "--set",
        help="simple_acceptance, guard_band, guarded_acceptance or "
        "guarded_rejection (omit to show the rule in force).",
    ),
    guard_factor: float = typer.Option(1.0, "--factor", help="Guard band w = factor·U."),
    comparison: str = typer.Option("full_value", help="full_value or rounded_value (GB/T 8170-2008 4.3)."),
    valid_from: str = typer.Option(
        None, "--from", metavar="DATE", help="In force from YYYY-MM-DD (default: the specification's start)."
    ),
    note: str = typer.Option(None, help="Why this rule (e.g. the control plan that fixes it)."),
) -> None:
    """Show or set the decision rule a product's lab results are judged by."""
    from gi.quality.judge import rule_at, set_rule
    from gi.register.areas import find_product

    with session_scope() as session:
        if kind is not None:
            start = parse_day(valid_from, "--from")
            stored = set_rule(session, product, kind, guard_factor, comparison, start, note)
            console.print(f"stored: from {stored.valid_from}")
        p = find_product(session, product)
        current, stored_rule = rule_at(session, p.id, clock.today())
        origin = f"stored, from {stored_rule.valid_from}" if stored_rule else "default"
        console.print(f"{p.name_zh}: {current.describe()} ({origin})")
