"""Commitment, announced public value, seed and verification from the published files alone (a directory,
files, or the same files over HTTP): tampering is caught with what was expected and found, the pinned
commitment exposes a re-committed set, every published file validates against its schema, the test vector in
docs/ is rebuilt byte for byte, and an independent plain-Python re-implementation written from
docs/sampling.md reproduces the draw exactly."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sampling_fixtures import (
    SECRET,
    VECTOR_DIR,
    publish,
    published_files,
    vector_files,
)

from demo.directories import synthetic_frame
from gi.errors import InputError
from sampling.commit import (
    Announcement,
    canonical_json,
    check_announced_in_advance,
    check_claim,
    derive_seed,
    sha256_hex,
)
from sampling.design import DesignParameters
from sampling.frames import Frame
from sampling.published import PublishedResult
from sampling.schemas import SCHEMA_OF, validation_errors
from sampling.seasons import PEAK, REGULAR, Window, split_rounds
from sampling.verify import parse_notice_csv, parse_notice_md, verify

WINDOWS = [(Window(1, 1, 1, 31, PEAK), Window(2, 1, 3, 10, REGULAR)), (Window(11, 1, 1, 10, PEAK),), ()]


def _plan() -> tuple[Frame, DesignParameters]:
    frame = synthetic_frame(1500, 300, 3, seed=8, windows=WINDOWS, conflict_share=0.05, history_share=0.3)
    frame.plan = "V-1"
    params = DesignParameters(
        "V-1",
        date(2026, 1, 1),
        date(2026, 3, 31),
        tuple(split_rounds(date(2026, 1, 1), date(2026, 3, 31), 3)),
        min_gap_days=45,
        min_per_county=2,
    )
    return frame, params


def _commitment(directory: Path) -> str:
    return sha256_hex((directory / "commitment.json").read_bytes())


def test_seed_formula() -> None:
    commitment = "0" * 64
    expected = hashlib.sha256(f"gi-plan-seed/2\n{commitment}\n{SECRET}\nlottery 123".encode()).digest()
    assert derive_seed(commitment, SECRET, "  lottery 123 \n") == expected
    assert derive_seed(commitment, SECRET, "lottery 124") != expected
    with pytest.raises(InputError):
        derive_seed(commitment, "short", "x")
    with pytest.raises(InputError):
        derive_seed(commitment, SECRET, "   ")
    with pytest.raises(InputError, match="control"):
        derive_seed(commitment, SECRET, "4\x001")


def test_canonical_json() -> None:
    assert canonical_json({"b": 1, "a": ["西湖", True]}) == '{"a":["西湖",true],"b":1}\n'.encode()
    assert canonical_json({"s": 'a"\\\n\x01\x7f/'}) == b'{"s":"a\\"\\\\\\n\\u0001\x7f/"}\n'
    with pytest.raises(TypeError):
        canonical_json({"pi": 0.5})


def test_public_value_announced_in_advance() -> None:
    """RFC 3797: the source and the future draw are named in the commitment; a value of another source, issue or
    date, a date before the commitment, or a draw whose time has not come is refused."""
    committed = datetime.fromisoformat("2026-11-24T10:00:00+08:00")
    lottery = Announcement.make("中国福利彩票 福彩3D", "2026-11-25", "2026309")
    check_announced_in_advance(lottery, committed)
    with pytest.raises(InputError, match="not after the commitment"):
        check_announced_in_advance(
            Announcement.make("福彩3D", "2026-11-24"), committed
        )  # same day: maybe known
    with pytest.raises(InputError, match="not after the commitment"):
        check_announced_in_advance(Announcement.make("x", "2026-11-24T09:59:00+08:00"), committed)
    check_announced_in_advance(Announcement.make("x", "2026-11-24T10:00:01+08:00"), committed)
    after = datetime.fromisoformat("2026-11-25T21:30:00+08:00")
    check_claim(lottery, committed, " 中国福利彩票 福彩3D ", "2026-11-25", "2026309", after)
    with pytest.raises(InputError, match="predates the commitment"):
        check_claim(lottery, committed, "中国福利彩票 福彩3D", "2026-11-20", "2026309", after)
    with pytest.raises(InputError, match="not the announced source"):
        check_claim(lottery, committed, "体彩排列3", "2026-11-25", "2026309", after)
    with pytest.raises(InputError, match="not the announced draw time"):
        check_claim(lottery, committed, "中国福利彩票 福彩3D", "2026-11-26", "2026309", after)
    with pytest.raises(InputError, match="not the announced draw"):
        check_claim(lottery, committed, "中国福利彩票 福彩3D", "2026-11-25", "2026310", after)
    with pytest.raises(InputError, match="has not taken place yet"):
        check_claim(lottery, committed, "中国福利彩票 福彩3D", "2026-11-25", "2026309", committed)
    with pytest.raises(InputError, match="draw_at"):
        Announcement.make("x", "next tuesday")


def test_verify_published_files_pinned(tmp_path: Path) -> None:
    frame, params = _plan()
    files = publish(frame, params, tmp_path)
    report = verify([tmp_path], _commitment(tmp_path))
    assert report.ok, [(c.name, c.detail) for c in report.checks if not c.ok]
    assert report.pinned and report.status == "drawn" and report.tasks > 100 and report.plan == "V-1"
    # The files may also be given one by one, in any order; unpinned, the report says so.
    unpinned = verify(reversed(list(files.values())))
    assert unpinned.ok and not unpinned.pinned


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server publishing a plan's files (as the service does), and the directory behind it."""
    frame, params = _plan()
    publish(frame, params, tmp_path / "published")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/published/", tmp_path / "published"
    finally:
        server.shutdown()
        server.server_close()


