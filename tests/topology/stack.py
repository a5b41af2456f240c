"""The production topology as real processes on loopback.

Caddy (deploy/caddy/Caddyfile, with its internal CA for https://localhost:PORT) in front of two
`copnet serve` processes without workers, and two `copnet worker` processes, on one PostgreSQL
database that `copnet migrate` set up: the commands the systemd units and docker/ run.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.support.instances import free_port
from tests.topology.processes import Service, Services, clean_environment, run_command

REPO = Path(__file__).resolve().parents[2]
CADDYFILE = REPO / "deploy" / "caddy" / "Caddyfile"
READY_PATH = "/readyz"
START_TIMEOUT = 30.0
METRICS_TOKEN = "topology-test-metrics"
HEALTH_WAIT = 10.0  # deploy/caddy/Caddyfile checks /healthz every 3 s
CADDY_HINT = "install Caddy 2.6+ (Debian: apt-get install caddy; `.ci/run` does it for you)"

# Test-only global options around the shipped site block: no admin endpoint, state in a temp
# folder, free ports, certificates from Caddy's own CA (never trusted system-wide), loopback.
PROXY_CONFIG = """\
{{
\tadmin off
\tstorage file_system {storage}
\thttp_port {http_port}
\thttps_port {https_port}
\tauto_https disable_redirects
\tlocal_certs
\tskip_install_trust
\tdefault_bind 127.0.0.1 [::1]
}}
import {site}
"""


def copnet_command() -> str:
    """The `copnet` console script of the Python running the tests."""
    script = Path(sys.executable).with_name("copnet")
    if not script.exists():
        pytest.fail(f"{script} is missing: install copnet (`make test` does it)", pytrace=False)
    return str(script)


def caddy_command() -> str:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.fail(
            f"the topology test needs caddy, which is not on PATH: {CADDY_HINT}", pytrace=False
        )
    return caddy


@dataclass
class Stack:
    """The running topology: its public URL, the CA its certificate chains to, its processes."""

    url: str
    ca_file: Path
    env: dict[str, str]
    services: Services
    web: list[Service] = field(default_factory=list)
    workers: list[Service] = field(default_factory=list)
    web_ports: list[int] = field(default_factory=list)
    proxy: Service | None = None

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def session(self, **kwargs) -> aiohttp.ClientSession:
        """An HTTP client that trusts the proxy's CA (and keeps cookies for localhost)."""
        connector = aiohttp.TCPConnector(ssl=self.ssl_context())
        return aiohttp.ClientSession(connector=connector, **kwargs)

    async def kill_web(self, web: Service) -> int:
        """SIGKILL a web process, then wait until the proxy's health check has found it down.

        Until then Caddy 2.6 still picks it for every other request: a GET is retried on the
        other process, but a POST gets a 502 (Caddy cannot replay its body, see
        deploy/caddy/Caddyfile), which a real sender retries and the test's peer does not.
        """
        assert self.proxy is not None
        proxy = self.proxy
        port = self.web_ports[self.web.index(web)]
        # Caddy logs each failed active health check with the upstream's address.
        failed_check = f'"host":"127.0.0.1:{port}"'
        seen = proxy.log(tail=None).count(failed_check)
        code = web.kill()

        async def noticed() -> bool:
            return proxy.log(tail=None).count(failed_check) > seen

        await self.services.wait_for(
            f"the proxy's health check to find {web.name} down", noticed, within=HEALTH_WAIT
        )
        return code

    async def responses(self, web: Service, route: str) -> int:
        """How many 200 responses for `route` this web process has counted (its /metrics)."""
        port = self.web_ports[self.web.index(web)]
        headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics", headers=headers) as response,
        ):
            assert response.status == 200, f"{web.name} /metrics: {response.status}"
            text = await response.text()
        total = 0
        for labels, value in re.findall(
            r"^copnet_http_responses_total\{([^}]*)\} (\S+)$", text, re.M
        ):
            if f'route="{route}"' in labels and 'status="200"' in labels:
                total += int(float(value))
        return total

    async def copnet(self, *args: str, stdin: str = "") -> str:
        """Run a one-shot `copnet` command against this topology's database."""
        return await run_command([copnet_command(), *args], env=self.env, stdin=stdin)


