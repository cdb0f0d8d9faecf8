"""The published files of a plan and their verification: anyone holding the files can check every hash and
reproduce the selection and the assignment exactly, without the database (`gi plan verify PLAN_FILES`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gi.errors import InputError
from sampling.commit import COMMITMENT_SCHEME, REVEAL_SCHEME, canonical_json, derive_seed, sha256_hex
from sampling.design import DesignParameters
from sampling.draw import DrawResult, lot_of, run_draw
from sampling.frames import Frame

SELECTION_SCHEME = "gi-plan-selection/1"
ASSIGNMENT_SCHEME = "gi-plan-assignment/1"

FRAME_FILE = "frame.json"
PARAMETERS_FILE = "parameters.json"
COMMITMENT_FILE = "commitment.json"
REVEAL_FILE = "reveal.json"
SELECTION_FILE = "selection.json"
ASSIGNMENT_FILE = "assignment.json"
PUBLISHED_FILES = (FRAME_FILE, PARAMETERS_FILE, COMMITMENT_FILE, REVEAL_FILE, SELECTION_FILE, ASSIGNMENT_FILE)


def draw_documents(
    params: DesignParameters, result: DrawResult, commitment_sha256: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The selection document (strata and drawn targets) and the assignment document (inspectors, loads)."""
    selection = {
        "scheme": SELECTION_SCHEME,
        "plan": params.plan,
        "commitment_sha256": commitment_sha256,
        "strata": [s.to_dict() for s in result.strata],
        "tasks": [
            {
                "round": t.round,
                "order": t.order,
                "product": t.product,
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
    assignment = {
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
    return selection, assignment


@dataclass
class Check:
    """One verification step."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerificationReport:
    """Outcome of verifying a plan's published files."""

    plan: str = ""
    checks: list[Check] = field(default_factory=list)
    tasks: int = 0
    public_value: str = ""
    public_value_source: str = ""
    committed_at: str = ""
    revealed_at: str = ""

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        """Record a check; returns ``ok``."""
        self.checks.append(Check(name, ok, detail))
        return ok


def locate_files(paths: Iterable[str | Path]) -> dict[str, Path]:
    """The six published files from a directory or a list of files, by their names."""
    found: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        candidates = (
            [d / name for d in (path, path / "published") for name in PUBLISHED_FILES]
            if path.is_dir()
            else [path]
        )
        for c in candidates:
            if c.name in PUBLISHED_FILES and c.is_file():
                found[c.name] = c
    missing = [name for name in PUBLISHED_FILES if name not in found]
    if missing:
        raise InputError(
            "PLAN_FILES", f"missing {', '.join(missing)} (give the export directory or all six files)"
        )
    return found


def _mismatch(published: list[dict[str, Any]], recomputed: list[dict[str, Any]]) -> str:
    """Where two task lists first differ, in words."""
    if len(published) != len(recomputed):
        return f"{len(published)} published tasks, {len(recomputed)} reproduced"
    for a, b in zip(published, recomputed, strict=True):
        if a != b:
            return f"round {a.get('round')} order {a.get('order')}: published {a}, reproduced {b}"
    return "same tasks, other fields differ"


def verify(paths: Iterable[str | Path]) -> VerificationReport:
    """Check the hashes and reproduce selection and assignment from the published files alone."""
    files = locate_files(paths)
    raw = {name: path.read_bytes() for name, path in files.items()}
    report = VerificationReport()
    try:
        docs = {name: json.loads(data.decode("utf-8")) for name, data in raw.items()}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.add("files are UTF-8 JSON", False, str(exc))
        return report
    commitment, reveal = docs[COMMITMENT_FILE], docs[REVEAL_FILE]
    report.plan = str(commitment.get("plan", ""))
    report.committed_at = str(commitment.get("committed_at", ""))
    report.public_value = str(reveal.get("public_value", ""))
    report.public_value_source = str(reveal.get("public_value_source", ""))
    report.revealed_at = str(reveal.get("revealed_at", ""))
    report.add(
        "commitment scheme", commitment.get("scheme") == COMMITMENT_SCHEME, str(commitment.get("scheme"))
    )
    report.add("reveal scheme", reveal.get("scheme") == REVEAL_SCHEME, str(reveal.get("scheme")))
    for name in PUBLISHED_FILES:
        if canonical_json(docs[name]) != raw[name]:
            report.add(f"{name} is in canonical form", False, "re-serialized bytes differ from the file")
    commitment_sha = sha256_hex(raw[COMMITMENT_FILE])
    report.add(
        "frame.json matches the commitment",
        sha256_hex(raw[FRAME_FILE]) == commitment.get("frame_sha256"),
        sha256_hex(raw[FRAME_FILE]),
    )
    report.add(
        "parameters.json matches the commitment",
        sha256_hex(raw[PARAMETERS_FILE]) == commitment.get("parameters_sha256"),
        sha256_hex(raw[PARAMETERS_FILE]),
    )
    report.add(
        "reveal refers to this commitment", reveal.get("commitment_sha256") == commitment_sha, commitment_sha
    )
    secret = str(reveal.get("secret", ""))
    report.add(
        "revealed secret matches its committed hash",
        sha256_hex(secret.encode("utf-8")) == commitment.get("secret_sha256"),
    )
    plans = {d.get("plan") for d in docs.values()}
    report.add("all files belong to one plan", len(plans) == 1, ", ".join(sorted(map(str, plans))))
    try:
        seed = derive_seed(commitment_sha, secret, report.public_value)
    except InputError as exc:
        report.add("seed", False, str(exc))
        return report
    report.add(
        "seed = SHA-256(domain, commitment, secret, public value)",
        seed.hex() == reveal.get("seed"),
        seed.hex(),
    )
    if not report.ok:
        return report
    frame = Frame.from_dict(docs[FRAME_FILE])
    params = DesignParameters.from_dict(docs[PARAMETERS_FILE])
    result = run_draw(frame, params, seed)
    selection, assignment = draw_documents(params, result, commitment_sha)
    report.tasks = len(result.tasks)
    published_sel, published_asg = docs[SELECTION_FILE], docs[ASSIGNMENT_FILE]
    report.add("strata reproduced", published_sel.get("strata") == selection["strata"])
    report.add(
        "selection reproduced exactly",
        published_sel == selection,
        "" if published_sel == selection else _mismatch(published_sel.get("tasks", []), selection["tasks"]),
    )
    report.add(
        "assignment reproduced exactly",
        published_asg == assignment,
        "" if published_asg == assignment else _mismatch(published_asg.get("tasks", []), assignment["tasks"]),
    )
    return report
