"""Verification of a plan's published files, by anyone, without the database: every file against its JSON
Schema and its canonical bytes, the commitment against the hash published before the draw, the announced
public value, the seed, the draw (or its failure) reproduced exactly, the results, and the notice rebuilt byte
for byte. Every mismatch carries what was expected and what was found, in full (`gi plan verify`)."""

from __future__ import annotations

import csv
import difflib
import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gi.errors import InputError, UnavailableError
from sampling.assign import InfeasiblePlanError
from sampling.commit import (
    COMMITMENT_SCHEME,
    Announcement,
    Moment,
    canonical_json,
    derive_seed,
    sha256_hex,
)
from sampling.design import DesignParameters
from sampling.draw import run_draw
from sampling.frames import Frame
from sampling.published import (
    AFTER_DRAW,
    AFTER_FAILURE,
    ALL_FILES,
    ASSIGNMENT_FILE,
    BEFORE_DRAW,
    COMMITMENT_FILE,
    FAILURE_FILE,
    FRAME_FILE,
    JSON_FILES,
    NOTICE_COLUMNS,
    NOTICE_CSV,
    NOTICE_MD,
    PARAMETERS_FILE,
    RESULTS_FILE,
    REVEAL_FILE,
    SELECTION_FILE,
    draw_documents,
    failure_document,
    notice_rows,
    render_notice_csv,
    render_notice_md,
)
from sampling.schemas import validation_errors

# Kept for callers of the first version: the six JSON files of a drawn plan.
PUBLISHED_FILES = (FRAME_FILE, PARAMETERS_FILE, COMMITMENT_FILE, REVEAL_FILE, SELECTION_FILE, ASSIGNMENT_FILE)
# The files published only once a draw was made (or failed), each of which needs the reveal to be checked.
DRAW_FILES = tuple(dict.fromkeys(n for n in (*AFTER_DRAW, *AFTER_FAILURE) if n != REVEAL_FILE))


@dataclass(frozen=True)
class Difference:
    """One mismatch: where, what was expected, what was found (both in full)."""

    where: str
    expected: str
    found: str

    def text(self) -> str:
        """Three lines: where, expected, found."""
        return f"{self.where}\n    expected: {self.expected}\n    found:    {self.found}"


@dataclass
class Check:
    """One verification step and, when it failed, every difference it found."""

    name: str
    ok: bool
    differences: list[Difference] = field(default_factory=list)

    @property
    def detail(self) -> str:
        """The first difference in one line (for tables); every difference is in ``differences``."""
        if not self.differences:
            return ""
        d = self.differences[0]
        more = f" (+{len(self.differences) - 1} more)" if len(self.differences) > 1 else ""
        return f"{d.where}: expected {d.expected}, found {d.found}{more}".lstrip(": ")


@dataclass
class VerificationReport:
    """Outcome of verifying a plan's published files."""

    plan: str = ""
    status: str = ""  # committed | drawn | failed, as the files say
    commitment_sha256: str = ""
    pinned: bool = False
    checks: list[Check] = field(default_factory=list)
    tasks: int = 0
    results: int = 0
    public_value: str = ""
    public_value_source: str = ""
    committed_at: str = ""
    revealed_at: str = ""
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, differences: Iterable[Difference] = ()) -> bool:
        """Record a check; returns ``ok``."""
        self.checks.append(Check(name, ok, [] if ok else list(differences)))
        return ok

    def expect(self, name: str, expected: object, found: object, where: str = "") -> bool:
        """Record a check that ``found`` equals ``expected``."""
        ok = expected == found
        return self.add(name, ok, [Difference(where, _show(expected), _show(found))])


