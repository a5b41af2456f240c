"""Sending mail: the jobs worker, a real SMTP server (aiosmtpd) in this process, TLS, retries.

The relay is real: copnet connects over TCP, speaks SMTP (STARTTLS and implicit TLS with a
throwaway certificate, LOGIN), and the tests read the messages the relay received.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import jobs
from models.base import utcnow
from server.appkeys import SCHEDULER, WRITE_SESSIONS
from server.cli.main import main
from server.mail.message import Mail
from server.mail.outbox import MAIL_SEND, queue_mail
from server.settings import load_settings
from server.settings_validation import SettingsError
from tests.server.test_auth import start_web
from tests.support.instances import free_port
from tests.support.smtp import start_relay


def a_mail(**changes) -> Mail:
    fields = {
        "to": "sam@ward.example",
        "to_name": "Sam Okafor",
        "subject": "Hello from copnet",
        "text": "Plain words, and a link: https://copnet.test/t/1",
        "html": "<p>Rich <strong>words</strong></p>",
    }
    fields.update(changes)
    return Mail(**fields)


@pytest.fixture
def relays(tmp_path):
    started = []

    def start(mode: str = "plain"):
        relay = start_relay(mode, tmp_path)
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()


async def app_for(aiohttp_server, aiohttp_client, database_url, relay=None, **settings):
    if relay is not None:
        settings["smtp_url"] = relay.url
        if relay.ca_file:
            settings["smtp_ca_file"] = relay.ca_file
    web = await start_web(
        aiohttp_server,
        aiohttp_client,
        database_url,
        mail_from="Copnet <noreply@copnet.test>",
        **settings,
    )
    return web.app


async def queue(app, mail: Mail) -> None:
    async with app[WRITE_SESSIONS]() as session:
        await queue_mail(session, mail, now=utcnow())
        await session.commit()


async def mail_jobs(app) -> list[jobs.Job]:
    async with app[WRITE_SESSIONS]() as session:
        return list(await session.scalars(select(jobs.Job).where(jobs.Job.kind == MAIL_SEND)))


async def test_a_queued_mail_is_sent_with_plain_text_and_html_parts(
    aiohttp_server, aiohttp_client, database_url, relays
):
    relay = relays("plain")
    app = await app_for(aiohttp_server, aiohttp_client, database_url, relay)
    await queue(app, a_mail())
    assert relay.messages == []  # queued only: nothing waits on SMTP
    assert await app[SCHEDULER].run_once() == 1

    [received] = relay.messages
    assert received.rcpt_tos == ["sam@ward.example"]
    assert received.mail_from == "noreply@copnet.test"
    message = received.message
    assert message["From"] == "Copnet <noreply@copnet.test>"
    assert message["To"] == "Sam Okafor <sam@ward.example>"
    assert message["Subject"] == "Hello from copnet"
    assert message["Message-ID"].endswith("@copnet.test>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert "https://copnet.test/t/1" in received.part("plain")
    assert "<strong>words</strong>" in received.part("html")
    assert message["List-Unsubscribe"] is None  # essential mail has none

    [job] = await mail_jobs(app)
    assert job.state == jobs.DONE
    assert job.payload == "{}"  # the mail's text does not stay in the database


async def test_one_click_unsubscribe_headers_follow_rfc_8058(
    aiohttp_server, aiohttp_client, database_url, relays
):
    relay = relays("plain")
    app = await app_for(aiohttp_server, aiohttp_client, database_url, relay)
    link = "https://copnet.test/mail/unsubscribe/1/network/abc"
    await queue(app, a_mail(unsubscribe_url=link, list_id="network-digest"))
    await app[SCHEDULER].run_once()
    message = relay.messages[0].message
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "<network-digest.copnet.test>"


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
async def test_tls_and_login_with_a_throwaway_certificate(
    aiohttp_server, aiohttp_client, database_url, relays, mode
):
    relay = relays(mode)
    app = await app_for(aiohttp_server, aiohttp_client, database_url, relay)
    await queue(app, a_mail())
    await app[SCHEDULER].run_once()
    assert relay.inbox.logins == ["copnet"]
    assert [m.message["Subject"] for m in relay.messages] == ["Hello from copnet"]


async def test_a_server_without_starttls_is_refused_not_sent_in_the_clear(
    aiohttp_server, aiohttp_client, database_url, relays
):
    relay = relays("no-tls")
    app = await app_for(aiohttp_server, aiohttp_client, database_url, relay)
    await queue(app, a_mail())
    await app[SCHEDULER].run_once()
    assert relay.messages == []
    [job] = await mail_jobs(app)
    assert job.state == jobs.PENDING and job.attempts == 1
    assert "STARTTLS" in job.last_error


async def test_a_refusing_server_is_retried_with_backoff_then_given_up_after_a_day(
    aiohttp_server, aiohttp_client, database_url, relays
):
    relay = relays("plain")
    relay.inbox.refuse = "451 4.3.0 Mailbox busy, try again later"
    app = await app_for(aiohttp_server, aiohttp_client, database_url, relay)
    await queue(app, a_mail())
    scheduler = app[SCHEDULER]
    start = utcnow()
    scheduler.clock = lambda: start
    await scheduler.run_once()
    [job] = await mail_jobs(app)
    assert job.state == jobs.PENDING and job.attempts == 1
    assert "451" in job.last_error
    assert timedelta(seconds=30) <= job.run_at - start <= timedelta(minutes=1, seconds=1)
    assert await scheduler.run_once() == 0  # not due again yet

    relay.inbox.refuse = None  # the server recovers before the day is out
    scheduler.clock = lambda: start + timedelta(minutes=2)
    await scheduler.run_once()
    assert len(relay.messages) == 1
    assert (await mail_jobs(app))[0].state == jobs.DONE


async def test_a_permanent_refusal_is_given_up_at_once_a_temporary_one_is_retried(
    aiohttp_server, aiohttp_client, database_url, relays, caplog
):
    relay = relays("plain")
    no_such_user = "550 5.1.1 No such user here"
    relay.inbox.refuse_recipients = {
        "gone@ward.example": no_such_user,
        "busy@ward.example": "451 4.2.1 Mailbox busy, try again later",
    }
    app = await app_for(aiohttp_server, aiohttp_client, database_url, relay)
    await queue(app, a_mail(to="gone@ward.example"))
    await queue(app, a_mail(to="busy@ward.example"))
    scheduler = app[SCHEDULER]
    start = utcnow()
    scheduler.clock = lambda: start
    with caplog.at_level(logging.WARNING):
        assert await scheduler.run_once() == 2
    gone, busy = sorted(await mail_jobs(app), key=lambda job: job.id)
    assert (gone.state, gone.attempts, gone.finished_at) == (jobs.FAILED, 1, start)
    assert no_such_user in gone.last_error
    assert gone.payload == "{}"
    assert any(no_such_user in record.getMessage() for record in caplog.records)
    assert (busy.state, busy.attempts) == (jobs.PENDING, 1)
    assert "451" in busy.last_error and "Mailbox busy" in busy.last_error
    assert timedelta(seconds=30) <= busy.run_at - start <= timedelta(minutes=1, seconds=1)

    relay.inbox.refuse_recipients.clear()  # the busy mailbox frees up; the 550 is not retried
    scheduler.clock = lambda: start + timedelta(minutes=2)
    assert await scheduler.run_once() == 1
    assert [m.rcpt_tos for m in relay.messages] == [["busy@ward.example"]]
    gone, busy = sorted(await mail_jobs(app), key=lambda job: job.id)
    assert (gone.state, gone.attempts, busy.state) == (jobs.FAILED, 1, jobs.DONE)


async def test_a_message_refused_for_good_after_data_is_given_up_at_once(
    aiohttp_server, aiohttp_client, database_url, relays
):
    relay = relays("plain")
    relay.inbox.refuse = "554 5.7.1 Message rejected as spam"
    app = await app_for(aiohttp_server, aiohttp_client, database_url, relay)
    await queue(app, a_mail())
    await app[SCHEDULER].run_once()
    [job] = await mail_jobs(app)
    assert (job.state, job.attempts) == (jobs.FAILED, 1)
    assert "554 5.7.1 Message rejected as spam" in job.last_error


async def test_a_refused_login_is_retried_as_the_settings_may_be_mended(
    aiohttp_server, aiohttp_client, database_url, relays
):
    """535 is permanent, but it is about copnet's settings, not the mail: not given up."""
    relay = relays("starttls")
    wrong = relay.url.replace("relay%20secret", "not%20the%20password")
    app = await app_for(
        aiohttp_server, aiohttp_client, database_url, smtp_url=wrong, smtp_ca_file=relay.ca_file
    )
    await queue(app, a_mail())
    await app[SCHEDULER].run_once()
    [job] = await mail_jobs(app)
    assert (job.state, job.attempts) == (jobs.PENDING, 1)
    assert "535" in job.last_error


