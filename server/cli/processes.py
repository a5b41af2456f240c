"""`copnet serve --processes N`: N web processes sharing one port (SO_REUSEPORT).

The command re-runs itself N times as `copnet serve --reuse-port`; the kernel spreads new
connections over the processes. What decides correctness is shared through the database
(sessions, the queues, the sign-in and sign-up rate limits in `rate_limit_hits`); what each
process keeps in memory is safe to keep: local names (never go stale), the federation policy
(reread every 5 seconds) and remote keys (reread every 5 minutes, or at once on a verified key
change). A process that stops stops the others, and the command exits with its status.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import subprocess
import sys
import time

MAX_PROCESSES = 64


def child_command(host: str, port: int) -> list[str]:
    """How one web process is started."""
    command = [sys.executable, "-m", "server.cli.main", "serve"]
    return [*command, "--host", host, "--port", str(port), "--reuse-port"]


def serve_processes(host: str, port: int, count: int) -> int:
    """Run `count` web processes on host:port until one stops or a signal arrives."""
    # This very program, with arguments built here (no shell, nothing from outside).
    children = [subprocess.Popen(child_command(host, port))]  # noqa: S603
    # The first process creates what a new database lacks (the instance actor...) before the
    # others start, so they do not race for it (SQLite would refuse one of them).
    if _wait_listening(children[0], host, port):
        children += [
            subprocess.Popen(child_command(host, port))  # noqa: S603
            for _ in range(count - 1)
        ]

    def stop_all(_signum=None, _frame=None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, stop_all) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.2)
        stop_all()
        codes = [child.wait() for child in children]
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    failed = [code for code in codes if code not in (0, -signal.SIGTERM)]
    return failed[0] if failed else 0


def _wait_listening(child: subprocess.Popen, host: str, port: int, timeout: float = 120) -> bool:
    """True once something accepts connections on host:port; False if `child` stopped."""
    target = _probe_address(host)
    deadline = time.monotonic() + timeout
    while child.poll() is None and time.monotonic() < deadline:
        try:
            with socket.create_connection((target, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return child.poll() is None


def _probe_address(host: str) -> str:
    """Where to knock to find a listener bound to `host` (any address: loopback)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "127.0.0.1"
    if address.is_unspecified:
        return "::1" if address.version == 6 else "127.0.0.1"
    return host
