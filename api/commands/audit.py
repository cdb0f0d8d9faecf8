"""`gi audit`: the tamper-evident log's checkpoint, its verification, and a row's inclusion proof."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from api.console import console, err_console
from api.errors import EXIT_TAMPERED
from gi.db import get_engine, session_scope
from gi.errors import InputError

app = typer.Typer(
    help="The tamper-evident audit log (审计日志): checkpoints and verification.", no_args_is_help=True
)

SHOWN = 30  # findings printed before "... and N more"


@app.command("head")
def head() -> None:
    """Print the log's checkpoint (origin, size, head hash, time): publish it where the operator cannot rewrite it."""
    from gi.audit import head as log_head

    with session_scope() as session:
        checkpoint = log_head(session)
    sys.stdout.write(checkpoint.text())


def _checkpoint_text(value: str) -> str:
    """A checkpoint given as '-' (stdin), a file, or its text (real newlines, or \\n typed on one line)."""
    if value == "-":
        return sys.stdin.read()
    if "\n" in value:
        return value
    if "\\n" in value:
        return value.replace("\\n", "\n")
    path = Path(value)
    if not path.is_file():
        raise InputError("checkpoint", f"{value}: no such file (give a file, '-' for stdin, or the text)")
    return path.read_text(encoding="utf-8")


@app.command("verify")
def verify(
    checkpoint: str = typer.Option(
        None,
        "--checkpoint",
        "-c",
        help="A checkpoint published earlier (a file, '-' for stdin, or its text): prove the log only grew since.",
    ),
    archived: str = typer.Option(
        None,
        "--archived",
        help="Verify one archived month (YYYY-MM) instead: recompute its chain and check it links to the next.",
    ),
) -> None:
    """Recompute the hash chain and check every recorded row against its entry; exit 5 if anything does not match.
    With archived months, the live chain is verified from the last archived head."""
    from gi.audit import Checkpoint, verify_log
    from gi.audit.archive import parse_month
    from gi.audit.verify import verify_archive

    month = parse_month(archived, "--archived") if archived else None
    published = Checkpoint.parse(_checkpoint_text(checkpoint)) if checkpoint else None
    with err_console.status("verifying the audit log") as status:
        if month is not None:
            result = verify_archive(
                get_engine(), month, progress=lambda step: status.update(f"verifying: {step}")
            )
        else:
            result = verify_log(
                get_engine(), published, progress=lambda step: status.update(f"verifying: {step}")
            )
    rows = sum(result.rows.values())
    tables = sum(1 for n in result.rows.values() if n)
    summary = f"{result.entries:,} entries, {rows:,} recorded rows in {tables} tables"
    if result.ok:
        line = f"audit log verified: {summary}; head {result.head_hash.hex() if result.head_hash else '-'}"
        if published is not None:
            line += f"; it extends the checkpoint of {published.size:,} entries"
        console.print(line, highlight=False, soft_wrap=True)
        return
    err_console.print(
        f"[bold red]audit log verification failed:[/] {len(result.findings):,} finding(s) ({summary})",
        highlight=False,
        soft_wrap=True,
    )
    for finding in result.findings[:SHOWN]:
        err_console.print(f"  {finding.text()}", highlight=False, soft_wrap=True, markup=False)
    if len(result.findings) > SHOWN:
        err_console.print(f"  ... and {len(result.findings) - SHOWN:,} more", highlight=False)
    raise typer.Exit(EXIT_TAMPERED)


@app.command("archive")
def archive(
    month: str = typer.Argument(
        ..., help="The month to archive, YYYY-MM (before the current one; oldest first)."
    ),
) -> None:
    """Detach a closed month of the log into audit_archive_pYYYY_MM; the live chain continues from its head."""
    from gi.audit.archive import archive_month, parse_month

    done = archive_month(get_engine(), parse_month(month))
    console.print(
        f"archived {done.month:%Y-%m}: entries {done.first_seq:,}-{done.last_seq:,} ({done.entries:,}) in "
        f"{done.table_name}; head {done.head_hash.hex()}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("proof")
def proof(
    table: str = typer.Argument(..., help="A table under the log, e.g. origin_verdict, quality_verdict."),
    row_id: int = typer.Argument(..., help="The row's id."),
) -> None:
    """Show the entry recording a row and its RFC 6962 inclusion proof (checked against the entry's Merkle root)."""
    from gi.audit import entry_for, inclusion, root_from_proof
    from gi.errors import NotFoundError

    with session_scope() as session:
        ref = entry_for(session, (table, row_id))
        if ref is None:
            raise NotFoundError(f"{table} {row_id} is not recorded in the audit log")
        path = inclusion(session, ref)
    holds = root_from_proof(ref.leaf_hash, ref.position, ref.leaf_count, path) == ref.merkle_root
    console.print(
        f"{table} {row_id}: entry #{ref.seq} ({ref.op}, {ref.actor}, {ref.recorded_at:%Y-%m-%d %H:%M:%S %Z})"
    )
    console.print(f"entry hash   {ref.entry_hash.hex()}", highlight=False)
    console.print(
        f"leaf hash    {ref.leaf_hash.hex()}  (leaf {ref.position} of {ref.leaf_count})", highlight=False
    )
    console.print(f"merkle root  {ref.merkle_root.hex()}", highlight=False)
    for i, node in enumerate(path):
        console.print(f"path[{i}]      {node.hex()}", highlight=False)
    console.print("inclusion proof holds" if holds else "[bold red]inclusion proof does not hold[/]")
    if not holds:
        raise typer.Exit(EXIT_TAMPERED)


@app.command("grant")
def grant(
    role: str = typer.Argument(..., help="An existing database role the application (service) logs in as."),
) -> None:
    """Grant ROLE what the application needs and nothing that alters the log or a verdict (run as the owner)."""
    from gi.audit.roles import grant_application_role

    with session_scope() as session:
        grants = grant_application_role(session, role)
    console.print(
        f"{grants.role}: insert only on {len(grants.insert_only)} tables ({', '.join(grants.insert_only)}); "
        f"insert, update, delete on {len(grants.writable)}; read only on {len(grants.read_only)} "
        f"({', '.join(grants.read_only)})",
        highlight=False,
        soft_wrap=True,
    )