async def test_a_server_down_for_a_day_gives_the_mail_up_and_records_why(
    aiohttp_server, aiohttp_client, database_url
):
    nobody = f"smtp://127.0.0.1:{free_port()}?starttls=off"
    app = await app_for(aiohttp_server, aiohttp_client, database_url, smtp_url=nobody)
    await queue(app, a_mail())
    scheduler = app[SCHEDULER]
    start = utcnow()
    moments = [start, start + timedelta(hours=6), start + timedelta(hours=25)]
    states = []
    for moment in moments:
        scheduler.clock = lambda moment=moment: moment
        await scheduler.run_once()
        [job] = await mail_jobs(app)
        states.append((job.state, job.attempts))
    assert states == [(jobs.PENDING, 1), (jobs.PENDING, 2), (jobs.FAILED, 3)]
    assert job.last_error  # why, for the admin
    assert job.finished_at == moments[-1]
    assert job.payload == "{}"


async def test_names_and_subjects_cannot_add_headers(
    aiohttp_server, aiohttp_client, database_url, relays
):
    relay = relays("plain")
    app = await app_for(aiohttp_server, aiohttp_client, database_url, relay)
    await queue(
        app,
        a_mail(
            to_name="Sam\r\nBcc: victim@elsewhere.example",
            subject="Hi\nBcc: victim@elsewhere.example\r\nX-Evil: 1",
        ),
    )
    await app[SCHEDULER].run_once()
    [received] = relay.messages
    assert received.rcpt_tos == ["sam@ward.example"]
    message = received.message
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message.get_all("To") == ['"Sam Bcc: victim@elsewhere.example" <sam@ward.example>']
    assert message["Subject"] == "Hi Bcc: victim@elsewhere.example X-Evil: 1"


