"""`copnet post delete` and `copnet community set`."""

from __future__ import annotations

import asyncio
import io

import pytest
from sqlalchemy import select

from models.communities import get_community
from models.database import create_engine, session_factory
from models.outgoing import OutgoingActivity
from models.posts import Post
from server.cli.main import main


@pytest.fixture
def env(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("COPNET_URL", "https://cops.example")
    return database_url


def query(database_url: str, work):
    async def run():
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def first_local_reply(database_url: str) -> Post:
    async def work(session):
        return await session.scalar(
            select(Post).where(Post.ap_id.is_(None), Post.thread_id.is_not(None)).limit(1)
        )

    return query(database_url, work)


def test_admin_deletes_any_post_with_a_reason_after_confirming(env, capsys, monkeypatch):
    assert main(["demo"]) == 0
    post = first_local_reply(env)
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    assert main(["post", "delete", str(post.id), "--reason", "names a patient"]) == 1
    assert "nothing deleted" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert main(["post", "delete", str(post.id), "--reason", "names a patient"]) == 0
    assert f"deleted post {post.id}" in capsys.readouterr().out

    async def work(session):
        deleted = await session.get(Post, post.id)
        activity = await session.scalar(
            select(OutgoingActivity).where(OutgoingActivity.type == "Delete")
        )
        return deleted, activity

    deleted, activity = query(env, work)
    assert deleted.deleted_at is not None and deleted.content_html == ""
    assert "names a patient" in activity.body
    assert f"https://cops.example/p/{post.id}" in activity.body
    # Twice, an unknown id, a bad id: one clear line each.
    assert main(["post", "delete", str(post.id), "--reason", "x", "--yes"]) == 1
    assert "already deleted" in capsys.readouterr().err
    assert main(["post", "delete", "999999", "--reason", "x", "--yes"]) == 1
    assert "no post 999999" in capsys.readouterr().err
    assert main(["post", "delete", "abc", "--reason", "x", "--yes"]) == 1
    assert "not a post number" in capsys.readouterr().err


def test_community_set_announce_replies_and_language(env, capsys):
    assert main(["community", "create", "nursing", "--title", "Nursing"]) == 0
    assert (
        main(["community", "set", "nursing", "--announce-replies", "yes", "--language", "fr"]) == 0
    )
    assert "announce-replies yes, language fr" in capsys.readouterr().out

    async def work(session):
        return await get_community(session, "nursing")

    community = query(env, work)
    assert community.announce_replies_to_microblogs is True and community.language == "fr"
    assert main(["community", "set", "nursing", "--language", "French!"]) == 1
    assert "not a language tag" in capsys.readouterr().err
    assert main(["community", "set", "nobody", "--announce-replies", "no"]) == 1
    assert "no community named" in capsys.readouterr().err