def test_verify_over_http(served: tuple[str, Path]) -> None:
    url, directory = served
    report = verify([url], _commitment(directory))
    assert report.ok and report.tasks > 100, [(c.name, c.detail) for c in report.checks if not c.ok]
    # What the server serves is what is checked: a row removed on the server is found.
    csv_path = directory / "notice.csv"
    lines = csv_path.read_bytes().split(b"\r\n")
    csv_path.write_bytes(b"\r\n".join(lines[:3] + lines[4:]))
    bad = verify([url], _commitment(directory))
    assert not bad.ok and "notice.csv lists exactly the drawn targets and published results" in {
        c.name for c in bad.checks if not c.ok
    }


def _rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(path.read_bytes())
    change(doc)
    path.write_bytes(canonical_json(doc))


def _delete_line(path: Path, index: int, sep: bytes) -> bytes:
    lines = path.read_bytes().split(sep)
    removed = lines.pop(index)
    path.write_bytes(sep.join(lines))
    return removed


@pytest.mark.parametrize(
    "tamper,failing",
    [
        ("assignment", "assignment reproduced exactly"),
        ("selection", "selection reproduced exactly"),
        ("frame", "frame.json matches the commitment"),
        ("secret", "revealed secret matches its committed hash"),
        ("public_value", "seed = SHA-256(domain, commitment, secret, public value)"),
        ("spaces", "commitment.json is in canonical form"),
        ("notice_csv_row", "notice.csv lists exactly the drawn targets and published results"),
        ("notice_md_row", "notice.md lists exactly the drawn targets, counts and published results"),
        ("notice_md_count", "notice.md lists exactly the drawn targets, counts and published results"),
        ("notice_result", "notice.csv lists exactly the drawn targets and published results"),
        ("stray_result", "every published result belongs to a drawn task"),
        ("revealed_early", "revealed after the announced draw"),
        ("schema", "selection.json matches its schema"),
    ],
)
def test_tampering_is_detected(tmp_path: Path, tamper: str, failing: str) -> None:
    frame, params = _plan()
    files = publish(
        frame, params, tmp_path, results=[PublishedResult(1, 1, 0, "conforming", "2026-01-20", "")]
    )
    first = json.loads(files["selection.json"].read_bytes())["tasks"][0]
    # The result belongs to the first task (its producer is known only after the draw).
    files = publish(
        frame,
        params,
        tmp_path,
        results=[PublishedResult(1, 1, first["producer_id"], "nonconforming", "2026-01-20", "标签不符")],
    )
    assert verify([tmp_path], _commitment(tmp_path)).ok
    if tamper == "assignment":

        def swap(doc):  # type: ignore[no-untyped-def]
            doc["tasks"][3]["inspectors"] = list(reversed(doc["tasks"][3]["inspectors"]))

        _rewrite(files["assignment.json"], swap)
    elif tamper == "selection":
        _rewrite(
            files["selection.json"],
            lambda d: d["tasks"][0].update(producer_id=d["tasks"][0]["producer_id"] + 1),
        )
    elif tamper == "frame":
        _rewrite(files["frame.json"], lambda d: d["producers"][0]["risk"].update(failure=1))
    elif tamper == "secret":
        _rewrite(files["reveal.json"], lambda d: d.update(secret="b" * 64))
    elif tamper == "public_value":
        _rewrite(files["reveal.json"], lambda d: d.update(public_value="07 13 22 28 31 + 06"))
    elif tamper == "spaces":
        files["commitment.json"].write_text(json.dumps(json.loads(files["commitment.json"].read_text())))
    elif tamper == "notice_csv_row":
        _delete_line(files["notice.csv"], 5, b"\r\n")
    elif tamper == "notice_md_row":
        _delete_line(files["notice.md"], 14, b"\n")
    elif tamper == "notice_md_count":
        text = files["notice.md"].read_text(encoding="utf-8")
        files["notice.md"].write_text(text.replace("已公布结果 1 个", "已公布结果 0 个"), encoding="utf-8")
    elif tamper == "notice_result":
        text = files["notice.csv"].read_text(encoding="utf-8-sig")
        files["notice.csv"].write_text(text.replace("不合格", "合格", 1), encoding="utf-8-sig", newline="")
    elif tamper == "stray_result":
        _rewrite(files["results.json"], lambda d: d["results"][0].update(order=2))
    elif tamper == "revealed_early":
        _rewrite(files["reveal.json"], lambda d: d.update(revealed_at="2026-01-01T23:00:00+08:00"))
    elif tamper == "schema":
        _rewrite(files["selection.json"], lambda d: d["tasks"][0].update(pi_ticks=0))
    report = verify([tmp_path], None if tamper in ("spaces",) else _commitment(tmp_path))
    assert not report.ok
    assert failing in {c.name for c in report.checks if not c.ok}
    for c in report.checks:
        assert c.ok or c.differences, c.name  # every failed check says what was expected and what was found


