"""`nooble4 up` runs the whole platform locally; `nooble4 migrate` applies the database migrations."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from common.database import create_engine
from common.launcher.embedded import EmbeddedRedis, start_embedded_postgres, terminate_with_parent
from common.launcher.services import SERVICE_PORTS
from common.local_llm import LOCAL_LLM_PORT, llama_server_command
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
    commands.add_parser("migrate", help="apply database migrations")
    llm = commands.add_parser("local-llm", help="serve the bundled SmolLM2 model (OpenAI-compatible, for `local`)")
    llm.add_argument("--host", default="127.0.0.1")
    llm.add_argument("--port", type=int, default=LOCAL_LLM_PORT)
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(dest="tenant_command", required=True)
    create = tenant.add_parser("create", help="create a tenant and print its first API key (shown once)")
    create.add_argument("--name", required=True)
    create.add_argument("--tier", default="free", choices=[t.value for t in Tier])
    create.add_argument("--json", action="store_true", help="print JSON")
    create.add_argument("--home", type=Path, default=Path(".nooble4"), help="embedded database home")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        asyncio.run(migrate(CommonSettings()))
        print("migrations applied")
        return 0
    if args.command == "local-llm":
        command = llama_server_command(args.port, args.host)
        os.execv(command[0], command)
    if args.command == "tenant":
        if not os.environ.get("NOOBLE4_DATABASE_URL"):  # the same embedded database `nooble4 up` uses
            os.environ["NOOBLE4_DATABASE_URL"] = start_embedded_postgres(args.home.resolve() / "pgdata")
        return asyncio.run(create_tenant(args.name, Tier(args.tier), args.json))
    return Platform(args.home, args.port_offset, args.only or sorted(SERVICE_PORTS)).run(args.ready_timeout)


async def create_tenant(name: str, tier: Tier, as_json: bool) -> int:
    # The management service owns tenants; the admin command uses its code directly on the database.
    from agent_management_service.services.tenants import create_tenant as create

    settings = CommonSettings()
    await migrate(settings)
    engine = create_engine(settings)
    try:
        tenant, key = await create(engine, name, tier)
    finally:
        await engine.dispose()
    if as_json:
        print(
            json.dumps(
                {
                    "tenant_id": tenant.id,
                    "name": tenant.name,
                    "tier": tenant.tier.value,
                    "api_key": key.api_key,
                    "key_id": key.id,
                }
            )
        )
    else:
        print(f"tenant {tenant.name} ({tenant.tier.value}): {tenant.id}")
        print(f"API key (shown once): {key.api_key}")
    return 0


class Platform:
    def __init__(self, home: Path, port_offset: int, services: list[str]):
        self.home = home.resolve()
        self.ports = {name: SERVICE_PORTS[name] + port_offset for name in services}
        self.ready_urls = {name: f"http://127.0.0.1:{port}/ready" for name, port in self.ports.items()}
        self.local_llm_port = LOCAL_LLM_PORT + port_offset
        self.redis: EmbeddedRedis | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self._stop_signal: int | None = None

    def run(self, ready_timeout: float) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            self._prepare_stores()
            asyncio.run(migrate(CommonSettings()))
            self._start_local_llm()
            self._spawn_services()
            if not self._wait_ready(ready_timeout):
                return 1
            self._print_urls()
            return self._supervise()
        finally:
            self._stop_all()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._stop_signal = signum

    def _prepare_stores(self) -> None:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        if not os.environ.get("NOOBLE4_REDIS_URL"):
            self.redis = EmbeddedRedis(self.home / "redis").start()
            os.environ["NOOBLE4_REDIS_URL"] = self.redis.url
            print(f"embedded Redis      {self.redis.url}")
        if not os.environ.get("NOOBLE4_DATABASE_URL"):
            os.environ["NOOBLE4_DATABASE_URL"] = start_embedded_postgres(self.home / "pgdata")
            print(f"embedded PostgreSQL {self.home / 'pgdata'}")

    def _start_local_llm(self) -> None:
        """The `local` chat provider's server, unless tests use the scripted model or a server is configured."""
        if os.environ.get("NOOBLE4_LOCAL_CHAT_MODEL") == "scripted" or os.environ.get("NOOBLE4_LOCAL_LLM_BASE_URL"):
            return
        if "agent_execution_service" not in self.ports:
            return
        try:
            command = llama_server_command(self.local_llm_port)
        except FileNotFoundError as exc:  # e.g. installed with plain pip: the rest of the platform still runs
            print(f"local LLM not started ({exc}); agents on the local provider will get llm_unavailable")
            return
        self._spawn("local_llm", command)
        base = f"http://127.0.0.1:{self.local_llm_port}"
        self.ready_urls["local_llm"] = f"{base}/v1/models"
        os.environ["NOOBLE4_LOCAL_LLM_BASE_URL"] = f"{base}/v1"

    def _spawn_services(self) -> None:
        for name, port in self.ports.items():
            self._spawn(name, [sys.executable, "-m", name, "--port", str(port)])

    def _spawn(self, name: str, command: list[str]) -> None:
        log_file = (self.home / "logs" / f"{name}.log").open("ab")
        self.children[name] = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
            start_new_session=True,  # Ctrl-C reaches the launcher only; it stops services in order
            preexec_fn=terminate_with_parent,
        )

    def _wait_ready(self, timeout: float) -> bool:
        waiting = dict(self.ready_urls)
        give_up_at = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as http:
            while waiting:
                for name, url in list(waiting.items()):
                    if self.children[name].poll() is not None:
                        print(
                            f"{name} exited with {self.children[name].returncode}; "
                            f"see {self.home / 'logs' / (name + '.log')}",
                            file=sys.stderr,
                        )
                        return False
                    try:
                        if http.get(url).status_code == 200:
                            del waiting[name]
                    except httpx.HTTPError:
                        pass
                if self._stop_signal is not None:
                    return False
                if time.monotonic() > give_up_at:
                    print(f"not ready after {timeout:g} s: {', '.join(waiting)}", file=sys.stderr)
                    return False
                time.sleep(0.1)
        return True

    def _print_urls(self) -> None:
        print("Nooble4 is ready:")
        for name, port in sorted(self.ports.items(), key=lambda item: item[1]):
            print(f"  {name:<28} http://127.0.0.1:{port}   (docs: /docs, metrics: /metrics)")
        if "local_llm" in self.children:
            print(f"  {'local LLM (SmolLM2-135M)':<28} http://127.0.0.1:{self.local_llm_port}/v1")
        if orchestrator := self.ports.get("agent_orchestrator_service"):
            print(f"chat in the browser: http://127.0.0.1:{orchestrator}/")
            print(f"a tenant and its API key: nooble4 tenant create --name Acme --home {self.home}")
        print(f"logs: {self.home / 'logs'}   stop: Ctrl-C", flush=True)

    def _supervise(self) -> int:
        while self._stop_signal is None:
            for name, child in self.children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping the platform", file=sys.stderr)
                    return 1
            time.sleep(0.2)
        print("stopping...", flush=True)
        return 0

    def _stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + CommonSettings().shutdown_grace_s + 5
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        if self.redis:
            self.redis.stop()
        # the embedded PostgreSQL stops itself at exit (pgserver cleanup_mode="stop")


if __name__ == "__main__":
    sys.exit(main())
