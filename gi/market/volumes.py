"""Volume seen on the market: what outlet inspections recorded an outlet sold or held of a GI product in a
season (purchase invoices, sales ledgers, stock), in the product's balance unit. Upserted by (product, record
number); all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gi.market.marks import dated_quantity
from gi.market.records import RecordSpec, import_records
from gi.market.rows import COMMON_ALIASES, Cells, ImportReport
from gi.models import GIProduct, MarketVolume

VOLUME_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "reference": ("reference", "record_number", "检查记录编号", "记录编号", "文书编号"),
    "observed_on": ("observed_on", "date", "检查日期", "记录日期"),
    "quantity": ("quantity", "volume", "销量", "经营数量", "数量"),
}


def _volume_values(cells: Cells, product: GIProduct | None) -> dict[str, Any]:
    """The values of one volume row (a quantity of zero is a finding too: nothing sold or held)."""
    return dated_quantity(cells, product, "observed_on", positive=False)


VOLUMES = RecordSpec(
    what="volume",
    model=MarketVolume,
    aliases=VOLUME_ALIASES,
    required=("reference", "observed_on", "quantity", "unit"),
    parse=_volume_values,
    key=("reference",),
    key_label="product and record number",
    holder_kind="market_outlet",
    holder_column="outlet_id",
)


def import_volumes(session: Session, path: str | Path, sheet: str | None = None) -> ImportReport:
    """Import outlets' volumes from outlet inspections; the outlet must be in the outlets' directory."""
    return import_records(session, VOLUMES, path, sheet)