def test_deleted_notice_row_is_shown_in_full(tmp_path: Path) -> None:
    frame, params = _plan()
    files = publish(frame, params, tmp_path)
    removed = _delete_line(files["notice.md"], 20, b"\n").decode()
    _delete_line(files["notice.csv"], 7, b"\r\n")
    report = verify([tmp_path], _commitment(tmp_path))
    md = next(c for c in report.checks if c.name.startswith("notice.md lists"))
    assert not md.ok and [(d.expected, d.found) for d in md.differences] == [(removed, "(missing)")]
    csv_check = next(c for c in report.checks if c.name.startswith("notice.csv lists"))
    assert len(csv_check.differences) == 1 and csv_check.differences[0].found == "(missing)"


def test_a_recommitted_set_is_caught_only_by_the_pinned_commitment(tmp_path: Path) -> None:
    """A whole set re-committed without one producer is consistent in itself; the hash published before the
    draw exposes it, and the mismatch shows both hashes in full."""
    frame, params = _plan()
    publish(frame, params, tmp_path / "first")
    published_first = _commitment(tmp_path / "first")
    frame.producers = frame.producers[1:]
    publish(frame, params, tmp_path / "again")
    assert verify([tmp_path / "again"]).ok  # self-consistent
    report = verify([tmp_path / "again"], published_first)
    failed = [c for c in report.checks if not c.ok]
    assert [c.name for c in failed] == ["commitment.json is the commitment published before the draw"]
    (difference,) = failed[0].differences
    assert difference.expected == published_first and difference.found == _commitment(tmp_path / "again")


