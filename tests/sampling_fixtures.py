"""Shared helpers of the sampling tests: publish a plan's files without a database (what `gi plan create` +
`gi plan draw` + `gi plan export` write), and the small test vector of docs/sampling-vector/.

Run ``python tests/sampling_fixtures.py`` to rewrite the test vector after a deliberate change of the design."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sampling.assign import InfeasiblePlanError  # noqa: E402
from sampling.commit import Announcement, Predecessor, canonical_json, make_commitment, make_reveal  # noqa: E402
from sampling.design import DesignParameters, Ratios  # noqa: E402
from sampling.draw import run_draw  # noqa: E402
from sampling.frames import Frame, FrameInspector, FrameProducer, FrameProduct  # noqa: E402
from sampling.published import (  # noqa: E402
    PublishedResult,
    draw_documents,
    failure_document,
    notice_rows,
    render_notice_csv,
    render_notice_md,
    results_document,
)
from sampling.seasons import PEAK, REGULAR, Window, split_rounds  # noqa: E402

SECRET = "a" * 64
ANNOUNCEMENT = Announcement.make("test lottery", "2026-01-02", "2026001")
COMMITTED_AT = "2026-01-01T09:00:00+08:00"
REVEALED_AT = "2026-01-02T21:30:00+08:00"
VECTOR_DIR = Path(__file__).resolve().parent.parent / "docs" / "sampling-vector"


def published_files(
    frame: Frame,
    params: DesignParameters,
    public_value: str = "07 13 22 28 31 + 05",
    results: Sequence[PublishedResult] = (),
    secret: str = SECRET,
    announcement: Announcement = ANNOUNCEMENT,
    committed_at: str = COMMITTED_AT,
    revealed_at: str = REVEALED_AT,
    supersedes: Predecessor | None = None,
) -> dict[str, bytes]:
    """Every published file of a plan drawn (or failed) with this public value, by name."""
    frame_bytes, params_bytes = canonical_json(frame.to_dict()), canonical_json(params.to_dict())
    c = make_commitment(
        params.plan, frame_bytes, params_bytes, secret, committed_at, announcement, supersedes
    )
    reveal = make_reveal(params.plan, c.sha256, secret, public_value, announcement, revealed_at)
    out = {
        "frame.json": frame_bytes,
        "parameters.json": params_bytes,
        "commitment.json": c.data,
        "reveal.json": canonical_json(reveal),
    }
    try:
        result = run_draw(frame, params, bytes.fromhex(reveal["seed"]))
    except InfeasiblePlanError as exc:
        failure = failure_document(params.plan, c.sha256, exc.problems)
        out["failure.json"] = canonical_json(failure)
        out["notice.csv"] = render_notice_csv([])
        out["notice.md"] = render_notice_md(
            params.to_dict(), c.document, c.sha256, reveal, [], failure, frame.to_dict()
        )
        return out
    selection, assignment = draw_documents(params, result, c.sha256)
    recorded = results_document(params.plan, c.sha256, results)
    rows = notice_rows(frame.to_dict(), params.to_dict(), selection, recorded)
    out["selection.json"] = canonical_json(selection)
    out["assignment.json"] = canonical_json(assignment)
    out["results.json"] = canonical_json(recorded)
    out["notice.csv"] = render_notice_csv(rows)
    out["notice.md"] = render_notice_md(params.to_dict(), c.document, c.sha256, reveal, rows)
    return out


def publish(
    frame: Frame,
    params: DesignParameters,
    directory: Path,
    public_value: str = "07 13 22 28 31 + 05",
    **kw: object,
) -> dict[str, Path]:
    """Write the published files into ``directory``; their paths by name."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, data in published_files(frame, params, public_value, **kw).items():  # type: ignore[arg-type]
        (directory / name).write_bytes(data)
        out[name] = directory / name
    return out


# ----------------------------------------------------------------------------------------------------------
# The test vector: small, but it touches every rule a re-implementation could get wrong.

VECTOR_SECRET = "vector-secret-0123456789abcdef0123456789abcdef"
VECTOR_ANNOUNCEMENT = Announcement.make("中国福利彩票 福彩3D", "2026-02-25", "2026051")
VECTOR_VALUE = "3 8 5"