def _show(value: object) -> str:
    """A value in full, as JSON when it is structured."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# ----------------------------------------------------------------------------------------------------------
# Where the files come from: a directory, a list of files, or a base URL the service publishes them under.


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def fetch_published(base_url: str, timeout: float = 30.0) -> dict[str, bytes]:
    """The published files under ``base_url`` (``<base_url>/<file name>``); a file answered with 404 is absent."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    out: dict[str, bytes] = {}
    for name in ALL_FILES:
        try:
            with urllib.request.urlopen(base + name, timeout=timeout) as response:  # noqa: S310 (http/https only)
                out[name] = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise UnavailableError(f"PLAN_FILES: {base + name} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise UnavailableError(f"PLAN_FILES: cannot fetch {base + name}: {exc}") from exc
    return out


def load_published(sources: Iterable[str | Path]) -> dict[str, bytes]:
    """The published files from a base URL, a directory (or its ``published/``), or a list of files."""
    items = [str(s) for s in sources]
    if len(items) == 1 and _is_url(items[0]):
        found = fetch_published(items[0])
    else:
        found = {}
        for raw in items:
            path = Path(raw)
            if path.is_dir():
                base = path / "published" if (path / "published" / COMMITMENT_FILE).is_file() else path
                for name in ALL_FILES:
                    if (base / name).is_file():
                        found[name] = (base / name).read_bytes()
            elif path.is_file() and path.name in ALL_FILES:
                found[path.name] = path.read_bytes()
            else:
                raise InputError("PLAN_FILES", f"{raw} is neither a directory nor a published file")
    missing = [name for name in BEFORE_DRAW if name not in found]
    if REVEAL_FILE in found:
        needed = AFTER_FAILURE if FAILURE_FILE in found else AFTER_DRAW
        missing += [name for name in needed if name not in found]
    if missing:
        raise InputError(
            "PLAN_FILES",
            f"missing {', '.join(missing)} (give the published directory, its URL or every file)",
        )
    return found


# ----------------------------------------------------------------------------------------------------------
# Differences between what was rebuilt and what was published.


def json_differences(expected: Any, found: Any, where: str = "") -> Iterator[Difference]:
    """Every difference between two JSON values: per key of objects; lists of records aligned element by element
    (so a deleted or inserted record is reported once, not as a shift of everything after it); a list of plain
    values (e.g. a task's inspectors) as a whole."""
    if isinstance(expected, dict) and isinstance(found, dict):
        for key in sorted(set(expected) | set(found)):
            here = f"{where}.{key}" if where else key
            if key not in found:
                yield Difference(here, _show(expected[key]), "(missing)")
            elif key not in expected:
                yield Difference(here, "(absent)", _show(found[key]))
            else:
                yield from json_differences(expected[key], found[key], here)
        return
    records = (
        isinstance(expected, list)
        and isinstance(found, list)
        and any(isinstance(x, (dict, list)) for x in (*expected, *found))
    )
    if records:
        assert isinstance(expected, list) and isinstance(found, list)
        a = [_show(x) for x in expected]
        b = [_show(x) for x in found]
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op == "equal":
                continue
            if op == "replace" and i2 - i1 == j2 - j1:
                for k in range(i2 - i1):
                    yield from json_differences(expected[i1 + k], found[j1 + k], f"{where}[{i1 + k}]")
                continue
            for k in range(i1, i2):
                yield Difference(f"{where}[{k}]", a[k], "(missing)")
            for k in range(j1, j2):
                yield Difference(f"{where}[+{k}]", "(absent)", b[k])
        return
    if expected != found or type(expected) is not type(found):
        yield Difference(where, _show(expected), _show(found))


def line_differences(expected: bytes, found: bytes, name: str) -> list[Difference]:
    """Line by line differences of two text files (a deleted row is one difference with the row in full)."""
    a = expected.decode("utf-8-sig", errors="replace").splitlines()
    b = found.decode("utf-8-sig", errors="replace").splitlines()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            exp = a[i1 + k] if i1 + k < i2 else "(absent)"
            got = b[j1 + k] if j1 + k < j2 else "(missing)"
            out.append(Difference(f"{name} line {(i1 + k if i1 + k < i2 else j1 + k) + 1}", exp, got))
    if not out and expected != found:
        out.append(
            Difference(
                name,
                f"{len(expected)} bytes, SHA-256 {sha256_hex(expected)}",
                f"{len(found)} bytes, SHA-256 {sha256_hex(found)} (same lines: BOM or line ends differ)",
            )
        )
    return out


def parse_notice_csv(data: bytes) -> list[dict[str, str]]:
    """The rows of notice.csv as objects keyed by the Chinese column names."""
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def parse_notice_md(data: bytes) -> list[dict[str, str]]:
    """The rows of the notice.md table of targets as objects keyed by the Chinese column names."""
    header = "| " + " | ".join(zh for _, zh in NOTICE_COLUMNS) + " |"
    lines = data.decode("utf-8").splitlines()
    if header not in lines:
        return []
    rows = []
    for line in lines[lines.index(header) + 2 :]:
        if not line.startswith("| "):
            break
        cells = [c.replace("\\|", "|").replace("\\\\", "\\") for c in _split_row(line)]
        rows.append(dict(zip([zh for _, zh in NOTICE_COLUMNS], cells, strict=False)))
    return rows


def _split_row(line: str) -> list[str]:
    cells, current, escaped = [], "", False
    for ch in line.strip()[1:-1]:
        if escaped:
            current += "\\" + ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            cells.append(current.strip())
            current = ""
        else:
            current += ch
    cells.append(current.strip())
    return cells


# ----------------------------------------------------------------------------------------------------------


def verify(sources: Iterable[str | Path], commitment: str | None = None) -> VerificationReport:
    """Verify a plan's published files (a directory, a list of files or a base URL); ``commitment`` pins the
    commitment hash published before the draw."""
    return verify_files(load_published(sources), commitment)


def verify_files(raw: dict[str, bytes], commitment: str | None = None) -> VerificationReport:
    """Verify the published files given by name and content."""
    report = VerificationReport(files=sorted(raw))
    docs: dict[str, Any] = {}
    for name in [n for n in JSON_FILES if n in raw]:
        try:
            docs[name] = json.loads(raw[name].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            report.add(f"{name} is UTF-8 JSON", False, [Difference(name, "UTF-8 JSON", str(exc))])
            continue
        problems = validation_errors(name, docs[name])
        report.add(
            f"{name} matches its schema",
            not problems,
            [Difference(f"{name} {where}", "valid per its schema", problem) for where, problem in problems],
        )
        canonical = canonical_json(docs[name]) if not problems else raw[name]
        if canonical != raw[name]:
            report.add(f"{name} is in canonical form", False, line_differences(canonical, raw[name], name))
    for name, parse in ((NOTICE_CSV, parse_notice_csv), (NOTICE_MD, parse_notice_md)):
        if name in raw:
            try:
                rows = parse(raw[name])
            except (UnicodeDecodeError, csv.Error) as exc:
                report.add(f"{name} is readable", False, [Difference(name, "UTF-8 text", str(exc))])
                continue
            problems = validation_errors(name, rows)
            report.add(
                f"{name} matches its schema",
                not problems,
                [Difference(f"{name} {where}", "valid per its schema", p) for where, p in problems],
            )
    if not report.ok:
        return report

    c = docs[COMMITMENT_FILE]
    commitment_sha = sha256_hex(raw[COMMITMENT_FILE])
    report.plan, report.commitment_sha256 = str(c["plan"]), commitment_sha
    report.committed_at = str(c["committed_at"])
    report.status = "failed" if FAILURE_FILE in docs else ("drawn" if REVEAL_FILE in docs else "committed")
    if commitment is not None:
        report.pinned = True
        report.expect(
            "commitment.json is the commitment published before the draw",
            commitment.strip().lower(),
            commitment_sha,
            "SHA-256 of commitment.json",
        )
    report.expect(
        "frame.json matches the commitment",
        c["frame_sha256"],
        sha256_hex(raw[FRAME_FILE]),
        "SHA-256 of frame.json",
    )
    report.expect(
        "parameters.json matches the commitment",
        c["parameters_sha256"],
        sha256_hex(raw[PARAMETERS_FILE]),
        "SHA-256 of parameters.json",
    )
    report.expect(
        "all files name one plan",
        {name: c["plan"] for name in docs},
        {name: d.get("plan") for name, d in docs.items()},
    )
    later = {name: d["commitment_sha256"] for name, d in docs.items() if "commitment_sha256" in d}
    report.expect("every later file refers to this commitment", {n: commitment_sha for n in later}, later)
    announcement = Announcement.from_dict(c["public_value"])
    committed_at = datetime.fromisoformat(c["committed_at"])
    report.add(
        "the public value was announced for a draw after the commitment",
        announcement.moment.after(committed_at),
        [Difference("public_value.draw_at", f"after {c['committed_at']}", announcement.draw_at)],
    )
    if REVEAL_FILE not in docs:
        # Without the reveal nothing of a draw can be checked, so a file of one (a selection, results, a
        # notice) that comes without it would otherwise pass unread: the set is incomplete, not "not drawn".
        orphans = [n for n in DRAW_FILES if n in raw]
        report.add(
            "no file of a draw comes without reveal.json",
            not orphans,
            [Difference(name, f"absent without {REVEAL_FILE}", "present") for name in orphans],
        )
        return report

    reveal = docs[REVEAL_FILE]
    report.public_value, report.public_value_source = reveal["public_value"], reveal["public_value_source"]
    report.revealed_at = reveal["revealed_at"]
    report.expect(
        "the revealed value is from the announced draw",
        announcement.to_dict(),
        {
            "source": reveal["public_value_source"],
            "draw": reveal["public_value_draw"],
            "draw_at": reveal["public_value_draw_at"],
        },
    )
    report.add(
        "revealed after the announced draw",
        Moment.parse(announcement.draw_at).reached(datetime.fromisoformat(reveal["revealed_at"])),
        [Difference("reveal.revealed_at", f"at or after {announcement.draw_at}", reveal["revealed_at"])],
    )
    secret = str(reveal["secret"])
    report.expect(
        "revealed secret matches its committed hash",
        c["secret_sha256"],
        sha256_hex(secret.encode("utf-8")),
        "SHA-256 of the revealed secret",
    )
    try:
        seed = derive_seed(commitment_sha, secret, report.public_value).hex()
    except InputError as exc:
        report.add("seed", False, [Difference("reveal", "a valid secret and public value", str(exc))])
        return report
    report.expect(
        "seed = SHA-256(domain, commitment, secret, public value)", seed, reveal["seed"], "reveal.seed"
    )
    if not report.ok:
        return report

    frame = Frame.from_dict(docs[FRAME_FILE])
    params = DesignParameters.from_dict(docs[PARAMETERS_FILE])
    try:
        result = run_draw(frame, params, bytes.fromhex(seed))
        failure = None
    except InfeasiblePlanError as exc:
        result, failure = None, failure_document(params.plan, commitment_sha, exc.problems)
    if FAILURE_FILE in docs:
        if failure is None:
            report.add(
                "the published failure is reproduced",
                False,
                [
                    Difference(
                        "failure.json", "no failure: the draw can be staffed", _show(docs[FAILURE_FILE])
                    )
                ],
            )
        else:
            report.add(
                "the published failure is reproduced",
                failure == docs[FAILURE_FILE],
                json_differences(failure, docs[FAILURE_FILE], "failure"),
            )
        expected_csv = render_notice_csv([])
        expected_md = render_notice_md(
            docs[PARAMETERS_FILE], c, commitment_sha, reveal, [], docs[FAILURE_FILE], docs[FRAME_FILE]
        )
    else:
        if result is None:
            assert failure is not None
            report.add(
                "the draw is reproduced",
                False,
                [Difference("selection.json", "a draw", "the draw fails: " + _show(failure["problems"]))],
            )
            return report
        selection, assignment = draw_documents(params, result, commitment_sha)
        report.tasks = len(result.tasks)
        report.add(
            "selection reproduced exactly",
            selection == docs[SELECTION_FILE],
            json_differences(selection, docs[SELECTION_FILE], "selection"),
        )
        report.add(
            "assignment reproduced exactly",
            assignment == docs[ASSIGNMENT_FILE],
            json_differences(assignment, docs[ASSIGNMENT_FILE], "assignment"),
        )
        results = docs[RESULTS_FILE]
        report.results = len(results["results"])
        drawn = {(t["round"], t["order"]): t["producer_id"] for t in selection["tasks"]}
        stray = [
            Difference(
                f"results[{k}]",
                f"a drawn task (round {r['round']}, order {r['order']}: target {drawn.get((r['round'], r['order']))})",
                _show(r),
            )
            for k, r in enumerate(results["results"])
            if drawn.get((r["round"], r["order"])) != r["producer_id"]
        ]
        keys = [(r["round"], r["order"]) for r in results["results"]]
        if keys != sorted(set(keys)):
            stray.append(Difference("results", "one result per task, by round and order", _show(keys)))
        report.add("every published result belongs to a drawn task", not stray, stray)
        rows = notice_rows(docs[FRAME_FILE], docs[PARAMETERS_FILE], selection, results)
        expected_csv = render_notice_csv(rows)
        expected_md = render_notice_md(docs[PARAMETERS_FILE], c, commitment_sha, reveal, rows)
    report.add(
        "notice.csv lists exactly the drawn targets and published results",
        expected_csv == raw[NOTICE_CSV],
        line_differences(expected_csv, raw[NOTICE_CSV], NOTICE_CSV),
    )
    report.add(
        "notice.md lists exactly the drawn targets, counts and published results",
        expected_md == raw[NOTICE_MD],
        line_differences(expected_md, raw[NOTICE_MD], NOTICE_MD),
    )
    if c["scheme"] != COMMITMENT_SCHEME:  # pragma: no cover - the schema allows only the current scheme
        report.add("commitment scheme", False, [Difference("scheme", COMMITMENT_SCHEME, c["scheme"])])
    return report
