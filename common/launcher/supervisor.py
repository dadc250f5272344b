"""Keeps the launcher's children running: a child that exits is restarted with backoff, a crash loop is
reported, and the state of every child is written to `status.json` for `nooble4 status`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.launcher.embedded import terminate_with_parent

FIRST_RESTART_DELAY_S = 0.5
MAX_RESTART_DELAY_S = 30.0
STABLE_AFTER_S = 10.0  # a child that ran this long before exiting is restarted at once (backoff afresh)
CRASH_LOOP_WINDOW_S = 60.0
CRASH_LOOP_RESTARTS = 5  # quick deaths within CRASH_LOOP_WINDOW_S that count as a crash loop


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class Child:
    name: str
    command: list[str]
    log_path: Path
    url: str | None = None
    ready: Callable[[], bool] | None = None  # after a restart: may others rely on it again?
    process: subprocess.Popen[bytes] | None = None
    state: str = "stopped"  # starting | running | restarting | crash_loop | stopped
    restarts: int = 0
    recent_restarts: list[float] = field(default_factory=list)
    started_at: float = 0.0
    restart_at: float | None = None
    last_exit: str | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


class Supervisor:
    def __init__(self, status_path: Path, env: Callable[[], dict[str, str]]):
        self.status_path = status_path
        self.env = env
        self.children: dict[str, Child] = {}

    def add(self, child: Child) -> Child:
        self.children[child.name] = child
        self.start(child)
        return child

    def start(self, child: Child) -> None:
        log_file = child.log_path.open("ab")
        child.process = subprocess.Popen(
            child.command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=self.env(),
            start_new_session=True,  # Ctrl-C reaches the launcher only; it stops children in order
            preexec_fn=terminate_with_parent,
        )
        log_file.close()
        child.state = "starting" if child.restarts == 0 else "restarting"
        child.started_at = time.monotonic()
        child.restart_at = None
        self.write_status()

    def tick(self) -> None:
        """One supervision pass: note exits, schedule and perform restarts, mark children that are up."""
        now = time.monotonic()
        changed = False
        for child in self.children.values():
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self.start(child)
                continue
            assert child.process is not None
            returncode = child.process.poll()
            if returncode is None:
                if child.state in {"starting", "restarting", "crash_loop"} and (child.ready is None or child.ready()):
                    if child.state != "starting":
                        print(f"{child.name} is back (restart #{child.restarts})", flush=True)
                    child.state = "running"
                    changed = True
                continue
            self._schedule_restart(child, returncode, now)
            changed = True
        if changed:
            self.write_status()

    def _schedule_restart(self, child: Child, returncode: int, now: float) -> None:
        if now - child.started_at > STABLE_AFTER_S:
            child.recent_restarts.clear()
        child.recent_restarts = [t for t in child.recent_restarts if now - t < CRASH_LOOP_WINDOW_S]
        delay = min(MAX_RESTART_DELAY_S, FIRST_RESTART_DELAY_S * 2 ** len(child.recent_restarts))
        child.recent_restarts.append(now)
        child.restarts += 1
        child.last_exit = exit_reason(returncode)
        child.restart_at = now + delay
        looping = len(child.recent_restarts) >= CRASH_LOOP_RESTARTS
        child.state = "crash_loop" if looping else "restarting"
        warning = f"; CRASH LOOP: {len(child.recent_restarts)} restarts in {CRASH_LOOP_WINDOW_S:g} s" if looping else ""
        print(
            f"{child.name} exited ({child.last_exit}); restart #{child.restarts} in {delay:g} s{warning}; "
            f"see {child.log_path}",
            file=sys.stderr,
            flush=True,
        )

    def stop(self, names: list[str], grace_s: float) -> None:
        """SIGTERM `names` together, wait up to `grace_s`, then SIGKILL what is left."""
        stopping = [self.children[n] for n in names if n in self.children]
        for child in stopping:
            child.restart_at = None
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in stopping:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            child.state = "stopped"
        self.write_status()

    def write_status(self) -> None:
        doc = {
            "launcher_pid": os.getpid(),
            "updated_at": time.time(),
            "children": {
                child.name: {
                    "state": child.state,
                    "pid": child.pid,
                    "restarts": child.restarts,
                    "last_exit": child.last_exit,
                    "url": child.url,
                    "log": str(child.log_path),
                }
                for child in self.children.values()
            },
        }
        tmp = self.status_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2))
        tmp.replace(self.status_path)


def print_status(home: Path) -> int:
    """`nooble4 status`: each child's state, restarts and URL, from the running launcher's status file."""
    path = home / "status.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        print(f"no platform status under {home} (is `nooble4 up --home {home}` running?)", file=sys.stderr)
        return 1
    alive = _pid_alive(int(doc["launcher_pid"]))
    print(f"launcher pid {doc['launcher_pid']}: {'running' if alive else 'NOT RUNNING (stale status)'}")
    print(f"{'child':<28} {'state':<11} {'pid':>7} {'restarts':>8}  {'last exit':<22} url")
    for name, child in doc["children"].items():
        print(
            f"{name:<28} {child['state']:<11} {child['pid'] or '-':>7} {child['restarts']:>8}  "
            f"{child['last_exit'] or '-':<22} {child['url'] or '-'}"
        )
    healthy = alive and all(c["state"] == "running" for c in doc["children"].values())
    return 0 if healthy else 1


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
