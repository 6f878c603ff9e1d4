"""The tests' fork server (``tests/cli/forkserver.py``) itself."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.cli.forkserver import ForkServer


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an orphan's zombie may wait for
    a reaper that never comes in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_runs_still_going_when_the_test_process_ends_are_killed_with_the_server(tmp_path):
    """A run a failed test left behind (here ``assay worker``, which runs until stopped)
    ends with the fork server when the server's input closes, as it does when the test
    process ends; it used to run on (a worker in a 40-billion-row query at 99 % CPU)."""
    server = ForkServer(Path(sys.executable).with_name("assay"))  # its own server, not the shared one
    env = {k: v for k, v in os.environ.items() if k != "ASSAY_DATABASE_URL"}
    env["ASSAY_DATA_DIR"] = str(tmp_path / "assay")
    log = tmp_path / "worker.log"
    worker = server.spawn(["worker"], env=env, cwd=str(tmp_path), stdout=log, stderr=log)
    time.sleep(0.5)
    assert worker.poll() is None and _running(worker.pid), log.read_text()
    server.close()
    deadline = time.monotonic() + 10
    while _running(worker.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(worker.pid)
