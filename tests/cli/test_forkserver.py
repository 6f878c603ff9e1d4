"""The tests' fork server (``tests/cli/forkserver.py``) itself."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.cli.forkserver import ForkServer


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an orphan's zombie may wait for
    a reaper that never comes in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("end", ["input closed", "SIGTERM", "SIGHUP", "Ctrl-C, then input closed"])
def test_runs_still_going_when_the_server_ends_are_killed_with_it(tmp_path, end):
    """A run a failed or interrupted test left behind (here ``assay worker``, which runs
    until stopped) ends with the fork server: when the server's input closes (the test
    process ended), or when it is sent SIGTERM or SIGHUP. A Ctrl-C (SIGINT to the terminal's
    whole process group) does not end the server: the test process ends, and with it the
    server's input. Such a worker used to run on (once, in a 40-billion-row query at 99 %
    CPU)."""
    server = ForkServer(Path(sys.executable).with_name("assay"))  # its own server, not the shared one
    env = {k: v for k, v in os.environ.items() if k != "ASSAY_DATABASE_URL"}
    env["ASSAY_DATA_DIR"] = str(tmp_path / "assay")
    log = tmp_path / "worker.log"
    worker = server.spawn(["worker"], env=env, cwd=str(tmp_path), stdout=log, stderr=log)
    try:
        time.sleep(0.5)
        assert worker.poll() is None and _running(worker.pid), log.read_text()
        if end == "SIGTERM":
            server._proc.send_signal(signal.SIGTERM)
        elif end == "SIGHUP":
            server._proc.send_signal(signal.SIGHUP)
        else:
            if end.startswith("Ctrl-C"):
                server._proc.send_signal(signal.SIGINT)
                time.sleep(0.3)
                assert server._proc.poll() is None and _running(worker.pid)
            server.close()
        assert server._proc.wait(10) in (0, 128 + signal.SIGTERM, 128 + signal.SIGHUP)
        deadline = time.monotonic() + 10
        while _running(worker.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(worker.pid)
    finally:
        if _running(worker.pid):  # the test failed: stop what it started
            os.killpg(worker.pid, signal.SIGKILL)
        server._proc.kill()
