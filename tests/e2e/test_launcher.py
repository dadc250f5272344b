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
from typing import Any

import httpx
import redis
from websockets.sync.client import connect

from common.launcher.services import SERVICE_PORTS, free_port_offset
from common.local_llm import LOCAL_LLM_PORT, local_model_path
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
    model = str(local_model_path())  # any GGUF given by path is served to the `local` provider
    proc, output = launch(tmp_path / "home", offset, env, "--ready-timeout", "60", "--llm-model", model)
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
        assert any(f"local LLM ({Path(model).name})" in line for line in output), "".join(output)
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


def test_up_refuses_a_model_file_that_is_not_gguf(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOOBLE4_")}
    (tmp_path / "model.gguf").write_bytes(b"<html>not a model</html>")
    for path in (tmp_path / "model.gguf", tmp_path / "missing.gguf"):
        command = [sys.executable, "-m", "common.launcher.cli", "up", "--home", str(tmp_path), "--llm-model", str(path)]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "--llm-model" in done.stderr and str(path) in done.stderr, done.stderr
        assert not (tmp_path / "pgdata").exists()  # refused before anything started


def chat_with_the_local_model(home: Path, offset: int, env: dict[str, str]) -> None:
    """Offline, no API key: a free tenant's agent answers with SmolLM2 through the whole platform."""
    created = tenant_create(env, "--name", "Acme", "--home", str(home))
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    with httpx.Client(timeout=10, headers=headers) as http:
        agent = http.post(
            f"http://127.0.0.1:{8003 + offset}/api/v1/agents",
            json={
                "name": "Local",
                "system_prompt": "You are a helpful assistant.",
                "model": {"max_tokens": 40},
                "tools": ["current_time"],  # the tool-calling agent's path: its usage is counted too
            },
        ).json()
        session = http.post(f"http://127.0.0.1:{8001 + offset}/api/v1/chat/sessions", json={"agent_id": agent["id"]})
    token = headers["Authorization"].split()[1]
    with connect(f"{session.json()['ws_url']}?token={token}", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "message", "content": "What is the capital of France?"}))
        events: list[dict[str, Any]] = []
        while not events or events[-1]["type"] not in ("message_end", "error"):
            events.append(json.loads(ws.recv(timeout=60)))
    assert events[-1]["type"] == "message_end", events[-1]
    assert sum(e["type"] == "token" for e in events) >= 1
    assert events[-1]["content"].strip() and events[-1]["usage"]["completion_tokens"] > 0
    assert events[-1]["usage"]["prompt_tokens"] > 0  # counted here when the server reports none (it streams)
    # ... with the model's own tokenizer (the server's), not another one
    counted = httpx.post(
        f"http://127.0.0.1:{LOCAL_LLM_PORT + offset}/extras/tokenize/count", json={"input": events[-1]["content"]}
    ).json()["count"]
    if not any(e["type"] == "tool_call" for e in events):  # one model call: its completion is the answer
        assert events[-1]["usage"]["completion_tokens"] == counted


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
    try:
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
    finally:  # the embedded PostgreSQL is meant to outlive it (the next `up` reuses it): stop this test's one
        _stop_postmaster(tmp_path / "home" / "pgdata")


def _stop_postmaster(pgdata: Path) -> None:
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)


def _status(home: Path) -> dict:
    return json.loads((home / "status.json").read_text())["children"]


def _wait_for(check, timeout: float, what: str):
    give_up_at = time.monotonic() + timeout
    while True:
        try:
            if result := check():
                return result
        except (OSError, ValueError, KeyError, httpx.HTTPError, redis.RedisError):
            pass
        assert time.monotonic() < give_up_at, f"{what} not within {timeout} s"
        time.sleep(0.1)


def test_a_killed_child_is_restarted_and_acknowledged_work_survives_redis(tmp_path: Path) -> None:
    """SIGKILL a service, then the embedded Redis: each is back within seconds, the launcher never exits,
    and what Redis acknowledged before its SIGKILL is still there (append-only file)."""
    offset = free_port_offset()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOOBLE4_")}
    env["NOOBLE4_LOCAL_CHAT_MODEL"] = "scripted"
    home = tmp_path / "home"
    proc, output = launch(home, offset, env, "--only", "conversation_service")
    try:
        assert any("Nooble4 is ready" in line for line in output), "".join(output)
        health = f"http://127.0.0.1:{SERVICE_PORTS['conversation_service'] + offset}/health"
        service_pid = _status(home)["conversation_service"]["pid"]
        os.kill(service_pid, signal.SIGKILL)
        _wait_for(lambda: _status(home)["conversation_service"]["pid"] != service_pid, 10, "a new service process")
        _wait_for(lambda: httpx.get(health, timeout=1).status_code == 200, 15, "the service answering again")

        client = redis.Redis.from_url(_status(home)["redis"]["url"], decode_responses=True)
        accepted = [client.xadd("durability-check", {"n": str(n)}) for n in range(2_000)]
        redis_pid = _status(home)["redis"]["pid"]
        os.kill(redis_pid, signal.SIGKILL)
        _wait_for(lambda: client.ping(), 15, "Redis back")
        assert client.xlen("durability-check") == len(accepted)  # nothing acknowledged was lost
        _wait_for(lambda: httpx.get(health, timeout=1).status_code == 200, 15, "the service after Redis came back")

        status = subprocess.run(
            [sys.executable, "-m", "common.launcher.cli", "status", "--home", str(home)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.poll() is None, "the launcher exited by itself"
        rows = {line.split()[0]: line.split() for line in status.stdout.splitlines()[2:]}
        assert rows["conversation_service"][1] == "running" and rows["conversation_service"][3] == "1"
        assert rows["redis"][3] == "1", status.stdout
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_service_that_cannot_bind_its_port_exits_at_once(tmp_path: Path, test_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "conversation_service", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **test_env},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0 and time.monotonic() - started < 30
