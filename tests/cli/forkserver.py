"""Run a Python console script many times without paying its imports each time.

The public qualytics-cli takes about 1.5 s of CPU to import (``fastmcp``, ``mcp``, Typer,
Rich) before it does anything; the conformance tests call it a few hundred times. This
module is a fork server for such a tool: started once per test process with the TOOL's
interpreter (``python forkserver.py <package.module> <attribute>``), it imports the tool
once, forgets the tool's own modules (so each run re-imports them under its own
environment: qualytics-cli reads ``HOME`` and ``QUALYTICS_CONFIG_HOME`` at import), and
for each request forks a child that runs the tool's entry point exactly as its console
script does, with the request's arguments, environment, working directory and
stdout/stderr files, stdin at ``/dev/null``. The child's exit status is the tool's.
A request may cap the tool's ``time.sleep`` (its hard-coded poll intervals: 10 s while
qualytics-cli waits for a profile), so a test waits for the server, not for the clock.

:class:`ForkServer` is the test side: ``run(args, env=…, cwd=…, timeout=…)`` returns a
``subprocess.CompletedProcess`` like ``subprocess.run(..., capture_output=True,
text=True)``, and raises ``subprocess.TimeoutExpired`` (after killing the child) when
the run takes longer than ``timeout`` seconds.

This file is run by the tool's interpreter: it imports nothing but the standard library.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# -- the server (the tool's interpreter) ------------------------------------------------------


def _serve(module: str, attribute: str) -> None:
    proto_in = os.fdopen(os.dup(0), "r")
    proto_out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    __import__(module)  # the expensive part: every third-party module the tool imports
    package = module.split(".")[0]
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    proto_out.write(json.dumps({"ready": True}) + "\n")
    proto_out.flush()
    for line in proto_in:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            proto_in.close()
            proto_out.close()
            _child(module, attribute, request)  # never returns
        proto_out.write(json.dumps({"pid": pid}) + "\n")
        proto_out.flush()
        _, status = os.waitpid(pid, 0)
        proto_out.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        proto_out.flush()


def _child(module: str, attribute: str, request: dict) -> None:
    code = 1
    try:
        os.setpgid(0, 0)  # its own process group: a timeout kills what it started too
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.argv = [request["prog"], *request["args"]]
        if request.get("max_sleep") is not None:  # a tool's fixed poll interval, shortened
            import time

            real_sleep, cap = time.sleep, float(request["max_sleep"])
            time.sleep = lambda seconds: real_sleep(min(seconds, cap))
        try:
            entry = getattr(__import__(module, fromlist=[attribute]), attribute)
            result = entry()
            code = 0 if result is None else result
        except SystemExit as e:
            code = e.code
        except BaseException:  # as the interpreter would: the traceback and status 1
            import traceback

            traceback.print_exc()
            code = 1
        if code is None:
            code = 0
        elif not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        import atexit
        import logging

        atexit._run_exitfuncs()
        logging.shutdown()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - exiting anyway
                pass
        os._exit(code)


# -- the client (the test process) ------------------------------------------------------------


class ForkServer:
    """A running fork server for the console script ``exe`` (a pip-installed entry point:
    its interpreter is the ``python`` beside it, its entry point read from the script)."""

    def __init__(self, exe: Path):
        self.exe = Path(exe)
        module, attribute = _entry_point(self.exe)
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [str(self.exe.parent / "python"), __file__, module, attribute],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._replies: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read_replies, daemon=True).start()
        if self._replies.get().get("ready") is not True:
            raise RuntimeError(f"the fork server of {self.exe} did not start (exit {self._proc.wait()})")

    def _read_replies(self) -> None:
        for line in self._proc.stdout:
            self._replies.put(json.loads(line))
        self._replies.put({})  # the server ended

    def run(
        self, args, *, env: dict, cwd, timeout: float, max_sleep: float | None = None
    ) -> subprocess.CompletedProcess:
        """Run the tool with ``args``, environment ``env`` and working directory ``cwd``;
        ``max_sleep`` caps each ``time.sleep`` of the run (seconds; the tool's polling)."""
        with self._lock, tempfile.TemporaryDirectory() as tmp:
            stdout, stderr = Path(tmp) / "stdout", Path(tmp) / "stderr"
            request = {
                "prog": self.exe.name,
                "args": [str(a) for a in args],
                "env": {str(k): str(v) for k, v in env.items()},
                "cwd": str(cwd),
                "stdout": str(stdout),
                "stderr": str(stderr),
                "max_sleep": max_sleep,
            }
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            pid = self._replies.get()["pid"]
            try:
                returncode, timed_out = self._replies.get(timeout=timeout)["returncode"], False
            except queue.Empty:
                timed_out = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                returncode = self._replies.get()["returncode"]
            out = stdout.read_text(errors="replace") if stdout.exists() else ""
            err = stderr.read_text(errors="replace") if stderr.exists() else ""
            if timed_out:
                raise subprocess.TimeoutExpired([self.exe.name, *args], timeout, output=out, stderr=err)
            return subprocess.CompletedProcess([self.exe.name, *args], returncode, out, err)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(timeout=30)


def _entry_point(exe: Path) -> tuple[str, str]:
    """``(module, attribute)`` of a pip console script (``from qualytics.qualytics import app``)."""
    for line in exe.read_text().splitlines():
        words = line.split()
        if len(words) == 4 and words[0] == "from" and words[2] == "import":
            return words[1], words[3]
    raise ValueError(f"{exe} is not a pip console script")


_servers: dict[Path, ForkServer] = {}


def run_tool(
    exe: Path, args, *, env: dict, cwd, timeout: float, max_sleep: float | None = None
) -> subprocess.CompletedProcess:
    """Run console script ``exe`` with ``args`` through this test process's fork server for it
    (started on first use, stopped at exit), as ``subprocess.run(capture_output=True,
    text=True)`` would; ``max_sleep`` as in :meth:`ForkServer.run`."""
    exe = Path(exe)
    if exe not in _servers:
        import atexit

        _servers[exe] = ForkServer(exe)
        atexit.register(_servers[exe].close)
    return _servers[exe].run(args, env=env, cwd=cwd, timeout=timeout, max_sleep=max_sleep)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