def test_mismatch_shows_expected_and_found_in_full(tmp_path: Path) -> None:
    frame, params = _plan()
    files = publish(frame, params, tmp_path)
    published = json.loads(files["assignment.json"].read_bytes())["tasks"][3]

    def swap(doc):  # type: ignore[no-untyped-def]
        doc["tasks"][3]["inspectors"] = list(reversed(doc["tasks"][3]["inspectors"]))

    _rewrite(files["assignment.json"], swap)
    report = verify([tmp_path], _commitment(tmp_path))
    (check,) = [c for c in report.checks if not c.ok]
    (d,) = check.differences
    assert json.loads(d.expected) == published["inspectors"]
    assert json.loads(d.found) == list(reversed(published["inspectors"]))
    _rewrite(files["frame.json"], lambda doc: doc["producers"][0].update(name="改名"))
    hashes = next(c for c in verify([tmp_path]).checks if c.name == "frame.json matches the commitment")
    committed = json.loads(files["commitment.json"].read_bytes())["frame_sha256"]
    assert hashes.differences[0].expected == committed
    assert hashes.differences[0].found == sha256_hex(files["frame.json"].read_bytes())


def test_missing_file(tmp_path: Path) -> None:
    frame, params = _plan()
    publish(frame, params, tmp_path)
    (tmp_path / "notice.md").unlink()
    with pytest.raises(InputError, match="notice.md"):
        verify([tmp_path])


def test_files_of_a_draw_without_the_reveal_are_not_passed_as_not_drawn(tmp_path: Path) -> None:
    """Deleting reveal.json must not turn a (forged) selection into a set "not drawn yet" that verifies."""
    frame, params = _plan()
    publish(frame, params, tmp_path)
    (tmp_path / "reveal.json").unlink()
    selection = json.loads((tmp_path / "selection.json").read_bytes())
    selection["tasks"] = selection["tasks"][:3]
    (tmp_path / "selection.json").write_bytes(canonical_json(selection))
    report = verify([tmp_path], _commitment(tmp_path))
    assert not report.ok
    check = next(c for c in report.checks if not c.ok)
    assert check.name == "no file of a draw comes without reveal.json"
    assert {d.where for d in check.differences} >= {"selection.json", "assignment.json", "notice.csv"}
    # The commitment's own files alone are a plan not drawn yet, and verify.
    for name in ("selection.json", "assignment.json", "results.json", "notice.csv", "notice.md"):
        (tmp_path / name).unlink()
    committed = verify([tmp_path], _commitment(tmp_path))
    assert committed.ok and committed.status == "committed"


