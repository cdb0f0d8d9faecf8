"""Field collection: sample seal codes issued before the field trip, and ODK submissions with their attachments."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gi.models.base import Base
from gi.models.plans import PlanTask
from gi.models.samples import Sample, sample_link


class SealCode(Base):
    """A sample seal code (封样编号) printed on a label for one unit of one task, used by at most one sample."""

    __tablename__ = "seal_code"
    __table_args__ = (
        UniqueConstraint("task_id", "unit_number", name="uq_seal_code_task_unit"),
        CheckConstraint("unit_number >= 1", name="unit_positive"),
        CheckConstraint("(sample_id IS NULL) = (used_at IS NULL)", name="used_with_sample"),
    )

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_task.id", ondelete="RESTRICT"), index=True)
    unit_number: Mapped[int] = mapped_column(SmallInteger, comment="unit n of the task's units to take")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sample_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sample_identity.id", ondelete="RESTRICT"),
        index=True,
        comment="the sample that used the code",
    )
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    task: Mapped[PlanTask] = relationship()
    sample: Mapped[Sample | None] = sample_link("SealCode")


class OdkSubmission(Base):
    """An ODK (OpenRosa) submission as received: the exact XML, who sent it, and the sample it became."""

    __tablename__ = "odk_submission"

    instance_id: Mapped[str] = mapped_column(String(100), primary_key=True, comment="meta/instanceID")
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[str] = mapped_column(String(32))
    xml: Mapped[bytes] = mapped_column(LargeBinary, comment="the submission XML, byte for byte")
    xml_sha256: Mapped[str] = mapped_column(String(64))
    sample_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sample_identity.id", ondelete="RESTRICT"), index=True
    )
    submitted_by: Mapped[str] = mapped_column(String(100), comment="user name of the authenticated sender")
    device_id: Mapped[str | None] = mapped_column(String(200))
    user_agent: Mapped[str | None] = mapped_column(Text)
    subject_kind: Mapped[str | None] = mapped_column(String(20), comment="producer | outlet")
    subject_name: Mapped[str | None] = mapped_column(String(200), comment="producer or outlet as recorded")
    subject_credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(Text)
    expected_attachments: Mapped[list[str]] = mapped_column(ARRAY(String(255)), default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    sample: Mapped[Sample] = sample_link("OdkSubmission")
    attachments: Mapped[list[OdkAttachment]] = relationship(
        back_populates="submission", order_by="OdkAttachment.name", cascade="all, delete-orphan"
    )


class OdkAttachment(Base):
    """A file a submission names (a photo), received in one POST or a later one; its bytes are in the media store."""

    __tablename__ = "odk_attachment"

    instance_id: Mapped[str] = mapped_column(
        ForeignKey("odk_submission.instance_id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    submission: Mapped[OdkSubmission] = relationship(back_populates="attachments")
