"""How the command line answers an error: one table from error kind to exit code, one line of text.

Exit codes (documented in the README):

====  ===========================================================================================
0     done
1     refused: bad input, not found, or a conflict with what is stored; nothing was changed
2     command-line usage (an unknown option, a missing argument)
3     done, but some rows were refused or in conflict (the others were stored)
4     unavailable: the database (or disk, or memory) failed; what was committed is kept, a re-run is safe
5     verification failed: the audit log, or a row it records, does not match (`gi audit verify`)
70    internal error: a bug; one line here, the traceback in the log file named
130   interrupted (Ctrl-C): one line saying what was committed (kept; a re-run is safe)
====  ===========================================================================================
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

from gi.errors import ErrorKind, Problem, classify

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_UNAVAILABLE = 4
EXIT_TAMPERED = 5
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a program stopped by Ctrl-C

EXIT_CODES: dict[ErrorKind, int] = {
    ErrorKind.BAD_INPUT: EXIT_REFUSED,
    ErrorKind.NOT_FOUND: EXIT_REFUSED,
    ErrorKind.CONFLICT: EXIT_REFUSED,
    ErrorKind.UNAVAILABLE: EXIT_UNAVAILABLE,
    ErrorKind.TOO_LARGE: EXIT_REFUSED,
    ErrorKind.LIMITED: EXIT_REFUSED,
    ErrorKind.FAILURE: EXIT_INTERNAL,
}


def _log_traceback(exc: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to a file the user can attach to a bug report."""
    try:
        fd, name = tempfile.mkstemp(prefix="gi-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
        return Path(name)
    except OSError:
        return None


def cli_problem(exc: BaseException) -> tuple[Problem, int, str]:
    """The problem, exit code and one-line message the command line prints for ``exc``."""
    problem = classify(exc)
    message = problem.message
    if problem.kind is ErrorKind.FAILURE:
        log = _log_traceback(exc)
        message += f"; details in {log}" if log else ""
    return problem, EXIT_CODES[problem.kind], message


def exit_for(exc: BaseException) -> int:
    """Print ``exc`` as one line on stderr and return its exit code."""
    from api.console import err_console

    _, code, message = cli_problem(exc)
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True, markup=True)
    sys.stderr.flush()
    return code
