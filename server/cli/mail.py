"""`copnet mail test ADDRESS`: send one message now, to check the SMTP settings;
`copnet mail require-email [yes|no]`: print or set whether joining needs an address."""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiosmtplib

from models import mail_queries
from server.cli.commands import open_session
from server.mail.message import Mail, build_message
from server.mail.smtp_url import parse_smtp_url
from server.mail.transport import MailRefused, transport_for
from server.settings import Settings


def add_mail_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `mail test`."""
    mail = subparsers.add_parser("mail", help="e-mail: check the SMTP settings")
    actions = mail.add_subparsers(dest="action", metavar="ACTION", required=True)
    test = actions.add_parser(
        "test",
        help="send a test message now (not through the jobs queue) and say what happened",
    )
    test.add_argument("address", help="where to send it, e.g. you@your.domain")
    test.set_defaults(handler=send_test)
    require = actions.add_parser(
        "require-email", help="print or set whether joining needs an e-mail address"
    )
    require.add_argument("answer", nargs="?", choices=("yes", "no"))
    require.set_defaults(handler=lambda settings, args: asyncio.run(require_email(settings, args)))


async def require_email(settings: Settings, args: argparse.Namespace) -> int:
    """Print the setting, or change it (the admin page has the same switch)."""
    async with open_session(settings) as session:
        if args.answer is None:
            print("yes" if await mail_queries.email_required(session) else "no")
            return 0
        await mail_queries.set_email_required(session, args.answer == "yes")
        await session.commit()
    print(f"joining needs an e-mail address: {args.answer}")
    return 0


def send_test(settings: Settings, args: argparse.Namespace) -> int:
    """Send one message through the configured transport; 0 if the server accepted it."""
    try:
        mail = Mail(
            to=args.address.strip(),
            to_name="",
            subject=f"Test message from {settings.instance_name}",
            text=f"{settings.instance_name} ({settings.url}) can send mail.\n",
            html=f"<p>{settings.instance_name} can send mail.</p>",
        )
    except ValueError as problem:
        print(f"copnet: error: {problem}", file=sys.stderr)
        return 2
    message = build_message(mail, sender=settings.sender, domain=settings.base.host or "localhost")
    try:
        asyncio.run(transport_for(settings).send(message))
    except (aiosmtplib.SMTPException, MailRefused, OSError) as problem:
        where = parse_smtp_url(settings.smtp_url)
        print(
            f"copnet: error: {where.host}:{where.port} did not take the message: {problem}",
            file=sys.stderr,
        )
        return 1
    if not settings.mail_enabled:
        print("COPNET_SMTP_URL is not set: the message went to the log, not to a mail server.")
    else:
        print(f"sent to {mail.to} from {settings.sender}")
    return 0
