"""The whole platform for benchmarks: `nooble4 up` on its own environment, key prefix and schema, with the
`local` provider served by the scripted model (so numbers are the platform's, not a model's)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.messaging import process_cpu_s
from common.database import create_engine
from common.launcher.embedded import EmbeddedRedis, start_embedded_postgres
from common.launcher.services import SERVICE_PORTS, free_port_offset
from common.models.tiers import Tier
from common.settings import CommonSettings

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:")), 0.0)


class BenchPlatform:
    """Uses NOOBLE4_REDIS_URL / NOOBLE4_DATABASE_URL when set, else embedded Redis and PostgreSQL."""

    def __init__(self, name: str, **extra_env: str):
        self.home = Path(tempfile.mkdtemp(prefix=f"nooble4-bench-{name}-"))
        self.extra_env = extra_env
        self.redis_server: EmbeddedRedis | None = None
        self.proc: subprocess.Popen[str] | None = None
        self.offset = free_port_offset()
        run = uuid.uuid4().hex[:8]
        self.redis_url = os.environ.get("NOOBLE4_REDIS_URL") or ""
        self.environment = f"devbench{run}"  # a dev* environment: the placeholder JWT secret is accepted
        self.schema = f"bench_{run}"
        self.settings: CommonSettings | None = None

    def __enter__(self) -> BenchPlatform:
        if not self.redis_url:
            self.redis_server = EmbeddedRedis(self.home / "redis").start()
            self.redis_url = self.redis_server.url
        database_url = os.environ.get("NOOBLE4_DATABASE_URL") or start_embedded_postgres(self.home / "pgdata")
        values = {
            "environment": self.environment,
            "redis_url": self.redis_url,
            "database_url": database_url,
            "database_schema": self.schema,
            "local_chat_model": "scripted",
            "log_level": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOOBLE4_")}
        env.update({f"NOOBLE4_{k.upper()}": v for k, v in values.items()} | self.extra_env)
        self.settings = CommonSettings(
            environment=self.environment, database_url=database_url, database_schema=self.schema
        )
        command = [sys.executable, "-m", "common.launcher.cli", "up", "--home", str(self.home / "platform")]
        self.proc = subprocess.Popen(
            [*command, "--port-offset", str(self.offset)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if "Nooble4 is ready" in line:
                return self
        self.__exit__()
        raise RuntimeError(f"the platform did not start; see {self.home / 'platform' / 'logs'}")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(60)
        if self.redis_server:
            self.redis_server.stop()

    def children(self) -> dict[str, list[int]]:
        """The processes the launcher started (services, local model), by name: their pids."""
        assert self.proc is not None
        found: dict[str, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != self.proc.pid:  # its parent's pid
                    continue
                command = (stat.parent / "cmdline").read_text().split("\0")
            except (OSError, IndexError, ValueError):  # the process ended meanwhile
                continue
            name = next((part for part in command if part.endswith("_service")), Path(command[0]).name)
            found.setdefault(name, []).append(int(stat.parent.name))
        return found

    def _summed(self, measure: Callable[[int], float]) -> dict[str, float]:
        """`measure` of each process the launcher started, summed by name (a process that ended is skipped)."""
        totals: dict[str, float] = {}
        for name, pids in self.children().items():
            for pid in pids:
                try:
                    totals[name] = totals.get(name, 0.0) + measure(pid)
                except (OSError, IndexError, ValueError):
                    continue
        return totals

    def service_cpu_s(self) -> dict[str, float]:
        """CPU seconds used so far by each process the launcher started, by name."""
        return self._summed(process_cpu_s)

    def service_rss_mb(self) -> dict[str, float]:
        """Resident memory of each process the launcher started, in MB, by name."""
        return self._summed(_rss_mb)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS[service] + self.offset}"

    async def new_tenant(self, tier: Tier = Tier.ENTERPRISE) -> str:
        """A tenant's API key (created with the management service's own code, as `nooble4 tenant create`)."""
        from agent_management_service.services.tenants import create_tenant

        assert self.settings is not None
        engine = create_engine(self.settings)
        try:
            _, key = await create_tenant(engine, f"bench-{uuid.uuid4().hex[:6]}", tier)
        finally:
            await engine.dispose()
        return key.api_key
