"""Lab results: supervisors upload them as JSON rows or as the laboratory's CSV/xlsx file; each sample that
received results is judged against its product's specification, and the quality verdicts are returned."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, Field

from api.deps import SessionDep, SettingsDep
from api.uploads import saved_upload
from geo_data.lab_files import LabRow
from gi.models import Sample
from gi.quality.judge import check_sample_quality
from gi.quality.lab import ImportReport, add_results, import_results

router = APIRouter(tags=["lab results"])


class LabResultIn(BaseModel):
    """One measured value of one indicator of one sample, as the laboratory reports it."""

    sample: str = Field(min_length=1, max_length=64, description="sample UUID (or its unique prefix)")
    indicator: str = Field(min_length=1, max_length=64)
    value: Decimal = Field(allow_inf_nan=False)
    censored: str | None = Field(
        default=None, pattern="^(<|>)$", description="'<' below the limit, '>' above"
    )
    unit: str = Field(min_length=1, max_length=40)
    uncertainty: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    coverage_factor: Decimal | None = Field(default=None, gt=0, allow_inf_nan=False)
    method: str | None = Field(default=None, max_length=200)
    laboratory: str = Field(min_length=1, max_length=200)
    tested_on: date
    grade: str | None = Field(default=None, max_length=40, description="declared grade of the sample")


class LabResultsIn(BaseModel):
    """Rows of lab results (all stored, or none when one is wrong)."""

    results: list[LabResultIn] = Field(min_length=1, max_length=5000)


class QualityOut(BaseModel):
    """The quality verdict of one sample."""

    sample_id: uuid.UUID
    outcome: str
    declared_grade: str | None
    missing_mandatory: list[str]


class LabImportOut(BaseModel):
    """What was stored and how each sample was judged."""

    source: str
    results_stored: int
    verdicts: list[QualityOut]


def _judged(session: SessionDep, report: ImportReport) -> LabImportOut:
    verdicts = []
    for sample_id in report.sample_ids:
        sample = session.get(Sample, sample_id)
        assert sample is not None  # add_results stored results of it
        v = check_sample_quality(session, sample)
        verdicts.append(
            QualityOut(
                sample_id=sample_id,
                outcome=v.outcome.value,
                declared_grade=v.declared_grade,
                missing_mandatory=list(v.missing_mandatory or []),
            )
        )
    session.commit()
    return LabImportOut(source=report.source, results_stored=len(report.results), verdicts=verdicts)


@router.post(
    "/lab-results", summary="Upload lab results as JSON rows", status_code=201, response_model=LabImportOut
)
def upload_results(body: LabResultsIn, session: SessionDep) -> LabImportOut:
    """Store every row (or none, naming each problem) and judge the samples that received results."""
    rows = [LabRow(row=n, **r.model_dump()) for n, r in enumerate(body.results, start=1)]
    return _judged(session, add_results(session, rows, "api"))


@router.post(
    "/lab-results/file",
    summary="Upload the laboratory's results file (CSV or xlsx)",
    status_code=201,
    response_model=LabImportOut,
)
def upload_results_file(
    file: Annotated[UploadFile, File(description="CSV or .xlsx with the documented columns")],
    session: SessionDep,
    settings: SettingsDep,
) -> LabImportOut:
    """Read the file, store every row (or none, naming each problem) and judge the samples."""
    with saved_upload(file, settings, default="results.csv") as path:
        report = import_results(session, path)
    return _judged(session, report)