def vector_plan() -> tuple[Frame, DesignParameters]:
    """Two products (tea with an online segment, crab), three counties each side, history, conflicts, an
    unknown-county target (and one repaired to the national pool), every season kind and a ratio-0 round."""
    none = {"failure": 0, "inconclusive": 0, "complaints": 0}
    products = [
        FrameProduct(
            "vec-tea",
            1,
            "测试龙井",
            "farm_product",
            (Window(3, 1, 3, 31, REGULAR), Window(4, 1, 5, 15, PEAK)),
        ),
        FrameProduct("vec-crab", 2, "测试大闸蟹", "farm_product", (Window(3, 1, 4, 30, REGULAR),)),
    ]
    producers: list[FrameProducer] = []
    tea_counties = ["330101", "330102", "330102", "330103"]
    for k in range(20):
        risk = dict(none)
        risk["failure"] = int(k % 7 == 3)
        risk["complaints"] = 3 if k == 5 else 0
        risk["outside_area"] = int(k == 11)
        inspections: tuple[date, ...] = ()
        previous: tuple[str, ...] = ()
        if k in (2, 9):
            inspections, previous = (date(2026, 2, 10),), ("I33-1", "I33-4")
        if k == 14:
            inspections, previous = (date(2025, 3, 3), date(2025, 9, 1)), ("I33-2", "I33-5")
        producers.append(
            FrameProducer(
                100 + k,
                "vec-tea",
                tea_counties[k % 4],
                "producer" if k % 5 else "market_outlet",
                f"91{tea_counties[k % 4]}MA0000{k:03d}X"[:18],
                f"合成茶企{k:02d}",
                True,
                risk,
                inspections,
                previous,
            )
        )
    for k in range(3):  # the online segment: sellers anywhere, staffed from the whole directory
        producers.append(
            FrameProducer(
                130 + k,
                "vec-tea",
                "330105",
                "market_outlet",
                f"91330105MA0001{k:03d}X"[:18],
                f"合成网店{k}",
                True,
                {**none, "balance_flags": k + 1},  # flagged by the mass balance; 3 kinds is above the cap
                segment="online",
                pool="*",
            )
        )
    producers.append(
        FrameProducer(140, "vec-tea", "000000", "producer", "", "合成无县码甲", True, dict(none))
    )
    producers.append(
        FrameProducer(141, "vec-tea", "000000", "producer", "", "合成无县码乙", True, dict(none), pool="*")
    )
    crab_counties = ["320501", "320502", "320503"]
    for k in range(12):
        risk = dict(none)
        risk["inconclusive"] = int(k == 4)
        producers.append(
            FrameProducer(
                200 + k,
                "vec-crab",
                crab_counties[k % 3],
                "producer",
                f"91{crab_counties[k % 3]}MA0002{k:03d}X"[:18],
                f"合成蟹企{k:02d}",
                True,
                risk,
            )
        )
    inspectors = [
        FrameInspector(f"I33-{j}", c, q, cap)
        for j, (c, q, cap) in enumerate(
            [
                ("330101", ("farm_product",), 3),
                ("330102", ("farm_product", "handicraft"), 3),
                ("330103", ("farm_product",), 2),
                ("330104", ("farm_product",), 3),
                ("330100", ("farm_product",), 4),
                ("330102", ("processed_food",), 5),
                ("330106", ("farm_product",), 2),
            ],
            start=1,
        )
    ] + [
        FrameInspector(f"I32-{j}", c, ("farm_product",), cap)
        for j, (c, cap) in enumerate([("320501", 2), ("320502", 3), ("320503", 2), ("320500", 3)], start=1)
    ]
    frame = Frame(
        "VEC-1",
        "2026-02-20T10:00:00+08:00",
        products,
        producers,
        inspectors,
        conflicts=[("I33-2", 104), ("I32-2", 203)],
    )
    params = DesignParameters(
        "VEC-1",
        date(2026, 3, 1),
        date(2026, 5, 31),
        tuple(split_rounds(date(2026, 3, 1), date(2026, 5, 31), 3)),
        product_ratios={
            "vec-crab": Ratios(peak=2000, regular=1000, off_season=0),
            "vec-tea/online": Ratios(peak=3000, regular=3000, off_season=3000),
        },
        title="测试向量 2026年春季地理标志产品双随机抽查",
    )
    return frame, params


def vector_files() -> dict[str, bytes]:
    """The test vector's published files."""
    frame, params = vector_plan()
    return published_files(
        frame,
        params,
        VECTOR_VALUE,
        [PublishedResult(1, 1, 0, "conforming", "2026-03-20", "感官与标签检查合格")],
        secret=VECTOR_SECRET,
        announcement=VECTOR_ANNOUNCEMENT,
        committed_at="2026-02-20T10:00:00+08:00",
        revealed_at="2026-02-25T21:40:00+08:00",
    )


def main() -> int:
    """Rewrite docs/sampling-vector/ (the first result is attached to round 1's first task)."""
    import json

    from sampling.commit import sha256_hex

    files = vector_files()
    first = json.loads(files["selection.json"])["tasks"][0]
    frame, params = vector_plan()
    files = published_files(
        frame,
        params,
        VECTOR_VALUE,
        [PublishedResult(1, 1, first["producer_id"], "conforming", "2026-03-20", "感官与标签检查合格")],
        secret=VECTOR_SECRET,
        announcement=VECTOR_ANNOUNCEMENT,
        committed_at="2026-02-20T10:00:00+08:00",
        revealed_at="2026-02-25T21:40:00+08:00",
    )
    VECTOR_DIR.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (VECTOR_DIR / name).write_bytes(data)
    print(
        f"wrote {len(files)} files to {VECTOR_DIR}; commitment SHA-256 {sha256_hex(files['commitment.json'])}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
