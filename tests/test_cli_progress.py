"""Long commands show what they are doing in a terminal (a spinner with the elapsed time on stderr, erased when
done), and nothing of it when stderr is a pipe or a file, so that scripts and logs read only the results."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fixtures import ROOT, gi

NOWHERE = "postgresql://nobody@127.0.0.1:1/none"  # commands that need no database never reach it
ELAPSED = re.compile(r"\d:\d\d:\d\d")  # rich's elapsed-time column


def gi_in_a_terminal(db_url: str, *args: str, out: Path) -> tuple[int, str, str]:
    """Run `gi ARGS` with stderr on a pseudo-terminal, as in an interactive shell: (exit code, stdout, what the
    terminal received on stderr, control sequences removed)."""
    master, child_end = pty.openpty()
    env = {**os.environ, "GI_DATABASE_URL": db_url, "GI_OUTPUT_DIR": str(out), "COLUMNS": "120"}
    env["TERM"] = "xterm-256color"
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args],
        stdout=subprocess.PIPE,
        stderr=child_end,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        text=True,
    )
    os.close(child_end)
    received = bytearray()

    def read_terminal() -> None:  # drained while the command runs, so the spinner never blocks on a full pty
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the command closed its end
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    stdout, _ = process.communicate(timeout=600)
    reader.join(timeout=10)
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", received.decode("utf-8", "replace"))
    return process.returncode, stdout, text


def test_a_spinner_in_a_terminal_and_nothing_in_a_pipe(tmp_path: Path) -> None:
    code, stdout, terminal = gi_in_a_terminal(NOWHERE, "forms", "build", "-o", str(tmp_path), out=tmp_path)
    assert code == 0, terminal
    assert "building the form with pyxform" in terminal and ELAPSED.search(terminal)
    assert "wrote" in stdout and "building" not in stdout  # results on stdout, progress on stderr only
    piped = gi(NOWHERE, "forms", "build", "-o", str(tmp_path / "again"), out=tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""
    assert (tmp_path / "again" / "gi_sample.xml").is_file()


@pytest.mark.postgis
def test_a_map_of_the_register_shows_its_steps(db_url: str, loaded_register: None, tmp_path: Path) -> None:
    code, stdout, terminal = gi_in_a_terminal(db_url, "map", "areas", "西湖龙井", out=tmp_path)
    assert code == 0, terminal
    assert "reading the protected areas" in terminal and ELAPSED.search(terminal)
    assert stdout.startswith("map of 1 protected area:") and "areas_xihu-longjing.html" in stdout


def test_an_error_ends_the_spinner_and_prints_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    code, stdout, terminal = gi_in_a_terminal(NOWHERE, "results", "import", str(missing), out=tmp_path)
    assert code != 0 and stdout == ""
    assert terminal.strip().splitlines()[-1].startswith("error:") and "Traceback" not in terminal


@pytest.mark.postgis
def test_a_map_of_a_product_without_an_area_is_refused_not_written_over_the_register_map(
    db_url: str, loaded_register: None, tmp_path: Path
) -> None:
    """No area valid then (or no such product): one line, exit 1, and the all-products map is left alone."""
    result = gi(db_url, "map", "areas", "西湖龙井", "--at", "1990-01-01", out=tmp_path)
    assert result.returncode == 1 and "no protected area valid on 1990-01-01" in result.stderr, result.stderr
    assert not list(tmp_path.rglob("areas*.html"))