@pytest.mark.parametrize(
    "address",
    [
        "sam@ward.example\r\nBcc: x@y.example",
        "sam@ward.example, other@y.example",
        "Sam <sam@ward.example>",
        "no-at-sign.example",
        "sam@localhost",
        "sam@@ward.example",
        "sam@-ward.example",
        "",
    ],
)
def test_addresses_are_validated(address):
    with pytest.raises(ValueError):
        a_mail(to=address)


def test_smtp_settings_are_checked_at_start_without_showing_the_password():
    ok = load_settings({"COPNET_SMTP_URL": "smtps://u:p%40ss@mail.example"})
    assert ok.mail_enabled and "p%40ss" not in repr(ok)
    for url in ("http://mail.example", "smtp://", "smtp://u:sekrit@h:99999", "smtp://h?tls=1"):
        with pytest.raises(SettingsError) as error:
            load_settings({"COPNET_SMTP_URL": url})
        assert error.value.setting == "COPNET_SMTP_URL"
        assert "sekrit" not in str(error.value)
    with pytest.raises(SettingsError) as error:
        load_settings({"COPNET_MAIL_FROM": "copnet\r\nBcc: x@y.example"})
    assert error.value.setting == "COPNET_MAIL_FROM"
    assert load_settings({}).mail_enabled is False


async def test_without_smtp_mail_goes_to_the_log(
    aiohttp_server, aiohttp_client, database_url, caplog
):
    app = await app_for(aiohttp_server, aiohttp_client, database_url)
    await queue(app, a_mail())
    with caplog.at_level(logging.INFO, logger="copnet.mail"):
        await app[SCHEDULER].run_once()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "COPNET_SMTP_URL is not set" in logged
    assert "to Sam Okafor <sam@ward.example>: Hello from copnet" in logged
    assert "https://copnet.test/t/1" in logged
    assert (await mail_jobs(app))[0].state == jobs.DONE


async def test_a_request_never_waits_on_the_mail_server(
    aiohttp_server, aiohttp_client, database_url
):
    """A mail server that accepts connections and never answers: the page still answers."""
    hung = []

    async def silent(reader, writer):
        hung.append(writer)
        await asyncio.sleep(3600)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    web = await start_web(
        aiohttp_server,
        aiohttp_client,
        database_url,
        smtp_url=f"smtp://127.0.0.1:{port}?starttls=off",
    )
    started = time.monotonic()
    response = await web.signup("sam", email="sam@ward.example")  # queues the address check
    assert response.status == 303
    assert time.monotonic() - started < 5
    [job] = await mail_jobs(web.app)
    assert job.state == jobs.PENDING and job.attempts == 0
    server.close()
    for writer in hung:
        writer.close()


def test_copnet_mail_test_checks_the_settings(relays, monkeypatch, capsys):
    relay = relays("starttls")
    monkeypatch.setenv("COPNET_SMTP_URL", relay.url)
    monkeypatch.setenv("COPNET_SMTP_CA_FILE", relay.ca_file)
    monkeypatch.setenv("COPNET_MAIL_FROM", "noreply@copnet.test")
    assert main(["mail", "test", "sam@ward.example"]) == 0
    assert "sent to sam@ward.example" in capsys.readouterr().out
    assert [m.rcpt_tos for m in relay.messages] == [["sam@ward.example"]]

    monkeypatch.setenv("COPNET_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    assert main(["mail", "test", "sam@ward.example"]) == 1
    assert "did not take the message" in capsys.readouterr().err
    assert main(["mail", "test", "not an address"]) == 2


def test_copnet_mail_require_email(database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["mail", "require-email"]) == 0
    assert capsys.readouterr().out.strip() == "no"
    assert main(["mail", "require-email", "yes"]) == 0
    capsys.readouterr()
    assert main(["mail", "require-email"]) == 0
    assert capsys.readouterr().out.strip() == "yes"
