"""Fixtures for the Fedify interop tests: a TLS certificate, node's environment, copnet over TLS.

Fedify always resolves a fediverse handle with WebFinger over https, so copnet runs behind TLS
here, with a throwaway self-signed certificate that the node processes trust through
NODE_EXTRA_CA_CERTS.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Tls:
    """A self-signed certificate for 127.0.0.1 and the server context that uses it."""

    cert_file: Path
    server_context: ssl.SSLContext


@dataclass
class RunningCopnet:
    """A copnet serving real TCP (over TLS) on loopback."""

    app: web.Application
    url: str

    async def settle(self, rounds: int = 10) -> None:
        """Run the intake and delivery workers until both have nothing due (no sleeping)."""
        from server.appkeys import DELIVERY, INTAKE

        for _ in range(rounds):
            handled = await self.app[INTAKE].run_once() + await self.app[DELIVERY].run_once()
            if not handled:
                return
        raise AssertionError(f"copnet's queues did not settle:\n{await self.queues()}")

    async def queues(self) -> str:
        """What copnet received and sent, with states and errors, for failure messages."""
        from sqlalchemy import select

        from models.outgoing import Delivery, OutgoingActivity
        from models.received import ReceivedActivity
        from server.appkeys import SESSIONS

        lines = []
        async with self.app[SESSIONS]() as session:
            received = select(ReceivedActivity).order_by(ReceivedActivity.id)
            for row in await session.scalars(received):
                lines.append(
                    f"received {row.type} {row.ap_id} via {row.inbox}: {row.state} "
                    f"(attempts {row.attempts}) {row.last_error}"
                )
            query = (
                select(OutgoingActivity, Delivery)
                .join(Delivery, Delivery.activity_id == OutgoingActivity.id)
                .order_by(Delivery.id)
            )
            for activity, delivery in await session.execute(query):
                lines.append(
                    f"sent {activity.type} {activity.ap_id} -> {delivery.inbox_url}: "
                    f"{delivery.state} (status {delivery.last_status}) {delivery.last_error}"
                )
        return "\n".join(lines) or "(nothing received or sent)"


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "copnet interop 127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("interop-tls")
    cert_file = directory / "cert.pem"
    key_file = directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return Tls(cert_file=cert_file, server_context=context)


@pytest.fixture
def node_env(tls: Tls) -> dict[str, str]:
    """Environment for node scripts: trust copnet's certificate, no colours."""
    return {**os.environ, "NODE_EXTRA_CA_CERTS": str(tls.cert_file), "NO_COLOR": "1"}


@pytest.fixture
async def start_copnet(aiohttp_server, database_url: str, tls: Tls):
    """Start copnet on a free loopback port over TLS; returns a RunningCopnet."""
    from server.app import create_app
    from tests.support.instances import free_port, settings_for

    async def start(**settings) -> RunningCopnet:
        port = free_port()
        url = f"https://127.0.0.1:{port}"
        app = create_app(settings_for(database_url, url=url, **settings))
        await aiohttp_server(app, port=port, ssl=tls.server_context)
        return RunningCopnet(app=app, url=url)

    return start
