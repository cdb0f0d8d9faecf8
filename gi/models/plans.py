"""Inspection plans (双随机、一公开): a plan over a period split into rounds, its published commitment, the tasks
drawn (target producer + random inspectors + lot sample size), declared conflicts of interest and complaints.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gi.models.base import Base, CreatedAt
from gi.models.register import GIProduct, Inspector, Producer, _values
from gi.models.samples import Sample


class PlanStatus(enum.StrEnum):
    """Life of a plan: committed (frame and parameters frozen and published), then drawn, or failed (the draw
    could not be staffed: final, published, re-drawn only by a new plan whose commitment names this one), or
    cancelled."""

    COMMITTED = "committed"
    DRAWN = "drawn"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskStatus(enum.StrEnum):
    """Life of one inspection task."""

    PLANNED = "planned"
    SAMPLED = "sampled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskResult(enum.StrEnum):
    """Published outcome of an inspection task (completes the public notice)."""

    CONFORMING = "conforming"  # 合格
    NONCONFORMING = "nonconforming"  # 不合格
    INCONCLUSIVE = "inconclusive"  # 待定/无法判定
    NOT_FOUND = "not_found"  # 检查对象不存在或停产


TASK_RESULT_ZH = {
    TaskResult.CONFORMING: "合格",
    TaskResult.NONCONFORMING: "不合格",
    TaskResult.INCONCLUSIVE: "无法判定",
    TaskResult.NOT_FOUND: "未发现经营",
}


class Plan(CreatedAt, Base):
    """A seasonal inspection plan over a period; its frame and parameters are frozen by its commitment."""

    __tablename__ = "plan"
    __table_args__ = (CheckConstraint("period_to >= period_from", name="period_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    status: Mapped[PlanStatus] = mapped_column(
        Enum(PlanStatus, name="plan_status", values_callable=_values), default=PlanStatus.COMMITTED
    )
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    notes: Mapped[str | None] = mapped_column(Text)
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan.id", ondelete="RESTRICT"),
        unique=True,
        comment="the failed plan this plan re-draws (at most one re-draw per failed plan)",
    )

    rounds: Mapped[list[PlanRound]] = relationship(
        back_populates="plan", order_by="PlanRound.number", cascade="all, delete-orphan"
    )
    commitment: Mapped[Commitment | None] = relationship(back_populates="plan", cascade="all, delete-orphan")
    supersedes: Mapped[Plan | None] = relationship(remote_side=[id], foreign_keys=[supersedes_id])
    tasks: Mapped[list[PlanTask]] = relationship(
        back_populates="plan",
        order_by=lambda: [PlanTask.round_number, PlanTask.draw_order],
        cascade="all, delete-orphan",
    )


class PlanRound(Base):
    """One round of a plan: a date window in which its tasks are due."""

    __tablename__ = "plan_round"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint("ends_on >= starts_on", name="window_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(SmallInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    plan: Mapped[Plan] = relationship(back_populates="rounds")


class Commitment(Base):
    """The published commitment of a plan (hashes of frame, parameters and secret, the announced public value)
    and, after the draw, the reveal. Once a public value is recorded, nothing here changes (a database trigger
    refuses it): a draw, failed or not, is final.

    ``secret`` is kept here unpublished until the draw; ``frame_json``, ``parameters_json`` and, after the
    draw, ``selection_json`` and ``assignment_json`` are the exact published bytes (UTF-8), so the published
    files can always be re-exported bit for bit even if tasks are later changed in operation.
    """

    __tablename__ = "plan_commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), unique=True)
    scheme: Mapped[str] = mapped_column(String(40))
    frame_sha256: Mapped[str] = mapped_column(String(64))
    parameters_sha256: Mapped[str] = mapped_column(String(64))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    commitment_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    commitment_json: Mapped[str] = mapped_column(Text)
    frame_json: Mapped[str] = mapped_column(Text)
    parameters_json: Mapped[str] = mapped_column(Text)
    committed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    secret: Mapped[str] = mapped_column(
        String(128), comment="secret seed part; published only after the draw"
    )
    public_value: Mapped[str | None] = mapped_column(Text)
    public_value_source: Mapped[str | None] = mapped_column(Text)
    seed_sha256: Mapped[str | None] = mapped_column(String(64))
    revealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    selection_json: Mapped[str | None] = mapped_column(Text, comment="published selection, exact bytes")
    assignment_json: Mapped[str | None] = mapped_column(Text, comment="published assignment, exact bytes")
    reveal_json: Mapped[str | None] = mapped_column(Text, comment="published reveal, exact bytes")
    failure_json: Mapped[str | None] = mapped_column(
        Text, comment="published failure of the draw, exact bytes"
    )

    plan: Mapped[Plan] = relationship(back_populates="commitment")


class PlanTask(CreatedAt, Base):
    """One drawn inspection: a target producer in a round, its random inspectors and the lot sample size."""

    __tablename__ = "plan_task"
    __table_args__ = (
        UniqueConstraint("plan_id", "round_number", "producer_id", name="uq_plan_task_round_producer"),
        CheckConstraint("due_to >= due_from", name="due_order"),
        CheckConstraint("inclusion_probability > 0 AND inclusion_probability <= 1", name="probability_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("plan_round.id", ondelete="CASCADE"), index=True)
    round_number: Mapped[int] = mapped_column(SmallInteger)
    draw_order: Mapped[int] = mapped_column(Integer, comment="position in the round's assignment order")
    product_id: Mapped[int] = mapped_column(ForeignKey("gi_product.id", ondelete="RESTRICT"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id", ondelete="RESTRICT"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    due_from: Mapped[date] = mapped_column(Date)
    due_to: Mapped[date] = mapped_column(Date)
    season_kind: Mapped[str] = mapped_column(String(12), comment="peak | regular | off_season")
    inclusion_probability: Mapped[float] = mapped_column(Float)
    risk_weight: Mapped[int] = mapped_column(Integer)
    risk_factors: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    inspection_level: Mapped[str] = mapped_column(String(3), comment="ISO 2859-1 general inspection level")
    lot_size: Mapped[int] = mapped_column(Integer, comment="lot size N the sample size was computed for")
    code_letter: Mapped[str] = mapped_column(String(1))
    units_to_take: Mapped[int] = mapped_column(Integer)
    status: Mapped[TaskStatus] = mapped_column(
        Enum(TaskStatus, name="task_status", values_callable=_values), default=TaskStatus.PLANNED
    )
    result: Mapped[TaskResult | None] = mapped_column(
        Enum(TaskResult, name="task_result", values_callable=_values)
    )
    result_note: Mapped[str | None] = mapped_column(Text)
    result_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    round: Mapped[PlanRound] = relationship()
    product: Mapped[GIProduct] = relationship()
    producer: Mapped[Producer] = relationship()
    assignments: Mapped[list[TaskInspector]] = relationship(
        back_populates="task", order_by="TaskInspector.position", cascade="all, delete-orphan"
    )

    @property
    def inspectors(self) -> list[Inspector]:
        """The assigned inspectors, lead inspector first."""
        return [a.inspector for a in self.assignments]


class TaskInspector(Base):
    """Association of a task and one of its randomly drawn inspectors (position 1 = lead)."""

    __tablename__ = "plan_task_inspector"

    task_id: Mapped[int] = mapped_column(ForeignKey("plan_task.id", ondelete="CASCADE"), primary_key=True)
    inspector_id: Mapped[int] = mapped_column(
        ForeignKey("inspector.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)

    task: Mapped[PlanTask] = relationship(back_populates="assignments")
    inspector: Mapped[Inspector] = relationship()


class InspectorConflict(CreatedAt, Base):
    """A declared conflict of interest (回避事由) between an inspector and a producer."""

    __tablename__ = "inspector_conflict"
    __table_args__ = (UniqueConstraint("inspector_id", "producer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id", ondelete="CASCADE"), index=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    declared_on: Mapped[date] = mapped_column(Date)

    inspector: Mapped[Inspector] = relationship()
    producer: Mapped[Producer] = relationship()


class ProducerComplaint(CreatedAt, Base):
    """A complaint or tip-off (投诉举报) about a producer: a risk factor of the draw."""

    __tablename__ = "producer_complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id", ondelete="CASCADE"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)


# sample.task_id is declared in gi.models.samples without a foreign key (that table comes first); the key to
# plan_task is added here, where plan_task exists, so that metadata and migration 0003 agree.
Sample.__table__.append_constraint(  # type: ignore[attr-defined]
    ForeignKeyConstraint(
        ["task_id"], ["plan_task.id"], ondelete="SET NULL", name="fk_sample_task_id_plan_task"
    )
)
