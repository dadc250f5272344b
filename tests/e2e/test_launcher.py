"""`nooble4 up` on a machine with nothing configured: embedded Redis + PostgreSQL, seven services ready."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from common.launcher.services import SERVICE_PORTS, free_port_offset

ROOT = Path(__file__).resolve().parents[2]


def test_up_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    offset = free_port_offset()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOOBLE4_")}  # nothing configured
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "common.launcher.cli",
            "up",
            "--home",
            str(tmp_path / "home"),
            "--port-offset",
            str(offset),
            "--ready-timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if "Nooble4 is ready" in line:
                break
        ready_after = time.monotonic() - started
        assert any("Nooble4 is ready" in line for line in output), "".join(output)
        assert ready_after < 60
        with httpx.Client(timeout=5) as http:
            for name, port in SERVICE_PORTS.items():
                base = f"http://127.0.0.1:{port + offset}"
                assert http.get(f"{base}/health").json()["service"] == name
                assert http.get(f"{base}/ready").json()["checks"] == {"redis": "ok", "database": "ok"}
                assert "nooble4_actions_total" in http.get(f"{base}/metrics").text
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()  # data persists under the home dir
    for port in SERVICE_PORTS.values():
        with socket.socket() as sock:  # every service has released its port
            sock.bind(("127.0.0.1", port + offset))
