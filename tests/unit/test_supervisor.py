"""The launcher's restart policy: at once after a child that had been running, backing off while it keeps
dying quickly, a crash loop reported, and why it exited in words."""

import signal
from pathlib import Path

from common.launcher.supervisor import Child, Supervisor, exit_reason


def test_restart_delays_back_off_only_while_a_child_keeps_dying_quickly(tmp_path: Path, capsys) -> None:
    supervisor = Supervisor(tmp_path / "status.json", dict)
    child = Child("svc", ["true"], tmp_path / "svc.log")
    delays = []
    now = 1_000.0
    for _ in range(6):  # dies 1 s after each start
        child.started_at = now - 1
        supervisor._schedule_restart(child, -signal.SIGKILL, now)
        assert child.restart_at is not None
        delays.append(child.restart_at - now)
        now += delays[-1] + 1
    assert delays == [0.5, 1, 2, 4, 8, 16]
    assert child.state == "crash_loop" and "CRASH LOOP" in capsys.readouterr().err
    child.started_at = now - 30  # ran fine for 30 s, then was killed: back at once
    supervisor._schedule_restart(child, -signal.SIGKILL, now)
    assert (
        child.restart_at is not None
        and child.restart_at - now == 0.5
        and child.state == "restarting"
        and child.restarts == 7
    )
    assert child.last_exit == "killed by SIGKILL"


def test_exit_reasons_are_words() -> None:
    assert exit_reason(-signal.SIGILL) == "killed by SIGILL"
    assert exit_reason(3) == "exit code 3"