async def _answers(url: str, *, ssl_context: ssl.SSLContext | None = None) -> bool:
    timeout = aiohttp.ClientTimeout(total=2)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, ssl=ssl_context if ssl_context is not None else False) as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def start_stack(workdir: Path, database_url: str) -> Stack:
    """Migrate, then start two web processes, two workers and Caddy; wait until all are ready."""
    copnet, caddy = copnet_command(), caddy_command()
    logdir = workdir / "logs"
    logdir.mkdir()
    https_port = free_port()
    url = f"https://localhost:{https_port}"
    env = {
        **clean_environment(),
        "COPNET_URL": url,
        "DATABASE_URL": database_url,
        "COPNET_MEDIA_DIR": str(workdir / "media"),
        # The Fedify peer listens on 127.0.0.1; production keeps this off.
        "COPNET_ALLOW_PRIVATE_ADDRESSES": "true",
        "PYTHONUNBUFFERED": "1",
    }
    services = Services(logdir)
    stack = Stack(
        url=url,
        ca_file=workdir / "caddy" / "pki/authorities/local/root.crt",
        env=env,
        services=services,
    )
    await stack.copnet("migrate")

    web_ports = stack.web_ports = [free_port(), free_port()]
    web_env = {
        **env,
        "COPNET_RUN_WORKERS": "false",
        "COPNET_HOST": "127.0.0.1",
        # As in deploy/copnet.env.example: Caddy on this machine names the client.
        "COPNET_TRUSTED_PROXIES": "127.0.0.1,::1",
        "COPNET_METRICS_TOKEN": METRICS_TOKEN,
    }
    for number, port in enumerate(web_ports, 1):
        argv = [copnet, "serve", "--port", str(port)]
        stack.web.append(services.start(f"web{number}", argv, env=web_env))
    for number in (1, 2):
        stack.workers.append(services.start(f"worker{number}", [copnet, "worker"], env=env))
    try:
        for number, port in enumerate(web_ports, 1):
            await services.wait_for(
                f"web{number} to answer {READY_PATH}",
                lambda port=port: _answers(f"http://127.0.0.1:{port}{READY_PATH}"),
                within=START_TIMEOUT,
            )
        for worker in stack.workers:
            await services.wait_for(
                f"{worker.name} to start",
                lambda worker=worker: _logged(worker, " worker for "),
                within=START_TIMEOUT,
            )
        # Caddy starts last, as systemd orders it: its first health check finds the webs up.
        config = workdir / "Caddyfile"
        config.write_text(
            PROXY_CONFIG.format(
                storage=workdir / "caddy",
                http_port=free_port(),
                https_port=https_port,
                site=CADDYFILE,
            )
        )
        proxy_env = {
            **clean_environment(),
            "HOME": str(workdir),
            "XDG_CONFIG_HOME": str(workdir / "xdg-config"),
            "XDG_DATA_HOME": str(workdir / "xdg-data"),
            "COPNET_DOMAIN": url,
            "COPNET_UPSTREAMS": " ".join(f"127.0.0.1:{port}" for port in web_ports),
        }
        argv = [caddy, "run", "--config", str(config), "--adapter", "caddyfile"]
        stack.proxy = services.start("caddy", argv, env=proxy_env)
        await services.wait_for(
            f"the proxy's CA certificate at {stack.ca_file}",
            lambda: _exists(stack.ca_file),
            within=START_TIMEOUT,
        )
        await services.wait_for(
            f"{url}{READY_PATH} through the proxy",
            lambda: _answers(f"{url}{READY_PATH}", ssl_context=stack.ssl_context()),
            within=START_TIMEOUT,
        )
    except BaseException:
        services.stop_all()
        raise
    return stack


async def _logged(service: Service, text: str) -> bool:
    return text in service.log()


async def _exists(path: Path) -> bool:
    return await asyncio.to_thread(path.exists)
