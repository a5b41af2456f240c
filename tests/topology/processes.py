"""Real OS processes for the topology test: started with a log file each, waited on with bounds.

Every wait is bounded and fails with the logs of every process, so a hung or crashed process
explains itself; a process that exits while the test waits for something fails the wait at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

LOG_TAIL = 6000  # characters of each process's log in a failure message
STOP_TIMEOUT = 5.0
POLL = 0.2


class Service:
    """A long-running process whose stdout and stderr go to `logdir/NAME.log`."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str], logdir: Path):
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.log_path = logdir / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.killed_on_purpose = False

    def start(self) -> Service:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on pytest does not reach it first
            )
        return self

    @property
    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def kill(self) -> int:
        """SIGKILL: the process gets no chance to finish anything; returns its exit code."""
        assert self.process is not None
        self.killed_on_purpose = True
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)

    def log(self, tail: int | None = LOG_TAIL) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return text if tail is None else text[-tail:]


class Services:
    """The processes of one topology: their logs, unexpected exits, and shutdown."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.all: list[Service] = []

    def start(self, name: str, argv: Sequence[str], *, env: dict[str, str]) -> Service:
        service = Service(name, argv, env=env, logdir=self.logdir)
        self.all.append(service)
        return service.start()

    def logs(self) -> str:
        parts = []
        for service in self.all:
            state = "running" if service.exit_code is None else f"exited {service.exit_code}"
            parts.append(f"--- {service.name} ({state}): {service.log_path} ---\n{service.log()}")
        return "\n".join(parts)

    def died(self) -> Service | None:
        """A process that exited although nobody killed it."""
        for service in self.all:
            if service.exit_code is not None and not service.killed_on_purpose:
                return service
        return None

    def stop_all(self) -> None:
        """SIGTERM to all at once (they shut down in parallel), then wait for each."""
        for service in self.all:
            if service.process is not None and service.process.poll() is None:
                service.process.terminate()
        for service in reversed(self.all):
            service.stop()

    async def wait_for(
        self, what: str, check: Callable[[], Awaitable[bool]], *, within: float
    ) -> None:
        """Poll `check` until it is true; fail with every log on timeout or a crash."""
        deadline = time.monotonic() + within
        while True:
            if await check():
                return
            dead = self.died()
            if dead is not None:
                raise AssertionError(
                    f"{dead.name} exited with code {dead.exit_code} while waiting for {what}\n"
                    f"{self.logs()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {within:g} s\n{self.logs()}")
            await asyncio.sleep(POLL)


async def run_command(
    argv: Sequence[str], *, env: dict[str, str], stdin: str = "", within: float = 60.0
) -> str:
    """Run a one-shot command to completion; its output, or a failure showing it."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(within):
            output, _ = await process.communicate(stdin.encode())
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        raise AssertionError(
            f"`{' '.join(argv)}` ran longer than {within:g} s:\n{output.decode(errors='replace')}"
        ) from None
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise AssertionError(f"`{' '.join(argv)}` exited {process.returncode}:\n{text}")
    return text


def clean_environment() -> dict[str, str]:
    """This process's environment without any copnet setting that could leak into the stack."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("COPNET_") and key != "DATABASE_URL"
    }
