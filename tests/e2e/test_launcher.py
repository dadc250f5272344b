"""`nooble4 up` on a machine with nothing configured: embedded Redis + PostgreSQL, seven services ready."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

from common.launcher.services import SERVICE_PORTS, free_port_offset
from tests.support.helpers import tenant_create

ROOT = Path(__file__).resolve().parents[2]


def launch(home: Path, offset: int, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    """`nooble4 up` as a user runs it; returns the process and its banner once it says it is ready."""
    command = [sys.executable, "-m", "common.launcher.cli", "up", "--home", str(home), "--port-offset", str(offset)]
    proc = subprocess.Popen(
        [*command, *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        output.append(line)
        if "stop: Ctrl-C" in line:  # the last line of the ready banner
            break
    return proc, output


def test_up_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    offset = free_port_offset()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOOBLE4_")}  # nothing configured
    started = time.monotonic()
    proc, output = launch(tmp_path / "home", offset, env, "--ready-timeout", "60")
    try:
        ready_after = time.monotonic() - started
        assert any("Nooble4 is ready" in line for line in output), "".join(output)
        assert ready_after < 60
        with httpx.Client(timeout=5) as http:
            for name, port in SERVICE_PORTS.items():
                base = f"http://127.0.0.1:{port + offset}"
                assert http.get(f"{base}/health").json()["service"] == name
                assert http.get(f"{base}/ready").json()["checks"] == {"redis": "ok", "database": "ok"}
                assert "nooble4_actions_total" in http.get(f"{base}/metrics").text
        assert any("local LLM" in line for line in output)
        chat_with_the_local_model(tmp_path / "home", offset, env)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:  # the test failed midway: stop the platform as Ctrl-C would
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()  # its services get SIGTERM from the kernel (PR_SET_PDEATHSIG)
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()  # data persists under the home dir
    for port in SERVICE_PORTS.values():
        with socket.socket() as sock:  # every service has released its port (TIME_WAIT of closed sockets aside)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port + offset))


def chat_with_the_local_model(home: Path, offset: int, env: dict[str, str]) -> None:
    """Offline, no API key: a free tenant's agent answers with SmolLM2 through the whole platform."""
    created = tenant_create(env, "--name", "Acme", "--home", str(home))
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    with httpx.Client(timeout=10, headers=headers) as http:
        agent = http.post(
            f"http://127.0.0.1:{8003 + offset}/api/v1/agents",
            json={"name": "Local", "system_prompt": "You are a helpful assistant.", "model": {"max_tokens": 40}},
        ).json()
        session = http.post(f"http://127.0.0.1:{8001 + offset}/api/v1/chat/sessions", json={"agent_id": agent["id"]})
    token = headers["Authorization"].split()[1]
    with connect(f"{session.json()['ws_url']}?token={token}", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "message", "content": "What is the capital of France?"}))
        events = []
        while not events or events[-1]["type"] not in ("message_end", "error"):
            events.append(json.loads(ws.recv(timeout=60)))
    assert events[-1]["type"] == "message_end", events[-1]
    assert sum(e["type"] == "token" for e in events) >= 1
    assert events[-1]["content"].strip() and events[-1]["usage"]["completion_tokens"] > 0


def test_services_do_not_outlive_a_killed_launcher(tmp_path: Path) -> None:
    """SIGKILL leaves the launcher no chance to stop its services: the kernel tells them (PR_SET_PDEATHSIG)."""
    offset = free_port_offset()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOOBLE4_")}
    env["NOOBLE4_LOCAL_CHAT_MODEL"] = "scripted"
    proc, output = launch(tmp_path / "home", offset, env, "--only", "conversation_service")
    assert any("Nooble4 is ready" in line for line in output), "".join(output)
    port = SERVICE_PORTS["conversation_service"] + offset
    with httpx.Client(timeout=5) as http:
        assert http.get(f"http://127.0.0.1:{port}/health").status_code == 200
    proc.kill()
    proc.wait()
    give_up_at = time.monotonic() + 30
    while True:  # the service shuts down on its SIGTERM and frees its port
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
                break
            except OSError:
                assert time.monotonic() < give_up_at, "the service outlived its launcher"
        time.sleep(0.1)
