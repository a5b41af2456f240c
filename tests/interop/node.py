"""Running the node scripts of tests/interop: one-shot commands and READY-announcing servers."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.interop.setup import NODE_MODULES, node_problem

HERE = Path(__file__).resolve().parent
NODE_TIMEOUT = 60.0  # a whole script run, or a server's start-up
LOG_TIMEOUT = 10.0  # a line a running server is about to log
STDERR_TAIL = 20_000

_node_problem = functools.cache(node_problem)


def require_fedify() -> None:
    """Fail the test (never skip it) when node or the Fedify packages are not installed."""
    problem = _node_problem()
    if problem is not None:
        pytest.fail(f"interop tests need node: {problem}", pytrace=False)
    if not (NODE_MODULES / "@fedify" / "fedify").is_dir():
        pytest.fail(
            f"Fedify is not installed in {NODE_MODULES}: run `python -m tests.interop.setup`",
            pytrace=False,
        )


async def run_node(script: str, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run a node script from tests/interop to completion; (returncode, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(HERE / script),
        *args,
        cwd=HERE,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(NODE_TIMEOUT):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
        stderr += f"\n[killed: {script} ran longer than {NODE_TIMEOUT:g} s]".encode()
    assert process.returncode is not None
    err = stderr.decode(errors="replace")
    # Shown by pytest when the test fails, whichever assertion fails.
    print(f"--- {script} stderr (exit code {process.returncode}) ---\n{err[-STDERR_TAIL:]}")
    return process.returncode, stdout.decode(errors="replace"), err


class NodeServer:
    """A long-running node script: waits for READY, keeps its stderr, kills it on exit."""

    # Subclasses that talk to the script set this to asyncio.subprocess.PIPE.
    stdin: int | None = None

    def __init__(self, script: str, *args: str, env: dict[str, str]) -> None:
        self.script = script
        self.args = args
        self.env = env
        self._stderr_chunks: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._new_output = asyncio.Condition()

    @property
    def stderr(self) -> str:
        return "".join(self._stderr_chunks)[-STDERR_TAIL:]

    async def __aenter__(self) -> NodeServer:
        self._process = await asyncio.create_subprocess_exec(
            "node",
            str(HERE / self.script),
            *self.args,
            cwd=HERE,
            env=self.env,
            stdin=self.stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read_stderr())
        try:
            await self._wait_ready()
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._stop()

    async def _wait_ready(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        try:
            async with asyncio.timeout(NODE_TIMEOUT):
                while True:
                    line = await self._process.stdout.readline()
                    if line.strip() == b"READY":
                        return
                    if not line:  # the script ended before it was ready
                        await self._process.wait()
                        break
        except TimeoutError:
            pass
        await self._drain_stderr()
        code = self._process.returncode
        why = f"exited {code}" if code is not None else f"ran {NODE_TIMEOUT:g} s"
        raise AssertionError(
            f"{self.script} {why} without printing READY; its stderr:\n{self.stderr}"
        )

    async def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        # Chunks, not lines: a log line longer than the stream's line limit must not stop us.
        while chunk := await self._process.stderr.read(65536):
            async with self._new_output:
                self._stderr_chunks.append(chunk.decode(errors="replace"))
                self._new_output.notify_all()

    async def _drain_stderr(self) -> None:
        if self._reader is not None:
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(self._reader)
            except (TimeoutError, OSError):
                pass

    async def wait_for_stderr(self, text: str) -> str:
        """The first complete stderr line containing `text`, waiting for it to be written."""
        try:
            async with asyncio.timeout(LOG_TIMEOUT):
                async with self._new_output:
                    while True:
                        for line in "".join(self._stderr_chunks).splitlines(keepends=True):
                            if text in line and line.endswith("\n"):
                                return line
                        await self._new_output.wait()
        except TimeoutError:
            raise AssertionError(
                f"{self.script} did not log {text!r} within {LOG_TIMEOUT:g} s; its stderr:\n"
                f"{self.stderr}"
            ) from None

    async def _stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        await self._drain_stderr()
        # Shown by pytest when the test fails.
        print(f"--- {self.script} stderr ---\n{self.stderr}")


class NodeAgent(NodeServer):
    """A node server driven over stdin (JSON commands) that reports events on stdout (JSON lines).

    `expect()` waits for an event without sleeping: between looks at the events it runs a step
    the test supplies (e.g. copnet's workers) that is what makes the node side act, then waits
    for the script's next line for at most `STEP_TIMEOUT` before running the step again.
    """

    stdin = asyncio.subprocess.PIPE
    STEP_TIMEOUT = 1.0
    FAILURES = ("error", "inbox-error")

    def __init__(self, script: str, *args: str, env: dict[str, str]) -> None:
        super().__init__(script, *args, env=env)
        self.events: list[dict] = []
        self._taken: set[int] = set()
        self._stdout_done = False
        self._new_event = asyncio.Condition()
        self._events_reader: asyncio.Task | None = None

    async def __aenter__(self) -> NodeAgent:
        await super().__aenter__()
        self._events_reader = asyncio.create_task(self._read_events())
        return self

    async def __aexit__(self, *exc_info) -> None:
        await super().__aexit__(*exc_info)
        if self._events_reader is not None:
            self._events_reader.cancel()
        print(f"--- {self.script} events ---\n" + "\n".join(json.dumps(e) for e in self.events))

    async def _read_events(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        while line := await self._process.stdout.readline():
            text = line.decode(errors="replace").strip()
            if not text:
                continue
            try:
                event = json.loads(text)
            except json.JSONDecodeError:
                event = {"event": "unparsed", "line": text}
            async with self._new_event:
                self.events.append(event)
                self._new_event.notify_all()
        async with self._new_event:
            self._stdout_done = True
            self._new_event.notify_all()

    async def send(self, command: dict) -> None:
        """Write one command line to the script's stdin."""
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(json.dumps(command).encode() + b"\n")
        await self._process.stdin.drain()

    def untaken(self, event: str) -> list[dict]:
        """Events of this kind that no expect() has returned yet."""
        return [
            e for i, e in enumerate(self.events) if i not in self._taken and e.get("event") == event
        ]

    async def expect(
        self,
        event: str,
        *,
        step: Callable[[], Awaitable[object]] | None = None,
        explain: Callable[[], Awaitable[str]] | None = None,
        within: float = LOG_TIMEOUT,
    ) -> dict:
        """The next event of this kind, running `step` until it comes; fails on error events."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for index, found in enumerate(self.events):
                if index in self._taken:
                    continue
                if found.get("event") == event:
                    self._taken.add(index)
                    return found
                if found.get("event") in self.FAILURES:
                    self._taken.add(index)
                    await self._fail(f"reported {json.dumps(found)}", explain)
            if self._stdout_done:
                await self._fail(f"ended before reporting {event!r}", explain)
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self._fail(f"did not report {event!r} within {within:g} s", explain)
            seen = len(self.events)
            if step is not None:
                await step()
            async with self._new_event:
                try:
                    async with asyncio.timeout(min(remaining, self.STEP_TIMEOUT)):
                        await self._new_event.wait_for(
                            lambda seen=seen: len(self.events) > seen or self._stdout_done
                        )
                except TimeoutError:
                    pass

    async def _fail(self, what: str, explain: Callable[[], Awaitable[str]] | None) -> None:
        extra = f"\n{await explain()}" if explain is not None else ""
        events = "\n".join(json.dumps(e) for e in self.events)
        raise AssertionError(
            f"{self.script} {what}{extra}\nits events:\n{events}\nits stderr:\n{self.stderr}"
        )