def test_every_published_file_validates_against_its_schema(tmp_path: Path) -> None:
    """The drawn set, a failed set and the test vector: every file, JSON or notice, against its schema."""
    frame, params = _plan()
    drawn = published_files(frame, params, results=[PublishedResult(1, 1, 0, "conforming", "2026-01-20", "")])
    tight = synthetic_frame(400, 8, 1, seed=3, capacity=(1, 1))
    failed = published_files(tight, params.with_changes(plan="V-F"))
    assert "failure.json" in failed
    sets = {"drawn": drawn, "failed": failed, "vector": vector_files()}
    seen = set()
    for label, files in sets.items():
        for name, data in files.items():
            if name.endswith(".json"):
                content = json.loads(data)
            else:
                content = (parse_notice_csv if name == "notice.csv" else parse_notice_md)(data)
            assert validation_errors(name, content) == [], (label, name)
            seen.add(name)
    assert seen == set(SCHEMA_OF)  # every published file has a schema and was checked
    assert len(parse_notice_md(drawn["notice.md"])) == len(parse_notice_csv(drawn["notice.csv"])) > 100
    # A schema rejects what it should.
    assert validation_errors("reveal.json", {"scheme": "gi-plan-reveal/2"})
    bad = parse_notice_csv(drawn["notice.csv"])
    bad[0]["检查结果"] = "通过"
    assert validation_errors("notice.csv", bad)


def test_failed_draw_is_published_and_verified(tmp_path: Path) -> None:
    frame = synthetic_frame(400, 8, 1, seed=3, capacity=(1, 1))
    frame.plan = "V-F"
    _, params = _plan()
    files = publish(frame, params.with_changes(plan="V-F"), tmp_path)
    assert "failure.json" in files and "selection.json" not in files
    report = verify([tmp_path], _commitment(tmp_path))
    assert report.ok and report.status == "failed", [(c.name, c.detail) for c in report.checks if not c.ok]
    md = files["notice.md"].read_text(encoding="utf-8")
    assert "抽取失败" in md and "07 13 22 28 31 + 05" in md
    _rewrite(files["failure.json"], lambda d: d["problems"].pop())
    assert "the published failure is reproduced" in {c.name for c in verify([tmp_path]).checks if not c.ok}


def test_the_test_vector_is_rebuilt_and_verifies() -> None:
    """docs/sampling-vector/ is exactly what this implementation publishes, and verifies pinned."""
    expected = vector_files()
    first = json.loads(expected["selection.json"])["tasks"][0]
    from sampling_fixtures import (
        VECTOR_ANNOUNCEMENT,
        VECTOR_SECRET,
        VECTOR_VALUE,
        vector_plan,
    )

    frame, params = vector_plan()
    expected = published_files(
        frame,
        params,
        VECTOR_VALUE,
        [PublishedResult(1, 1, first["producer_id"], "conforming", "2026-03-20", "感官与标签检查合格")],
        secret=VECTOR_SECRET,
        announcement=VECTOR_ANNOUNCEMENT,
        committed_at="2026-02-20T10:00:00+08:00",
        revealed_at="2026-02-25T21:40:00+08:00",
    )
    for name, data in expected.items():
        assert (VECTOR_DIR / name).read_bytes() == data, name
    readme = (VECTOR_DIR / "README.md").read_text(encoding="utf-8")
    sha = sha256_hex(expected["commitment.json"])
    assert sha in readme
    report = verify([VECTOR_DIR], sha)
    assert report.ok and report.results == 1, [(c.name, c.detail) for c in report.checks if not c.ok]
    # The vector reaches the edge cases it claims to.
    selection = json.loads(expected["selection.json"])
    strata = selection["strata"]
    assert {s["season_kind"] for s in strata if s["product"] == "vec-tea"} == {
        "peak",
        "regular",
        "off_season",
    }
    assert any(s["ratio_bp"] == 0 for s in strata) and any(s["segment"] == "online" for s in strata)
    assert all(t["producer_id"] != 140 for t in selection["tasks"])  # unknown county, no pool: never drawn
    assert any(
        c["county"] == "000000" for s in strata for c in s["counties"]
    )  # repaired: a county of its own


# ------------------------------------------------------------------------------------------------------------
# An independent re-implementation, written from docs/sampling.md §§ 4-6 only: plain Python integers, no numpy,
# no import of sampling.draw/design/assign.

T = 2**32


def _h(seed: bytes, label: str) -> bytes:
    return hashlib.sha256(seed + label.encode("ascii")).digest()


