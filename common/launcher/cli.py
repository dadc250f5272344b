"""`nooble4 up` runs the whole platform locally; `nooble4 migrate` applies the database migrations."""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from common.launcher.embedded import EmbeddedRedis, start_embedded_postgres, wait_for_redis
from common.launcher.services import EMBEDDED_REDIS_PORT, SERVICE_PORTS
from common.launcher.supervisor import Child, Supervisor, print_status
from common.local_llm import LOCAL_LLM_PORT, gguf_file, llama_server_command
from common.migrate import migrate
from common.models.tiers import Tier
from common.settings import CommonSettings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nooble4", description="Nooble4 platform launcher")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start embedded Redis/PostgreSQL (unless configured) and every service")
    up.add_argument("--home", type=Path, default=Path(".nooble4"), help="data and logs (default ./.nooble4)")
    up.add_argument("--port-offset", type=int, default=0, help="added to every service port")
    up.add_argument("--ready-timeout", type=float, default=60.0, help="seconds to wait for /ready")
    up.add_argument("--only", nargs="+", choices=sorted(SERVICE_PORTS), help="start only these services")
    up.add_argument(
        "--llm-model",
        type=Path,
        default=os.environ.get("NOOBLE4_LOCAL_LLM_GGUF") or None,
        help="a GGUF model file served to the `local` provider (default: the bundled SmolLM2-135M, or "
        "NOOBLE4_LOCAL_LLM_GGUF)",
    )
    status = commands.add_parser("status", help="state, restarts and URL of each process of a running `nooble4 up`")
    status.add_argument("--home", type=Path, default=Path(".nooble4"), help="the home `nooble4 up` was given")
    commands.add_parser("migrate", help="apply database migrations")
    llm = commands.add_parser("local-llm", help="serve the bundled SmolLM2 model (OpenAI-compatible, for `local`)")
    llm.add_argument("--host", default="127.0.0.1")
    llm.add_argument("--port", type=int, default=LOCAL_LLM_PORT)
    llm.add_argument("--model", type=Path, help="a GGUF model file (default: the bundled SmolLM2-135M)")
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(dest="tenant_command", required=True)
    create = tenant.add_parser("create", help="create a tenant and print its first API key (shown once)")
    create.add_argument("--name", required=True)
    create.add_argument("--tier", default="free", choices=[t.value for t in Tier])
    create.add_argument("--json", action="store_true", help="print JSON")
    create.add_argument("--home", type=Path, default=Path(".nooble4"), help="embedded database home")
    args = parser.parse_args(argv)
    if args.command == "status":
        return print_status(args.home.resolve())
    if args.command == "migrate":
        asyncio.run(migrate(CommonSettings()))
        print("migrations applied")
        return 0
    if args.command == "local-llm":
        command = llama_server_command(args.port, args.host, model=_gguf_or_exit(args.model))
        os.execv(command[0], command)
    if args.command == "tenant":
        if not os.environ.get("NOOBLE4_DATABASE_URL"):  # the same embedded database `nooble4 up` uses
            os.environ["NOOBLE4_DATABASE_URL"] = start_embedded_postgres(args.home.resolve() / "pgdata")
        # the management service owns tenants: its own command does the work (common imports no service)
        command = [sys.executable, "-m", "agent_management_service.tenant_cli", "--name", args.name]
        return subprocess.call([*command, "--tier", args.tier, *(["--json"] if args.json else [])])
    platform = Platform(args.home, args.port_offset, args.only or sorted(SERVICE_PORTS), _gguf_or_exit(args.llm_model))
    return platform.run(args.ready_timeout)


def _gguf_or_exit(path: Path | None) -> Path | None:
    try:
        return gguf_file(path) if path else None
    except ValueError as exc:
        raise SystemExit(f"nooble4: --llm-model: {exc}") from None


