"""Office files through the service: the directories of 双随机 (producers, outlets, inspectors), authorizations to
use the GI special mark and the marks issued, holders' capacity, outlets' volumes and online listings.

Each kind is the file the matching `gi ... import` command reads (CSV or .xlsx, English or Chinese headers) and
goes to the same domain function: all rows are stored or none, and a refused file is answered 422 with every
problem of every row (``errors``, each naming its row and column) as RFC 9457 problem details.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile
from pydantic import BaseModel, Field

from api.deps import SessionDep, SettingsDep
from api.problems import jsonable
from api.uploads import saved_upload
from gi.market.rows import ImportReport

router = APIRouter(tags=["office files"])


class ImportKind(StrEnum):
    """A kind of office file, named as the command that imports it."""

    PRODUCERS = "producers"
    OUTLETS = "outlets"
    INSPECTORS = "inspectors"
    AUTHORIZATIONS = "authorizations"
    ISSUANCE = "issuance"
    CAPACITY = "capacity"
    VOLUMES = "volumes"
    LISTINGS = "listings"


def _importer(kind: ImportKind) -> Callable[..., ImportReport]:
    """The domain function the CLI calls for ``kind`` (`gi producers import`, `gi marks issuance import`, ...)."""
    from gi.market import capacity, directories, listings, marks, volumes

    return {
        ImportKind.PRODUCERS: directories.import_producers,
        ImportKind.OUTLETS: directories.import_outlets,
        ImportKind.INSPECTORS: directories.import_inspectors,
        ImportKind.AUTHORIZATIONS: marks.import_authorizations,
        ImportKind.ISSUANCE: marks.import_issuance,
        ImportKind.CAPACITY: capacity.import_capacity,
        ImportKind.VOLUMES: volumes.import_volumes,
        ImportKind.LISTINGS: listings.import_listings,
    }[kind]


class ChangeOut(BaseModel):
    """One record the file created or updated; for an update, each changed field as stored and as imported."""

    record: str
    created: bool
    fields: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ImportOut(BaseModel):
    """What an import stored (committed before this answer)."""

    source: str
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    changes: list[ChangeOut]
    notes: list[str]
    details: dict[str, Any]


@router.post(
    "/imports/{kind}",
    summary="Import an office file (directories, mark authorizations and issuance, capacity, volumes, listings)",
    response_model=ImportOut,
)
def import_file(
    kind: Annotated[ImportKind, Path(description="the file's kind, as its `gi ... import` command names it")],
    file: Annotated[UploadFile, File(description="CSV or .xlsx with English or Chinese headers")],
    session: SessionDep,
    settings: SettingsDep,
    sheet: Annotated[
        str | None, Form(max_length=100, description="sheet of a workbook (default: first)")
    ] = None,
) -> ImportOut:
    """Store every row of the file (upserted, changes reported) or none, naming each row's problem."""
    with saved_upload(file, settings, default=f"{kind.value}.csv") as path:
        report = _importer(kind)(session, path, sheet)
    session.commit()
    return ImportOut(
        source=report.source,
        kind=kind.value,
        rows=report.rows,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        changes=[
            ChangeOut(
                record=c.key,
                created=c.created,
                fields={
                    n: {"stored": jsonable(a), "imported": jsonable(b)} for n, (a, b) in c.fields.items()
                },
            )
            for c in report.changes
        ],
        notes=report.notes,
        details=jsonable(report.details),
    )