def _u64(seed: bytes, label: str) -> int:
    return int.from_bytes(_h(seed, label)[:8], "big")


def _u32(seed: bytes, label: str) -> int:
    return int.from_bytes(_h(seed, label)[:4], "big")


def _below(seed: bytes, label: str, m: int) -> int:
    k = 0
    while True:
        x = _u64(seed, f"{label}|{k}")
        if x < 2**64 - 2**64 % m:
            return x % m
        k += 1


def _kind(windows: list[dict], day: date) -> str:
    if not windows:
        return "regular"
    kinds = set()
    for w in windows:
        a, b = w["window"].split("..")
        s, e = tuple(map(int, a.split("-"))), tuple(map(int, b.split("-")))
        md = (day.month, day.day)
        inside = (md >= s or md <= e) if e < s else (s <= md <= e)
        if inside:
            kinds.add(w["kind"])
    return "peak" if "peak" in kinds else ("regular" if kinds else "off_season")


def _round_kind(windows: list[dict], start: date, end: date) -> str:
    counts = {"peak": 0, "regular": 0, "off_season": 0}
    d = start
    while d <= end:
        counts[_kind(windows, d)] += 1
        d += timedelta(days=1)
    best = "peak"
    for k in ("regular", "off_season"):
        if counts[k] > counts[best]:
            best = k
    return best


def _allocate(total: int, weights: dict[str, int], caps: dict[str, int]) -> dict[str, int]:
    a = {c: 0 for c in weights}
    active = sorted(c for c in weights if caps[c] > 0 and weights[c] > 0)
    r = min(total, sum(caps[c] for c in active))
    while r > 0 and active:
        s = sum(weights[c] for c in active)
        full = [c for c in active if r * weights[c] >= caps[c] * s]
        if full:
            for c in full:
                a[c] = caps[c]
                r -= caps[c]
            active = [c for c in active if c not in full]
            continue
        for c in active:
            a[c] = r * weights[c] // s
        extra = r - sum(a[c] for c in active)
        for c in sorted(active, key=lambda c: (-(r * weights[c] % s), c))[:extra]:
            a[c] += 1
        r = 0
    return a


def _ticks(w: list[int], ids: list[int], q: int) -> list[int]:
    certain = [False] * len(w)
    q1, w1 = q, sum(w)
    while q1 > 0:
        new = [i for i in range(len(w)) if not certain[i] and q1 * w[i] >= T * w1]
        if not new:
            break
        for i in new:
            certain[i] = True
            q1 -= T
            w1 -= w[i]
    t = [T if c else 0 for c in certain]
    if q1 > 0:
        others = [i for i in range(len(w)) if not certain[i]]
        for i in others:
            t[i] = q1 * w[i] // w1
        left = q1 - sum(t[i] for i in others)
        for i in sorted(others, key=lambda i: (-(q1 * w[i] % w1), ids[i]))[:left]:
            t[i] += 1
    return t


