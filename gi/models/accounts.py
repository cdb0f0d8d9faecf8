"""Users of the service, their access tokens (stored as hashes), failed logins, and upload jobs."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, CheckConstraint, DateTime, Enum, ForeignKey, Integer, String, Text, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gi.models.base import Base, CreatedAt
from gi.models.register import Inspector


class Role(enum.StrEnum):
    """What a signed-in user may do; the anonymous public has no user and no role."""

    INSPECTOR = "inspector"  # uploads samples as himself, sees his own samples and tasks
    SUPERVISOR = "supervisor"  # plans, results, maps and reports of his region
    ADMIN = "admin"  # everything, everywhere


ROLE_ZH: dict[Role, str] = {Role.INSPECTOR: "检查员", Role.SUPERVISOR: "监管人员", Role.ADMIN: "管理员"}


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_cls]


class User(CreatedAt, Base):
    """A person who signs in to the service; an inspector's account names his directory entry."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("username = lower(username)", name="username_lower"),
        CheckConstraint("role <> 'inspector' OR inspector_id IS NOT NULL", name="inspector_has_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", values_callable=_values))
    # Region of a supervisor: adcode prefixes (2 digits = province, 4 = prefecture, 6 = county).
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(6)), default=list)
    inspector_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspector.id", ondelete="RESTRICT"), unique=True
    )
    password_hash: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    inspector: Mapped[Inspector | None] = relationship()


class AuthToken(Base):
    """An access token: only its SHA-256 is stored, so a copy of the table signs no one in."""

    __tablename__ = "auth_token"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    client: Mapped[str | None] = mapped_column(String(64), comment="address the token was issued to")


class LoginFailure(Base):
    """One failed login, counted per user name and per client to pause guessing."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)


class JobStatus(enum.StrEnum):
    """Where an upload job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class UploadJob(CreatedAt, Base):
    """A batch upload (a sample file) processed in the background; progress is readable while it runs."""

    __tablename__ = "upload_job"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20), comment="samples | lab_results")
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, name="job_status", values_callable=_values), default=JobStatus.QUEUED
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64))
    total: Mapped[int | None] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    already_stored: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str | None] = mapped_column(String(100), comment="host:pid of the process running it")
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
