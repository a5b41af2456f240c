"""A real SMTP server in the test process (aiosmtpd) that keeps every message it accepts.

Modes: plain (a local relay), STARTTLS (offered, or required, with login), implicit TLS
(smtps), and a server that refuses every message, or chosen recipients, with a reply given by
the test. The TLS modes use a
throwaway self-signed certificate for 127.0.0.1 made with the cryptography package; copnet
trusts it through COPNET_SMTP_CA_FILE.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.instances import free_port

USER, PASSWORD = "copnet", "relay secret"


@dataclass
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return body.get_content()


@dataclass
class Inbox:
    """What the server handler keeps."""

    messages: list[Received] = field(default_factory=list)
    refuse: str | None = None  # an SMTP reply to give every DATA instead of accepting
    # address -> the SMTP reply its RCPT TO gets instead of 250 (a 550 "no such user", say)
    refuse_recipients: dict[str, str] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        if self.refuse:
            return self.refuse
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "copnet test relay")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay.pem", directory / "relay.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _authenticator(inbox: Inbox):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USER, PASSWORD)
        if ok:
            inbox.logins.append(USER)
        # handled=False: aiosmtpd answers a failed login with 535 (else it answers nothing).
        return AuthResult(success=ok, handled=False)

    return check


@dataclass
class Relay:
    """A running test SMTP server and the COPNET_SMTP_URL that reaches it."""

    controller: Controller
    inbox: Inbox
    url: str
    ca_file: str = ""

    @property
    def messages(self) -> list[Received]:
        return self.inbox.messages

    def stop(self) -> None:
        self.controller.stop()


def start_relay(mode: str = "plain", directory: Path | None = None) -> Relay:
    """Start a relay: `plain`, `starttls` (required, with login), `smtps` (with login),
    `no-tls` (offers no STARTTLS at all)."""
    inbox = Inbox()
    port = free_port()
    options: dict = {"hostname": "127.0.0.1", "port": port}
    ca_file = ""
    if mode in ("starttls", "smtps"):
        assert directory is not None
        cert, key = make_certificate(directory)
        ca_file = str(cert)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options.update(authenticator=_authenticator(inbox))
        if mode == "starttls":
            options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
        else:
            # aiosmtpd's auth_require_tls only knows STARTTLS; this socket is TLS throughout.
            options.update(ssl_context=context, auth_require_tls=False)
    controller = Controller(inbox, **options)
    controller.start()
    credentials = f"{USER}:{PASSWORD.replace(' ', '%20')}@" if ca_file else ""
    if mode == "smtps":
        url = f"smtps://{credentials}127.0.0.1:{port}"
    elif mode == "starttls":
        url = f"smtp://{credentials}127.0.0.1:{port}"
    elif mode == "no-tls":
        url = f"smtp://127.0.0.1:{port}"  # STARTTLS required by copnet, not offered here
    else:
        url = f"smtp://127.0.0.1:{port}?starttls=off"
    return Relay(controller=controller, inbox=inbox, url=url, ca_file=ca_file)


async def run_jobs(app, rounds: int = 20) -> None:
    """Run the app's scheduler until no job is due: requests queue jobs that queue mails."""
    from server.appkeys import SCHEDULER

    for _ in range(rounds):
        if not await app[SCHEDULER].run_once():
            return
    raise AssertionError("scheduled jobs never settled")
