"""What to tell an admin when copnet cannot listen on a port."""

from __future__ import annotations

import errno
import socket


class CannotListen(RuntimeError):
    """Binding a listening socket failed; the message says what to change."""


def listen_problem(exc: OSError, host: str, port: int, setting: str, host_setting: str) -> str:
    """One line naming the problem with HOST:PORT and the setting that fixes it."""
    where = f"port {port} on {host}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where} is already in use: stop the other server or set {setting}"
    if exc.errno == errno.EACCES or isinstance(exc, PermissionError):
        hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" if port < 1024 else ""
        return f"permission denied to listen on {where}{hint}: set {setting} to a higher port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: set {host_setting}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the listening host {host!r}: set {host_setting}"
    return f"cannot listen on {where}: {exc.strerror or exc}"
