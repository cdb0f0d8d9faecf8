"""The sample form (地理标志产品抽样记录): an XLSForm kept as a readable source, built into an XForm by pyxform.

The source is ``forms/gi_sample.md`` (pyxform's Markdown notation of the XLSForm's sheets). :func:`sample_form`
builds the XForm the service serves (once per process); :func:`write_form_files` writes the spreadsheet
(``.xlsx``, the same sheets) and the XForm for people who edit forms in a spreadsheet or load them into ODK Central.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

from gi.errors import InputError

FORMS_DIR = Path(__file__).resolve().parent / "forms"
SAMPLE_FORM_SOURCE = FORMS_DIR / "gi_sample.md"
SAMPLE_FORM_XLSX = FORMS_DIR / "gi_sample.xlsx"

# The media files the sample form reads (select_one_from_file); the service writes them per inspector.
TASKS_CSV = "tasks.csv"
PRODUCTS_CSV = "products.csv"
TASKS_COLUMNS = ("name", "label", "product", "producer", "credit_code", "lot_size", "units")
PRODUCTS_COLUMNS = ("name", "label")

_XF = "{http://www.w3.org/2002/xforms}"


@dataclass(frozen=True)
class BuiltForm:
    """An XForm built from an XLSForm: its id, version, title, media files and the XML bytes with their MD5."""

    form_id: str
    version: str
    title: str
    xml: bytes
    media: tuple[str, ...]

    @property
    def md5(self) -> str:
        """MD5 of the XForm bytes, as OpenRosa's formList ``hash`` (``md5:`` prefix added by the face)."""
        return hashlib.md5(self.xml).hexdigest()


def build_form(source: Path) -> BuiltForm:
    """Convert an XLSForm (``.md``, ``.xlsx`` or ``.csv``) into an XForm with pyxform; refuse warnings."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    try:
        result = convert(str(source), warnings=warnings, pretty_print=True)
    except PyXFormError as exc:
        raise InputError("form", f"{source.name}: {exc}") from exc
    if warnings:
        # A warning is a form that ODK may read otherwise than intended: the build stops, as for an error.
        raise InputError("form", f"{source.name}: {'; '.join(warnings)}")
    xml = result.xform.encode("utf-8")
    root = ElementTree.fromstring(xml)
    data = root.find(f".//{_XF}model/{_XF}instance/*")
    title = root.find(".//{http://www.w3.org/1999/xhtml}title")
    if data is None or not data.get("id") or not data.get("version"):
        raise InputError("form", f"{source.name}: the settings sheet needs form_id and version")
    media = tuple(
        src.removeprefix("jr://file-csv/").removeprefix("jr://file/")
        for inst in root.iter(f"{_XF}instance")
        if (src := inst.get("src"))
    )
    return BuiltForm(
        form_id=str(data.get("id")),
        version=str(data.get("version")),
        title=(title.text or "") if title is not None else "",
        xml=xml,
        media=media,
    )


@lru_cache(maxsize=1)
def sample_form() -> BuiltForm:
    """The project's sample form, built once per process from its source."""
    return build_form(SAMPLE_FORM_SOURCE)


def xlsform_sheets(source: Path = SAMPLE_FORM_SOURCE) -> dict[str, list[tuple[str, ...]]]:
    """The sheets of a Markdown XLSForm as rows of cells (header row first), as pyxform reads them."""
    from pyxform.xls2json_backends import _md_table_to_ss_structure

    return _md_table_to_ss_structure(source.read_text(encoding="utf-8"))


def write_form_files(out_dir: Path, source: Path = SAMPLE_FORM_SOURCE) -> tuple[Path, Path]:
    """Write the XLSForm as ``.xlsx`` and its XForm as ``.xml`` into ``out_dir`` (each atomically)."""
    from openpyxl import Workbook

    built = build_form(source)  # a source that does not build writes nothing
    out_dir.mkdir(parents=True, exist_ok=True)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in xlsform_sheets(source).items():
        sheet = workbook.create_sheet(title=name)
        for row in rows:
            sheet.append(list(row))
    xlsx = out_dir / f"{source.stem}.xlsx"
    xml = out_dir / f"{source.stem}.xml"
    _atomic(xlsx, workbook.save)
    _atomic(xml, lambda path: Path(path).write_bytes(built.xml))
    return xlsx, xml


def _atomic(target: Path, write: object) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a form is meant to be read
        write(tmp)  # type: ignore[operator]
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
