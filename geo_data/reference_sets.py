"""Read reference sets of authentic samples (origin fingerprints): one CSV per population plus a sidecar JSON.

Format (the bundled synthetic sets in ``references/`` and real sets use the same one):

``<name>.csv`` — lines starting with ``#`` are comments (provenance; a synthetic set says so there); then a
header and one row per authentic sample::

    product_code,sample_id,year,d13C,d15N,Rb,Mg,K,Mn
    xihu-longjing,SYN-XHLJ-0001,2023,-27.61,3.12,41.9,1874,17210,955

``product_code`` is the register code of the GI product (or the code of a comparison area that is not in the
register); every row of a file has the same code. Empty cells are missing values. Optional provenance columns
(``county``, ``synthetic``, ``collected_on``, ``lon``, ``lat``, ``provenance``) describe each row: collected
references (``gi references add``) carry them, so a set may mix synthetic rows with real ones until the real
ones suffice (the fingerprint then leaves the synthetic ones out).

``<name>.json`` — what the columns mean and where the population comes from::

    {"product_code": "xihu-longjing", "area_zh": "西湖龙井 (西湖产区)", "area_en": "...",
     "commodity": "green tea", "synthetic": true,
     "variables": {"d13C": {"unit": "‰", "scale": "VPDB", "transform": "none"},
                   "Rb": {"unit": "mg/kg", "basis": "dry mass", "transform": "log10"}},
     "sources": [{"citation": "...", "doi": "...", "used_for": "..."}]}

``transform`` is applied before any statistics (log10 for concentrations, which are right-skewed).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REFERENCES_DIR: Path = Path(__file__).resolve().parent / "references"
TRANSFORMS = ("none", "log10")
ID_COLUMNS = ("product_code", "sample_id", "year")
# Optional per-row provenance (collected references carry it; the bundled synthetic sets do not):
# county (6-digit code), synthetic (1/0; default: the set's flag), collected_on, lon, lat (WGS84), provenance.
PROVENANCE_COLUMNS = ("county", "synthetic", "collected_on", "lon", "lat", "provenance")


class ReferenceSetError(ValueError):
    """A reference set file that does not follow the format; the message names the file and the problem."""


@dataclass(frozen=True)
class Variable:
    """One measured variable of a reference set."""

    code: str
    unit: str
    transform: str = "none"
    scale: str | None = None
    basis: str | None = None
    name: str | None = None


@dataclass
class ReferenceSet:
    """An authentic population: its area, variables, rows and provenance."""

    name: str
    product_code: str
    area_zh: str
    area_en: str
    commodity: str
    synthetic: bool
    variables: dict[str, Variable]
    sample_ids: list[str]
    years: list[int | None]
    values: dict[str, list[float | None]]
    sources: list[dict[str, Any]] = field(default_factory=list)
    sha256: str = ""
    path: Path | None = None
    counties: list[str | None] = field(default_factory=list)
    row_synthetic: list[bool] = field(default_factory=list)

    def is_synthetic(self, i: int) -> bool:
        """Whether row ``i`` is synthetic (its own column, else the set's flag)."""
        return self.row_synthetic[i] if self.row_synthetic else self.synthetic

    @property
    def authentic(self) -> list[int]:
        """Indices of the real (not synthetic) rows."""
        return [i for i in range(self.size) if not self.is_synthetic(i)]

    @property
    def size(self) -> int:
        """Number of authentic samples."""
        return len(self.sample_ids)

    def complete_rows(self, codes: list[str]) -> list[list[float]]:
        """Rows with a value for every variable in ``codes`` (raw, untransformed)."""
        rows = []
        for i in range(self.size):
            row = [self.values[c][i] for c in codes]
            if all(v is not None for v in row):
                rows.append([float(v) for v in row])  # type: ignore[arg-type]
        return rows


def _number(text: str, where: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise ReferenceSetError(f"{where}: {text!r} is not a number") from exc
    if not math.isfinite(value):
        raise ReferenceSetError(f"{where}: {text!r} is not a finite number")
    return value


def read_reference_set(csv_path: str | Path) -> ReferenceSet:
    """Read one reference set (the CSV and its sidecar JSON beside it)."""
    csv_path = Path(csv_path)
    meta_path = csv_path.with_suffix(".json")
    if not meta_path.exists():
        raise ReferenceSetError(f"{csv_path.name}: no sidecar {meta_path.name} describing units and sources")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReferenceSetError(f"{meta_path.name}: not valid JSON ({exc})") from exc
    raw = csv_path.read_bytes()
    lines = [
        ln for ln in raw.decode("utf-8-sig").splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    reader = csv.reader(lines)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise ReferenceSetError(f"{csv_path.name}: no header") from exc
    for column in ("product_code", "sample_id"):
        if column not in header:
            raise ReferenceSetError(f"{csv_path.name}: missing column {column!r}")
    declared = meta.get("variables") or {}
    var_columns = [h for h in header if h not in ID_COLUMNS and h not in PROVENANCE_COLUMNS]
    undeclared = [c for c in var_columns if c not in declared]
    if undeclared:
        raise ReferenceSetError(
            f"{csv_path.name}: column(s) {', '.join(undeclared)} not described in "
            f"{meta_path.name} (unit, transform)"
        )
    variables: dict[str, Variable] = {}
    for code in var_columns:
        spec = declared[code]
        transform = spec.get("transform", "none")
        if transform not in TRANSFORMS:
            raise ReferenceSetError(
                f"{meta_path.name}: variable {code}: transform {transform!r} is not one of "
                f"{', '.join(TRANSFORMS)}"
            )
        if not spec.get("unit"):
            raise ReferenceSetError(f"{meta_path.name}: variable {code}: no unit")
        variables[code] = Variable(
            code, spec["unit"], transform, spec.get("scale"), spec.get("basis"), spec.get("name")
        )
    product_code = str(meta.get("product_code") or "")
    ids: list[str] = []
    years: list[int | None] = []
    counties: list[str | None] = []
    row_synthetic: list[bool] = []
    values: dict[str, list[float | None]] = {c: [] for c in var_columns}
    index = {h: i for i, h in enumerate(header)}
    for line_no, record in enumerate(reader, start=2):
        where = f"{csv_path.name} data row {line_no}"
        if len(record) != len(header):
            raise ReferenceSetError(f"{where}: {len(record)} cells for {len(header)} columns")
        code = record[index["product_code"]].strip()
        if product_code and code != product_code:
            raise ReferenceSetError(f"{where}: product_code {code!r} differs from {product_code!r}")
        product_code = product_code or code
        ids.append(record[index["sample_id"]].strip())
        year = record[index["year"]].strip() if "year" in index else ""
        years.append(int(year) if year else None)
        county = record[index["county"]].strip() if "county" in index else ""
        if county and not (len(county) == 6 and county.isdigit()):
            raise ReferenceSetError(
                f"{where}, county: {county!r} is not a 6-digit administrative division code"
            )
        counties.append(county or None)
        flag = record[index["synthetic"]].strip().lower() if "synthetic" in index else ""
        if flag not in ("", "0", "1", "true", "false"):
            raise ReferenceSetError(f"{where}, synthetic: {flag!r} is not 1 or 0")
        row_synthetic.append(flag in ("1", "true") if flag else bool(meta.get("synthetic", False)))
        for c in var_columns:
            value = _number(record[index[c]], f"{where}, {c}")
            if value is not None and variables[c].transform == "log10" and value <= 0:
                raise ReferenceSetError(f"{where}, {c}: {value} cannot be log-transformed (must be > 0)")
            values[c].append(value)
    if not ids:
        raise ReferenceSetError(f"{csv_path.name}: no rows")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ReferenceSetError(f"{csv_path.name}: sample_id repeated: {', '.join(duplicates[:5])}")
    return ReferenceSet(
        name=csv_path.stem,
        product_code=product_code,
        area_zh=str(meta.get("area_zh") or product_code),
        area_en=str(meta.get("area_en") or product_code),
        commodity=str(meta.get("commodity") or ""),
        synthetic=bool(meta.get("synthetic", False)),
        variables=variables,
        sample_ids=ids,
        years=years,
        values=values,
        sources=list(meta.get("sources") or []),
        sha256=hashlib.sha256(raw + meta_path.read_bytes()).hexdigest(),
        path=csv_path,
        counties=counties,
        row_synthetic=row_synthetic,
    )


def read_reference_sets(directory: str | Path | None = None) -> list[ReferenceSet]:
    """Every reference set in ``directory`` (default: the bundled ``references/``), sorted by name."""
    directory = Path(directory) if directory else REFERENCES_DIR
    return [read_reference_set(p) for p in sorted(directory.glob("*.csv"))]