def reference_draw(frame: dict, params: dict, seed: bytes) -> tuple[list, list, list]:
    """(coverage, strata, tasks) as in selection.json, with each task's inspectors added."""
    p, rp, caps = params, params["risk_points"], params["risk_caps"]

    def weight(risk: dict) -> int:
        return rp["baseline"] + sum(rp[f] * min(risk.get(f, 0), caps[f]) for f in caps)

    producers = sorted(frame["producers"], key=lambda x: x["id"])
    dates = {x["id"]: [date.fromisoformat(d) for d in x["inspections"]] for x in producers}
    previous = {x["id"]: tuple(x["previous_inspectors"]) for x in producers}
    category = {x["code"]: x["category"] for x in frame["products"]}
    windows = {x["code"]: x["windows"] for x in frame["products"]}
    conflicts = {(c, pid) for c, pid in frame["conflicts"]}
    rounds = [(r["number"], date.fromisoformat(r["from"]), date.fromisoformat(r["to"])) for r in p["rounds"]]

    def pool(x: dict) -> str | None:
        if x["pool"] is not None:
            return x["pool"]
        if p["inspector_scope"] == "national":
            return "*"
        return None if x["county"] == "000000" else x["county"][:2]

    strata_keys = []
    for product in sorted(x["code"] for x in frame["products"]):
        segs = {x["segment"] for x in producers if x["product"] == product} | {""}
        strata_keys += [(product, s) for s in sorted(segs)]

    def ratio(key: tuple[str, str], start: date, end: date) -> int:
        table = p["ratios_bp"]
        if key[1] and f"{key[0]}/{key[1]}" in p["product_ratios_bp"]:
            table = p["product_ratios_bp"][f"{key[0]}/{key[1]}"]
        elif key[0] in p["product_ratios_bp"]:
            table = p["product_ratios_bp"][key[0]]
        return table[_round_kind(windows[key[0]], start, end)]

    members = {k: [x for x in producers if (x["product"], x["segment"]) == k] for k in strata_keys}
    coverage, due = [], {}
    for key in strata_keys:
        active = [n for n, s, e in rounds if ratio(key, s, e) > 0]
        counties = sorted({x["county"] for x in members[key] if pool(x) is not None})
        if not active or not counties:
            continue
        order = sorted(counties, key=lambda c: (_u64(seed, f"coverage|{key[0]}|{key[1]}|{c}"), c))  # noqa: B023
        o = _below(seed, f"coverage|{key[0]}|{key[1]}", len(active))
        for k, c in enumerate(order):
            due[(key, c)] = active[(k + o) % len(active)]
        coverage += [
            {"product": key[0], "segment": key[1], "county": c, "round": due[(key, c)]} for c in counties
        ]
    covered: dict[tuple, int] = {}
    strata, tasks = [], []
    for number, start, end in rounds:

        def eligible(x: dict) -> bool:
            ds = dates[x["id"]]
            if sum(1 for d in ds if d.year == start.year) >= p["yearly_cap"]:  # noqa: B023
                return False
            return not (p["min_gap_days"] > 0 and any(abs((start - d).days) < p["min_gap_days"] for d in ds))  # noqa: B023

        chosen = []
        for key in strata_keys:
            r = ratio(key, start, end)
            kind = _round_kind(windows[key[0]], start, end)
            counties = sorted({x["county"] for x in members[key] if pool(x) is not None})
            el = {
                c: [x for x in members[key] if x["county"] == c and pool(x) is not None and eligible(x)]
                for c in counties
            }
            need = {
                c: max(0, p["min_per_county"] - covered.get((key, c), 0))
                if r > 0 and number >= due.get((key, c), number + 1)
                else 0
                for c in counties
            }
            m = {c: min(need[c], len(el[c])) for c in counties}
            e_total = sum(len(v) for v in el.values())
            n = (
                0
                if r == 0
                else min(
                    e_total,
                    max((r * len(members[key]) + 9999) // 10000, p["min_per_product"], sum(m.values())),
                )
            )
            if n == 0:
                m = {c: 0 for c in counties}
            w_c = {c: sum(weight(x["risk"]) for x in el[c]) for c in counties}
            a = (
                _allocate((n - sum(m.values())) * T, w_c, {c: (len(el[c]) - m[c]) * T for c in counties})
                if n
                else {}
            )
            q = {c: m[c] * T + a.get(c, 0) for c in counties}
            drawn = {c: 0 for c in counties}
            if n:
                line = []
                for c in sorted(
                    (c for c in counties if q[c]),
                    key=lambda c: (_u64(seed, f"county|{number}|{key[0]}|{key[1]}|{c}"), c),
                ):  # noqa: B023
                    units = sorted(el[c], key=lambda x: (_u64(seed, f"order|{number}|{x['id']}"), x["id"]))  # noqa: B023
                    ts = _ticks([weight(x["risk"]) for x in units], [x["id"] for x in units], q[c])
                    line += list(zip(units, ts, strict=True))
                u, k_edge, j = _u32(seed, f"start|{number}|{key[0]}|{key[1]}"), 0, 0
                for x, t in line:
                    while j < n and k_edge <= u + j * T < k_edge + t:
                        chosen.append((x, t, kind))
                        drawn[x["county"]] += 1
                        j += 1
                    k_edge += t
            strata.append(
                {
                    "round": number,
                    "product": key[0],
                    "segment": key[1],
                    "season_kind": kind,
                    "ratio_bp": r,
                    "directory": len(members[key]),
                    "eligible": e_total,
                    "sample_size": n,
                    "counties": [
                        {
                            "county": c,
                            "eligible": len(el[c]),
                            "need": need[c],
                            "minimum": m[c],
                            "ticks": q[c],
                            "drawn": drawn[c],
                        }
                        for c in counties
                    ],
                    "short_counties": [c for c in counties if need[c] > len(el[c])],
                }
            )
        chosen.sort(key=lambda xt: (_u64(seed, f"task|{number}|{xt[0]['id']}"), xt[0]["id"]))  # noqa: B023
        load = {i["code"]: 0 for i in frame["inspectors"]}
        for order, (x, t, kind) in enumerate(chosen, start=1):
            target_pool = pool(x)
            ranked = sorted(
                (
                    i
                    for i in frame["inspectors"]
                    if (target_pool == "*" or i["home_county"][:2] == target_pool)
                    and load[i["code"]] < i["capacity"]
                ),
                key=lambda i: (
                    load[i["code"]],
                    _u64(seed, f"inspector|{number}|{load[i['code']]}|{i['code']}"),
                    i["code"],
                ),  # noqa: B023
            )
            picks = [
                i["code"]
                for i in ranked
                if i["home_county"] != x["county"]
                and (i["code"], x["id"]) not in conflicts
                and i["code"] not in previous[x["id"]]
                and (not p["require_qualification"] or category[x["product"]] in i["qualifications"])
            ][: p["inspectors_per_task"]]
            assert len(picks) == p["inspectors_per_task"]  # the greedy pass suffices for these frames
            for code in picks:
                load[code] += 1
            tasks.append(
                (number, order, x["product"], x["segment"], x["county"], x["id"], t, kind, tuple(picks))
            )
            dates[x["id"]].append(start)
            previous[x["id"]] = tuple(sorted(picks))
            covered[((x["product"], x["segment"]), x["county"])] = (
                covered.get(((x["product"], x["segment"]), x["county"]), 0) + 1
            )
    return coverage, strata, tasks


@pytest.mark.parametrize("which", ["synthetic", "vector"])
def test_independent_reimplementation_from_the_docs(tmp_path: Path, which: str) -> None:
    if which == "synthetic":
        frame, params = _plan()
        files = publish(frame, params, tmp_path)
    else:
        files = {
            name: VECTOR_DIR / name
            for name in ("frame.json", "parameters.json", "reveal.json", "selection.json", "assignment.json")
        }
    seed = bytes.fromhex(json.loads(files["reveal.json"].read_bytes())["seed"])
    coverage, strata, tasks = reference_draw(
        json.loads(files["frame.json"].read_bytes()), json.loads(files["parameters.json"].read_bytes()), seed
    )
    selection = json.loads(files["selection.json"].read_bytes())
    assignment = json.loads(files["assignment.json"].read_bytes())
    assert selection["coverage"] == coverage
    assert selection["strata"] == strata
    published = [
        (
            t["round"],
            t["order"],
            t["product"],
            t["segment"],
            t["county"],
            t["producer_id"],
            t["pi_ticks"],
            t["season_kind"],
            tuple(a["inspectors"]),
        )
        for t, a in zip(selection["tasks"], assignment["tasks"], strict=True)
    ]
    assert published == tasks