class Platform:
    """Starts the stores, the local LLM and the services, then supervises them until Ctrl-C or SIGTERM."""

    def __init__(self, home: Path, port_offset: int, services: list[str], llm_model: Path | None = None):
        self.home = home.resolve()
        self.llm_model = llm_model
        self.ports = {name: SERVICE_PORTS[name] + port_offset for name in services}
        self.port_offset = port_offset
        self.local_llm_port = LOCAL_LLM_PORT + port_offset
        self.supervisor = Supervisor(self.home / "status.json", os.environ.copy)
        self._stop_signal: int | None = None

    def run(self, ready_timeout: float) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self._prepare_stores()
            asyncio.run(migrate(CommonSettings()))
            self._start_local_llm()
            self._spawn_services()
            if self._wait_ready(ready_timeout):
                self._print_urls()
            return self._supervise()
        finally:
            self._stop_all()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stop_signal = signum

    def _child(self, name: str, command: list[str], url: str | None, ready: Callable[[], bool] | None = None) -> None:
        log_path = self.home / "logs" / f"{name}.log"
        self.supervisor.add(Child(name, command, log_path, url=url, ready=ready))

    def _prepare_stores(self) -> None:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        if not os.environ.get("NOOBLE4_REDIS_URL"):
            redis = EmbeddedRedis(self.home / "redis", EMBEDDED_REDIS_PORT + self.port_offset)
            redis.data_dir.mkdir(parents=True, exist_ok=True)
            self._child("redis", redis.command(), redis.url, lambda: wait_for_redis(redis.port, 0.2))
            if not wait_for_redis(redis.port, 30, self.supervisor.children["redis"].process):
                raise SystemExit(f"embedded redis-server did not start; see {redis.data_dir / 'redis.log'}")
            os.environ["NOOBLE4_REDIS_URL"] = redis.url
            print(f"embedded Redis      {redis.url} (append-only file, fsync every second)")
        if not os.environ.get("NOOBLE4_DATABASE_URL"):
            os.environ["NOOBLE4_DATABASE_URL"] = start_embedded_postgres(self.home / "pgdata")
            print(f"embedded PostgreSQL {self.home / 'pgdata'}")
        if not os.environ.get("NOOBLE4_SECRETS_KEY"):
            os.environ["NOOBLE4_SECRETS_KEY"] = secrets_key_of(self.home)

    def _start_local_llm(self) -> None:
        """The `local` chat provider's server, unless tests use the scripted model or a server is configured."""
        if os.environ.get("NOOBLE4_LOCAL_CHAT_MODEL") == "scripted" or os.environ.get("NOOBLE4_LOCAL_LLM_BASE_URL"):
            return
        if "agent_execution_service" not in self.ports:
            return
        try:
            threads = int(os.environ.get("NOOBLE4_LOCAL_LLM_THREADS") or 0) or None
            command = llama_server_command(self.local_llm_port, threads=threads, model=self.llm_model)
        except FileNotFoundError as exc:  # e.g. installed with plain pip: the rest of the platform still runs
            print(f"local LLM not started ({exc}); agents on the local provider will get llm_unavailable")
            return
        base = f"http://127.0.0.1:{self.local_llm_port}"
        self._child("local_llm", command, f"{base}/v1", lambda: http_ok(f"{base}/v1/models"))
        os.environ["NOOBLE4_LOCAL_LLM_BASE_URL"] = f"{base}/v1"

    def _spawn_services(self) -> None:
        if orchestrator := self.ports.get("agent_orchestrator_service"):  # the console calls every API
            origins = [f"http://{host}:{orchestrator}" for host in ("127.0.0.1", "localhost")]
            os.environ.setdefault("NOOBLE4_CORS_ORIGINS", json.dumps(origins))
        for name, port in self.ports.items():
            base = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", name, "--port", str(port)]
            self._child(name, command, base, functools.partial(http_ok, f"{base}/ready"))

    def _wait_ready(self, timeout: float) -> bool:
        """Wait until every child is up (restarting any that exits meanwhile); False on a stop signal."""
        give_up_at = time.monotonic() + timeout
        warned = False
        while self._stop_signal is None:
            self.supervisor.tick()
            waiting = [c.name for c in self.supervisor.children.values() if c.state != "running"]
            if not waiting:
                return True
            if not warned and time.monotonic() > give_up_at:
                print(f"not ready after {timeout:g} s: {', '.join(waiting)} (still trying)", file=sys.stderr)
                warned = True
            time.sleep(0.1)
        return False

    def _print_urls(self) -> None:
        print("Nooble4 is ready:")
        for name, port in sorted(self.ports.items(), key=lambda item: item[1]):
            print(f"  {name:<28} http://127.0.0.1:{port}   (docs: /docs, metrics: /metrics)")
        if "local_llm" in self.supervisor.children:
            served = self.llm_model.name if self.llm_model else "SmolLM2-135M"
            print(f"  {f'local LLM ({served})':<28} http://127.0.0.1:{self.local_llm_port}/v1")
        if orchestrator := self.ports.get("agent_orchestrator_service"):
            print(f"console in the browser: http://127.0.0.1:{orchestrator}/console   (chat: /)")
            print(f"a tenant and its API key: nooble4 tenant create --name Acme --home {self.home}")
        print(f"state of every process: nooble4 status --home {self.home}")
        print(f"logs: {self.home / 'logs'}   stop: Ctrl-C", flush=True)

    def _supervise(self) -> int:
        """Restart whatever exits until Ctrl-C or SIGTERM: the platform never stops by itself."""
        while self._stop_signal is None:
            self.supervisor.tick()
            time.sleep(0.2)
        print("stopping...", flush=True)
        return 0

    def _stop_all(self) -> None:
        """Services first (they drain in-flight work), then the local LLM, then Redis."""
        self.supervisor.stop(list(self.ports), CommonSettings().shutdown_grace_s + 5)
        self.supervisor.stop(["local_llm"], 10)
        self.supervisor.stop(["redis"], 10)
        # the embedded PostgreSQL stops itself at exit (pgserver cleanup_mode="stop")


def secrets_key_of(home: Path) -> str:
    """The platform's secrets key kept in its home (made once, readable by its owner only)."""
    path = home / "secrets.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip()


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())
