"""Commitment, seed and verification from the published files alone; tampering is caught; and an independent
plain-Python re-implementation written from docs/sampling.md reproduces the draw exactly."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from demo.directories import synthetic_frame
from gi.errors import InputError
from sampling.commit import canonical_json, derive_seed, make_commitment, make_reveal, sha256_hex
from sampling.design import DesignParameters
from sampling.draw import run_draw
from sampling.frames import Frame
from sampling.seasons import PEAK, REGULAR, Window, split_rounds
from sampling.verify import PUBLISHED_FILES, draw_documents, verify

SECRET = "a" * 64
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


def publish(
    frame: Frame, params: DesignParameters, directory: Path, public_value: str = "07 13 22 28 31 + 05"
) -> dict[str, Path]:
    """What `gi plan create` + `gi plan draw` + `gi plan export` publish, without a database."""
    frame_bytes, params_bytes = canonical_json(frame.to_dict()), canonical_json(params.to_dict())
    c = make_commitment(params.plan, frame_bytes, params_bytes, SECRET, "2026-01-01T09:00:00+08:00")
    reveal = make_reveal(
        params.plan, c.sha256, SECRET, public_value, "test lottery", "2026-01-02T09:00:00+08:00"
    )
    result = run_draw(frame, params, bytes.fromhex(reveal["seed"]))
    selection, assignment = draw_documents(params, result, c.sha256)
    data = {
        "frame.json": frame_bytes,
        "parameters.json": params_bytes,
        "commitment.json": c.data,
        "reveal.json": canonical_json(reveal),
        "selection.json": canonical_json(selection),
        "assignment.json": canonical_json(assignment),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in data.items():
        (directory / name).write_bytes(content)
    return {name: directory / name for name in data}


def test_seed_formula() -> None:
    commitment = "0" * 64
    expected = hashlib.sha256(f"gi-plan-seed/1\n{commitment}\n{SECRET}\nlottery 123".encode()).digest()
    assert derive_seed(commitment, SECRET, "  lottery 123 \n") == expected
    assert derive_seed(commitment, SECRET, "lottery 124") != expected
    with pytest.raises(InputError):
        derive_seed(commitment, "short", "x")
    with pytest.raises(InputError):
        derive_seed(commitment, SECRET, "   ")


def test_canonical_json() -> None:
    assert canonical_json({"b": 1, "a": ["西湖", True]}) == '{"a":["西湖",true],"b":1}\n'.encode()
    with pytest.raises(TypeError):
        canonical_json({"pi": 0.5})


def test_verify_published_files(tmp_path: Path) -> None:
    frame, params = _plan()
    files = publish(frame, params, tmp_path)
    report = verify([tmp_path])
    assert report.ok, [c for c in report.checks if not c.ok]
    assert report.tasks > 100 and report.plan == "V-1"
    # The six files may also be given one by one, in any order.
    assert verify(reversed(list(files.values()))).ok


def _rewrite(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(path.read_bytes())
    change(doc)
    path.write_bytes(canonical_json(doc))


@pytest.mark.parametrize(
    "tamper,failing",
    [
        ("assignment", "assignment reproduced exactly"),
        ("selection", "selection reproduced exactly"),
        ("frame", "frame.json matches the commitment"),
        ("secret", "revealed secret matches its committed hash"),
        ("public_value", "seed = SHA-256(domain, commitment, secret, public value)"),
        ("spaces", "commitment.json is in canonical form"),
    ],
)
def test_tampering_is_detected(tmp_path: Path, tamper: str, failing: str) -> None:
    frame, params = _plan()
    files = publish(frame, params, tmp_path)
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
    report = verify([tmp_path])
    assert not report.ok
    assert failing in {c.name for c in report.checks if not c.ok}


def test_missing_file(tmp_path: Path) -> None:
    frame, params = _plan()
    publish(frame, params, tmp_path)
    (tmp_path / "reveal.json").unlink()
    with pytest.raises(InputError, match="reveal.json"):
        verify([tmp_path])
    assert "reveal.json" in PUBLISHED_FILES


# ------------------------------------------------------------------------------------------------------------
# An independent re-implementation, written from docs/sampling.md sections 3 and 4 only: plain Python
# integers, no numpy, no import of sampling.draw/design/assign.

TICKS = 2**32


def _h(seed: bytes, label: str) -> bytes:
    return hashlib.sha256(seed + label.encode("ascii")).digest()


def _u64(seed: bytes, label: str) -> int:
    return int.from_bytes(_h(seed, label)[:8], "big")


def _u32(seed: bytes, label: str) -> int:
    return int.from_bytes(_h(seed, label)[:4], "big")


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


def reference_draw(
    frame: dict, params: dict, seed: bytes
) -> list[tuple[int, int, str, int, int, tuple[str, ...]]]:
    """(round, order, product, producer id, pi ticks, inspectors) for every task."""
    rp, p = params["risk_points"], params

    def weight(r: dict) -> int:
        return (
            rp["baseline"]
            + rp["failure"] * (r["failure"] > 0)
            + rp["inconclusive"] * (r["inconclusive"] > 0)
            + rp["complaint"] * min(r["complaints"], p["complaint_max"])
            + rp["new_authorization"] * (r["new_authorization"] > 0)
            + rp["long_since_inspection"] * (r["long_since_inspection"] > 0)
            + rp["outside_area"] * (r["outside_area"] > 0)
        )

    producers = frame["producers"]
    dates = {x["id"]: [date.fromisoformat(d) for d in x["inspections"]] for x in producers}
    previous = {x["id"]: tuple(x["previous_inspectors"]) for x in producers}
    category = {x["code"]: x["category"] for x in frame["products"]}
    conflicts = {(c, pid) for c, pid in frame["conflicts"]}
    drawn_count: dict[tuple[str, str], int] = {}
    rounds = [(r["number"], date.fromisoformat(r["from"]), date.fromisoformat(r["to"])) for r in p["rounds"]]

    def ratio(product: dict, start: date, end: date) -> int:
        table = p["product_ratios_bp"].get(product["code"], p["ratios_bp"])
        return table[_round_kind(product["windows"], start, end)]

    last_active = {
        pr["code"]: max([n for n, s, e in rounds if ratio(pr, s, e) > 0], default=0)
        for pr in frame["products"]
    }
    out = []
    for number, start, end in rounds:
        chosen = []
        for product in sorted(frame["products"], key=lambda x: x["code"]):
            members = [x for x in producers if x["product"] == product["code"]]
            r = ratio(product, start, end)
            if r == 0:
                continue

            def eligible(x: dict) -> bool:
                ds = dates[x["id"]]
                if sum(1 for d in ds if d.year == start.year) >= p["yearly_cap"]:  # noqa: B023
                    return False
                return not (
                    p["min_gap_days"] > 0 and any(abs((start - d).days) < p["min_gap_days"] for d in ds)  # noqa: B023
                )

            # Under the province scope a target of unknown county (000000) is never drawn.
            unknown = "000000" if p["inspector_scope"] == "province" else None
            counties = sorted({x["county"] for x in members} - {unknown})
            el = {c: [x for x in members if x["county"] == c and eligible(x)] for c in counties}
            need = {
                c: (
                    max(0, p["min_per_county"] - drawn_count.get((product["code"], c), 0))
                    if number == last_active[product["code"]]
                    else 0
                )
                for c in counties
            }
            m = {c: min(need[c], len(el[c])) for c in counties}
            total_el = sum(len(v) for v in el.values())
            n = min(total_el, max((r * len(members) + 9999) // 10000, p["min_per_product"], sum(m.values())))
            W = {c: sum(weight(x["risk"]) for x in el[c]) for c in counties}
            cap = {c: len(el[c]) - m[c] for c in counties}
            a = {c: 0 for c in counties}
            active = [c for c in counties if cap[c] > 0]
            rest = min(n - sum(m.values()), sum(cap[c] for c in active))
            while rest > 0 and active:
                T = sum(W[c] for c in active)
                full = [c for c in active if rest * W[c] >= cap[c] * T]
                if full:
                    for c in full:
                        a[c] = cap[c]
                        rest -= cap[c]
                    active = [c for c in active if c not in full]
                    continue
                for c in active:
                    a[c] = rest * W[c] // T
                extra = rest - sum(a[c] for c in active)
                for c in sorted(active, key=lambda c: (-(rest * W[c] % T), c))[:extra]:
                    a[c] += 1
                rest = 0
            for c in counties:
                nc = m[c] + a[c]
                if nc == 0:
                    continue
                units = sorted(el[c], key=lambda x: (_u64(seed, f"order|{number}|{x['id']}"), x["id"]))
                w = [weight(x["risk"]) for x in units]
                certain = [False] * len(units)
                n1, w1 = nc, sum(w)
                while n1 > 0:
                    new = [i for i in range(len(units)) if not certain[i] and n1 * w[i] >= w1]
                    if not new:
                        break
                    for i in new:
                        certain[i] = True
                        n1 -= 1
                        w1 -= w[i]
                t = [TICKS if certain[i] else 0 for i in range(len(units))]
                if n1 > 0:
                    others = [i for i in range(len(units)) if not certain[i]]
                    for i in others:
                        t[i] = n1 * TICKS * w[i] // w1
                    left = n1 * TICKS - sum(t[i] for i in others)
                    for i in sorted(others, key=lambda i: (-(n1 * TICKS * w[i] % w1), units[i]["id"]))[:left]:
                        t[i] += 1
                u, K, j = _u32(seed, f"start|{number}|{product['code']}|{c}"), 0, 0
                for i, x in enumerate(units):
                    if j < nc and K <= u + j * TICKS < K + t[i]:
                        chosen.append((x, t[i]))
                        j += 1
                    K += t[i]
        chosen.sort(key=lambda xt: (_u64(seed, f"task|{number}|{xt[0]['id']}"), xt[0]["id"]))
        # Assignment, section 4.
        load = {i["code"]: 0 for i in frame["inspectors"]}
        key = {}

        def pool(county: str) -> str:
            return county[:2] if p["inspector_scope"] == "province" else "*"

        for ins in frame["inspectors"]:
            key[ins["code"]] = _u64(seed, f"inspector|{number}|0|{ins['code']}")
        for order, (x, ticks) in enumerate(chosen, start=1):
            candidates = sorted(
                (
                    i
                    for i in frame["inspectors"]
                    if pool(i["home_county"]) == pool(x["county"]) and load[i["code"]] < i["capacity"]
                ),
                key=lambda i: (load[i["code"]], key[i["code"]], i["code"]),
            )
            picks = []
            for ins in candidates:
                code = ins["code"]
                if (
                    ins["home_county"] == x["county"]
                    or (code, x["id"]) in conflicts
                    or code in previous[x["id"]]
                ):
                    continue
                if p["require_qualification"] and category[x["product"]] not in ins["qualifications"]:
                    continue
                picks.append(code)
                if len(picks) == p["inspectors_per_task"]:
                    break
            assert len(picks) == p["inspectors_per_task"]
            for code in picks:
                load[code] += 1
                key[code] = _u64(seed, f"inspector|{number}|{load[code]}|{code}")
            out.append((number, order, x["product"], x["id"], ticks, tuple(picks)))
            dates[x["id"]].append(start)
            previous[x["id"]] = tuple(sorted(picks))
            drawn_count[(x["product"], x["county"])] = drawn_count.get((x["product"], x["county"]), 0) + 1
    return out


def test_independent_reimplementation_from_the_docs(tmp_path: Path) -> None:
    frame, params = _plan()
    files = publish(frame, params, tmp_path)
    seed = bytes.fromhex(json.loads(files["reveal.json"].read_bytes())["seed"])
    ours = run_draw(frame, params, seed)
    theirs = reference_draw(
        json.loads(files["frame.json"].read_bytes()), json.loads(files["parameters.json"].read_bytes()), seed
    )
    assert [
        (t.round, t.order, t.product, t.producer_id, t.pi_ticks, t.inspectors) for t in ours.tasks
    ] == theirs
    assert (
        sha256_hex(files["frame.json"].read_bytes())
        == json.loads(files["commitment.json"].read_bytes())["frame_sha256"]
    )
