"""Ports for the launcher, tests and benchmarks: always below the kernel's ephemeral range, so a port we
pick is never one the kernel may hand to an outgoing connection (which made binds fail at random)."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterable
from pathlib import Path

LOWEST_PICKED_PORT = 10_000


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections (Linux default 32768-60999)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, 60_999


def _bindable(ports: Iterable[int]) -> bool:
    try:
        for port in ports:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


def free_port_offset(ports: Iterable[int], step: int = 10) -> int:
    """An offset under which every port in `ports` is free and stays below the ephemeral range."""
    base = sorted(ports)
    ceiling = ephemeral_range()[0] - base[-1]
    floor = max(0, LOWEST_PICKED_PORT - base[0])
    for _ in range(100):
        offset = random.randrange(floor, ceiling, step)
        if _bindable(port + offset for port in base):
            return offset
    raise RuntimeError("no free port range below the ephemeral range")


def free_port() -> int:
    """One free port below the ephemeral range."""
    return free_port_offset([0], step=1)
