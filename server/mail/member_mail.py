"""A non-essential mail to one member: the templates' shared context (with the member's own
one-click unsubscribe link) and the rendered mail."""

from __future__ import annotations

from typing import Any

from models.mail_recipients import Recipient
from server.mail.address import valid_address
from server.mail.compose import render
from server.mail.message import Mail
from server.mail.unsubscribe import list_name_for_people, signature
from server.settings import Settings
from server.urls import Urls


def common_context(
    settings: Settings, urls: Urls, recipient: Recipient, list_name: str
) -> dict[str, Any]:
    """What every non-essential mail's templates need: who, and how to stop it."""
    link = urls.unsubscribe(
        recipient.account_id,
        list_name,
        signature(recipient.unsubscribe_key, recipient.account_id, list_name),
    )
    return {
        "settings": settings,
        "name": recipient.display_name or recipient.name,
        "unsubscribe_url": link,
        "list_label": list_name_for_people(list_name),
        "preferences_url": urls.mail_settings(),
    }


def compose_mail(recipient: Recipient, subject: str, template: str, context: dict) -> Mail | None:
    """The rendered mail; None for an address stored before addresses were checked strictly."""
    if not valid_address(recipient.email):
        return None
    text, html = render(template, context)
    return Mail(
        to=recipient.email,
        to_name=recipient.display_name or recipient.name,
        subject=subject,
        text=text,
        html=html,
        unsubscribe_url=context["unsubscribe_url"],
        list_id=context["list_id"],
    )
