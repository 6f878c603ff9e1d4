"""Run a Python console script many times without paying its imports each time.

The public qualytics-cli takes about 1.5 s of CPU to import (``fastmcp``, ``mcp``, Typer,
Rich) before it does anything; the conformance tests call it a few hundred times. This
module is a fork server for such a tool: started once per test process with the TOOL's
interpreter (``python forkserver.py <package.module> <attribute> <preload> <fresh>``), it
imports the tool once and forgets the tool's modules that read their environment at import
(``fresh``; by default all of the tool's own modules), so each run imports them again
under its own environment: qualytics-cli reads ``HOME`` and ``QUALYTICS_CONFIG_HOME`` at
import; Assay reads its settings when it runs, and only its command-line modules make
their Rich consoles (which read ``COLUMNS``, ``NO_COLOR``, …) at import. For each request
it forks a child that runs the tool's entry point exactly as its console script does,
with the request's arguments, environment, working directory and stdout/stderr files,
stdin at ``/dev/null``. The child's exit status is the tool's.
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


def _serve(module: str, attribute: str, preload: list[str], fresh: list[str]) -> None:
    """Import the tool (and the ``preload`` modules) once, then fork one child per request.
    A ``preload`` entry ``module:function`` also calls ``function()`` once (a per-process
    cache the runs then share). The modules named in ``fresh`` (and their submodules; by
    default the tool's whole package) are forgotten: each run imports them again.

    Replies, one JSON object per line: ``{"ready": true}`` once; ``{"pid": …}`` right after
    each fork, in the order of the requests; ``{"exit": pid, "returncode": …}`` whenever a
    child ends (children run concurrently: a server started by one request lives on while
    later requests run). Ends when its input closes (the test process ended), killing the
    process groups of the children still running: a run a failed test left behind (a
    worker in a query of hours, a server) does not outlive the test session."""
    import selectors

    proto_in = os.dup(0)
    proto_out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    for entry in [module, *preload]:
        name, _, function = entry.partition(":")
        __import__(name)  # the expensive part: every third-party module the tool imports
        if function:
            getattr(sys.modules[name], function)()
    fresh = fresh or [module.split(".")[0]]
    for name in [m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in fresh)]:
        del sys.modules[name]  # imported again by each child, under its environment
        parent, _, child = name.rpartition(".")
        if parent in sys.modules and not any(parent == f or parent.startswith(f + ".") for f in fresh):
            # a kept package: `from package import child` would find the old module there
            vars(sys.modules[parent]).pop(child, None)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through wake_w
    proto_out.write(json.dumps({"ready": True}) + "\n")
    proto_out.flush()
    selector = selectors.DefaultSelector()
    selector.register(proto_in, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    pending = b""
    live: set[int] = set()
    # A terminal's Ctrl-C reaches the whole foreground group, this server included: it ends
    # when its input closes, as the test process ends; SIGTERM and SIGHUP end it at once.
    # Either way it first kills what it started that still runs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    try:
        while True:
            for key, _ in selector.select():
                if key.fd == wake_r:
                    while True:
                        try:
                            if not os.read(wake_r, 512):
                                break
                        except BlockingIOError:
                            break
                    while True:
                        try:
                            pid, status = os.waitpid(-1, os.WNOHANG)
                        except ChildProcessError:
                            break
                        if pid == 0:
                            break
                        live.discard(pid)
                        proto_out.write(
                            json.dumps({"exit": pid, "returncode": os.waitstatus_to_exitcode(status)}) + "\n"
                        )
                        proto_out.flush()
                    continue
                chunk = os.read(proto_in, 65536)
                if not chunk:
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    request = json.loads(line)
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:
                        selector.close()
                        for fd in (proto_in, wake_r, wake_w):
                            os.close(fd)
                        proto_out.close()
                        signal.set_wakeup_fd(-1)
                        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                        _child(module, attribute, request)  # never returns
                    live.add(pid)
                    proto_out.write(json.dumps({"pid": pid}) + "\n")
                    proto_out.flush()
    finally:
        for pid in live:  # each child leads its own process group
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _child(module: str, attribute: str, request: dict) -> None:
    code = 1
    try:
        os.setpgid(0, 0)  # its own process group: a timeout kills what it started too
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the tool's, not the server's
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = (
            out
            if request["stderr"] == request["stdout"]
            else os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        )
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


class Child:
    """A tool run started by a :class:`ForkServer`, used like ``subprocess.Popen``: ``pid``,
    ``poll()``, ``wait(timeout)``, ``send_signal``/``terminate``/``kill`` and ``returncode``.
    Its process is a child of the fork server, which reports its end."""

    def __init__(self, server: ForkServer, pid: int, args: list[str]):
        self.server, self.pid, self.args = server, pid, args

    @property
    def returncode(self) -> int | None:
        return self.server._exits.get(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self.server._ended(self.pid).wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.server._exits[self.pid]

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """A running fork server for the console script ``exe`` (a pip-installed entry point:
    its interpreter is the ``python`` beside it, its entry point read from the script),
    with ``preload``: more modules its runs import (loaded once, as the tool's are) and
    ``fresh``: the modules each run imports again, those that read their environment at
    import (by default the tool's whole package)."""

    def __init__(self, exe: Path, preload: tuple[str, ...] = (), fresh: tuple[str, ...] = ()):
        self.exe = Path(exe)
        module, attribute = _entry_point(self.exe)
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [str(self.exe.parent / "python"), __file__, module, attribute, ",".join(preload), ",".join(fresh)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._pids: queue.Queue[dict] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._events: dict[int, threading.Event] = {}
        self._events_lock = threading.Lock()
        threading.Thread(target=self._read_replies, daemon=True).start()
        if self._pids.get().get("ready") is not True:
            raise RuntimeError(f"the fork server of {self.exe} did not start (exit {self._proc.wait()})")

    def _ended(self, pid: int) -> threading.Event:
        with self._events_lock:
            return self._events.setdefault(pid, threading.Event())

    def _read_replies(self) -> None:
        for line in self._proc.stdout:
            reply = json.loads(line)
            if "exit" in reply:
                self._exits[reply["exit"]] = reply["returncode"]
                self._ended(reply["exit"]).set()
            else:
                self._pids.put(reply)
        self._pids.put({})  # the server ended

    def spawn(self, args, *, env: dict, cwd, stdout: Path, stderr: Path, max_sleep: float | None = None) -> Child:
        """Start the tool with ``args``, environment ``env`` and working directory ``cwd``,
        its output written to the files ``stdout`` and ``stderr`` (the same path: one file);
        ``max_sleep`` caps each ``time.sleep`` of the run (seconds; the tool's polling)."""
        request = {
            "prog": self.exe.name,
            "args": [str(a) for a in args],
            "env": {str(k): str(v) for k, v in env.items()},
            "cwd": str(cwd),
            "stdout": str(stdout),
            "stderr": str(stderr),
            "max_sleep": max_sleep,
        }
        with self._lock:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            pid = self._pids.get()["pid"]
        return Child(self, pid, [self.exe.name, *request["args"]])

    def run(
        self, args, *, env: dict, cwd, timeout: float, max_sleep: float | None = None
    ) -> subprocess.CompletedProcess:
        """Run the tool to its end, as ``subprocess.run(capture_output=True, text=True)``
        would (``subprocess.TimeoutExpired`` after ``timeout`` seconds, the run killed)."""
        with tempfile.TemporaryDirectory() as tmp:
            stdout, stderr = Path(tmp) / "stdout", Path(tmp) / "stderr"
            child = self.spawn(args, env=env, cwd=cwd, stdout=stdout, stderr=stderr, max_sleep=max_sleep)
            try:
                returncode, timed_out = child.wait(timeout), False
            except subprocess.TimeoutExpired:
                timed_out = True
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                returncode = child.wait()
            out = stdout.read_text(errors="replace") if stdout.exists() else ""
            err = stderr.read_text(errors="replace") if stderr.exists() else ""
            if timed_out:
                raise subprocess.TimeoutExpired(child.args, timeout, output=out, stderr=err)
            return subprocess.CompletedProcess(child.args, returncode, out, err)

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
    return _fork_server(exe).run(args, env=env, cwd=cwd, timeout=timeout, max_sleep=max_sleep)


if __name__ == "__main__":
    _serve(
        sys.argv[1],
        sys.argv[2],
        [m for m in sys.argv[3].split(",") if m] if len(sys.argv) > 3 else [],
        [m for m in sys.argv[4].split(",") if m] if len(sys.argv) > 4 else [],
    )


# -- Assay's own processes ----------------------------------------------------------------------

#: What ``assay serve`` and ``assay worker`` import besides the CLI, with the per-process
#: caches they fill first (the API's routes, the newest migration): Assay and the third-party
#: modules under it (Ibis, DuckDB, Arrow, pandas, SQLAlchemy, FastAPI, …) are imported once
#: per test process, not once per run (about 3.5 s of CPU each, 1.7 s of it Assay's own
#: modules: Assay reads its settings when it runs, never at import; ``tests/test_config.py``).
ASSAY_PRELOAD = (
    "assay.api.app:api_routes",
    "assay.store.db:head_revision",
    "assay.operations.runner",
    "assay.sources.duckdb",
    "assay.sources.sql",
    "assay.sources.files",
    "assay.flows.dispatcher",
)


#: Assay's modules that each run imports again: the command line's, whose Rich consoles read
#: the terminal's settings (``COLUMNS``, ``NO_COLOR``, …) when they are made, at import.
ASSAY_FRESH = ("assay.cli", "assay.client_cli", "assay.client_commands", "assay.flows.cli", "assay.demo")


def _fork_server(exe: Path, preload: tuple[str, ...] = (), fresh: tuple[str, ...] = ()) -> ForkServer:
    exe = Path(exe)
    if exe not in _servers:
        import atexit

        _servers[exe] = ForkServer(exe, preload, fresh)
        atexit.register(_servers[exe].close)
    return _servers[exe]


def start_assay(args, *, env: dict, log: Path | str, stderr: Path | str | None = None, cwd=None) -> Child:
    """``assay <args>`` (``serve``, ``worker``) in a process of its own, forked from this test
    process's fork server for Assay, which imported Assay and its dependencies once (Assay
    reads ``env`` when it runs). Its output goes to the file ``log``
    (and its standard error to ``stderr`` when given). Used like ``subprocess.Popen``."""
    exe = Path(sys.executable).with_name("assay")
    return _fork_server(exe, ASSAY_PRELOAD, ASSAY_FRESH).spawn(
        args, env=env, cwd=cwd or os.getcwd(), stdout=log, stderr=stderr or log
    )


def run_assay(args, *, env: dict, timeout: float = 120, cwd=None) -> subprocess.CompletedProcess:
    """``assay <args>`` run to its end through the same fork server, as
    ``subprocess.run(capture_output=True, text=True, timeout=timeout)`` would."""
    exe = Path(sys.executable).with_name("assay")
    return _fork_server(exe, ASSAY_PRELOAD, ASSAY_FRESH).run(args, env=env, cwd=cwd or os.getcwd(), timeout=timeout)


def wait_until_serving(url: str, proc, log: Path | str, timeout: float = 60) -> None:
    """Wait for the ``assay serve`` process ``proc`` at ``url`` to answer ``GET /api/health``
    with 204, asking every 0.2 s through one HTTP client (a client per request costs ~45 ms
    of CPU for its TLS context, taken from the starting server).

    Raises: RuntimeError with the end of the server's ``log`` when the process exits or
    does not answer within ``timeout`` seconds."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"assay serve exited with {proc.returncode}: {Path(log).read_text()[-2000:]}")
            try:
                if client.get(f"{url}/api/health").status_code == 204:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"assay serve did not answer in {timeout:g} s: {Path(log).read_text()[-2000:]}")
            time.sleep(0.2)
