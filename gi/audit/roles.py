"""The application role: what a deployment that separates the schema's owner from the application grants it.

The owner (who runs the migrations) owns every table, trigger and audit function. The application role gets
SELECT everywhere, INSERT on the application's tables, UPDATE and DELETE only where rows may change (not on
verdicts), and nothing on the log's own tables: the log is written by the owner's SECURITY DEFINER trigger
functions. So the application can neither alter a verdict, nor disable a trigger (only an owner can), nor write,
forge or truncate log entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from gi.errors import InputError, NotFoundError

# Tables the application only reads (PostGIS's reference table, Alembic's revision).
READ_ONLY = frozenset({"spatial_ref_sys", "alembic_version"})


@dataclass(frozen=True)
class Grants:
    """What :func:`grant_application_role` granted."""

    role: str
    insert_only: list[str]
    writable: list[str]
    read_only: list[str]


def grant_application_role(session: Session, role: str) -> Grants:
    """Grant ``role`` (an existing role) exactly what the application needs; run as the schema's owner."""
    if not role or not role.replace("_", "").isalnum():
        raise InputError("role", f"{role!r} is not a plain role name (letters, digits, underscores)")
    if session.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
        raise NotFoundError(f"role {role!r} does not exist; create it first (CREATE ROLE {role} LOGIN ...)")
    q = session.get_bind().dialect.identifier_preparer.quote
    frozen = set(session.execute(text("SELECT table_name FROM audit_table WHERE append_only")).scalars())
    tables = list(
        session.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
        ).scalars()
    )
    schema = q(session.execute(text("SELECT current_schema()")).scalar_one())
    insert_only, writable, read_only = [], [], []
    session.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {q(role)}"))
    for table in tables:
        privileges = ["SELECT"]
        if table in READ_ONLY or table.startswith("audit_"):
            read_only.append(table)
        elif table in frozen:
            privileges.append("INSERT")
            insert_only.append(table)
        else:
            privileges += ["INSERT", "UPDATE", "DELETE"]
            writable.append(table)
        session.execute(text(f"REVOKE ALL ON {q(table)} FROM {q(role)}"))
        session.execute(text(f"GRANT {', '.join(privileges)} ON {q(table)} TO {q(role)}"))
    session.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {q(role)}"))
    return Grants(role, insert_only, writable, read_only)
