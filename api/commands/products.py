"""`gi products`: list, show and add GI products."""

from __future__ import annotations

import typer

from api.console import console, table
from api.options import parse_day
from gi.db import session_scope
from gi.models import CATEGORY_ZH, GI_KIND_ZH, GIKind, ProductCategory, QualitySpec
from gi.register.areas import find_product
from gi.register.products import ProductInput, add_product, register_summary, short_standard, validate_input

app = typer.Typer(help="GI products of the register.", no_args_is_help=True)


@app.command("list")
def list_products() -> None:
    """List the products with category, standard, area versions, km² and counties."""
    with session_scope() as session:
        rows = register_summary(session)
    if not rows:
        console.print("no products yet: load the bundled register with `gi register load` (or run `gi demo`)")
        return
    console.print(
        table(
            "GI products (地理标志产品)",
            ["code", "产品", "name", "类别", "standard", "versions", "km²", "counties", "indicators"],
            [
                [
                    r.code,
                    r.name_zh,
                    r.name_en,
                    r.category_zh,
                    short_standard(r.standard),
                    r.area_versions,
                    r.area_km2,
                    r.counties,
                    r.indicators,
                ]
                for r in rows
            ],
        )
    )


@app.command("show")
def show(product: str = typer.Argument(..., help="Code, Chinese name or English name.")) -> None:
    """Show one product: registration, area versions, quality limits and market seasons."""
    with session_scope() as session:
        p = find_product(session, product)
        console.print(f"[bold]{p.name_zh}[/] ({p.name_pinyin}, {p.name_en})  code {p.code}")
        console.print(
            f"{GI_KIND_ZH[p.gi_kind]} / {CATEGORY_ZH[p.category]};  {p.registration_number or ''} "
            f"{p.registration_date or ''};  standard {p.standard or '-'};  office {p.administering_office or '-'}"
        )
        console.print(
            table(
                "area versions (保护范围)",
                ["v", "valid from", "valid to", "km²", "units", "legal basis"],
                [
                    [
                        a.version,
                        f"{a.valid_from:%Y-%m-%d}",
                        f"{a.valid_to:%Y-%m-%d}" if a.valid_to else "current",
                        float(a.area_km2),
                        ", ".join(u.get("name") or u.get("code", "") for u in a.admin_units),
                        a.legal_basis[:60],
                    ]
                    for a in p.areas
                ],
            )
        )
        console.print(
            table(
                "quality limits (质量指标)",
                ["code", "指标", "grade", "limit", "unit", "source", "clause"],
                [
                    [
                        q.indicator_code,
                        q.name_zh,
                        q.grade or "all",
                        _limit_text(q),
                        q.unit,
                        q.source_standard,
                        q.clause,
                    ]
                    for q in sorted(p.quality_specs, key=lambda q: (q.indicator_code, q.grade or ""))
                ],
            )
        )
        console.print(
            table(
                "market seasons (上市季节)",
                ["name", "from", "to", "kind"],
                [
                    [
                        s.name,
                        f"{s.start_month:02d}-{s.start_day:02d}",
                        f"{s.end_month:02d}-{s.end_day:02d}",
                        s.kind.value,
                    ]
                    for s in p.seasons
                ],
            )
        )


def _limit_text(spec: QualitySpec) -> str:
    parts = []
    if spec.lower_limit is not None:
        parts.append(f"{'≥' if spec.lower_inclusive else '>'} {spec.lower_limit.normalize():f}")
    if spec.upper_limit is not None:
        parts.append(f"{'≤' if spec.upper_inclusive else '<'} {spec.upper_limit.normalize():f}")
    return ", ".join(parts)


@app.command("add")
def add(
    code: str = typer.Option(..., help="ASCII slug, e.g. chengcun-oyster."),
    name_zh: str = typer.Option(..., "--name-zh", help="Chinese name, e.g. 程村蚝."),
    name_pinyin: str = typer.Option(..., "--pinyin", help="Pinyin, e.g. Chéngcūn Háo."),
    name_en: str = typer.Option(..., "--name-en", help="English name."),
    gi_kind: GIKind = typer.Option(GIKind.PROTECTED_PRODUCT, "--kind", help="Legal form of protection."),
    category: ProductCategory = typer.Option(..., help="Supervision category."),
    registration_number: str = typer.Option(
        None,
        "--registration-number",
        help="Registration or announcement number, e.g. 国家质检总局公告2011年第42号.",
    ),
    registration_date: str = typer.Option(
        None, "--registration-date", metavar="DATE", help="Day of registration, YYYY-MM-DD."
    ),
    administering_office: str = typer.Option(
        None, "--office", help="Office that supervises the product, e.g. 杭州市市场监督管理局."
    ),
    standard: str = typer.Option(None, help="Standard or specification, e.g. GB/T 18650-2008."),
) -> None:
    """Add a GI product (import its area afterwards with `gi areas import`)."""
    data = validate_input(
        ProductInput,
        {
            "code": code,
            "name_zh": name_zh,
            "name_pinyin": name_pinyin,
            "name_en": name_en,
            "gi_kind": gi_kind,
            "category": category,
            "registration_number": registration_number,
            "registration_date": parse_day(registration_date, "--registration-date"),
            "administering_office": administering_office,
            "standard": standard,
        },
    )
    with session_scope() as session:
        product = add_product(session, data)  # type: ignore[arg-type]
        console.print(f"added {product.code} ({product.name_zh})")
