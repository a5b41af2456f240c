"""Members joining and leaving CoPs, here or on another server."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT
from models.actors import Actor
from models.deliveries import enqueue
from models.follows import Follow, follow_activity_id, remove_follow, upsert_follow
from server.as2.activities import new_activity_id
from server.urls import Urls


async def join(session: AsyncSession, urls: Urls, member: Actor, group: Actor) -> Follow:
    """Join a CoP: at once for ours, by a Follow (pending its Accept) for a remote one."""
    if group.ap_id is None:
        return await upsert_follow(
            session,
            followed_id=group.id,
            follower_id=member.id,
            state="accepted",
            activity_ap_id=None,
        )
    follow = {
        "@context": AS_CONTEXT,
        "id": new_activity_id(urls),
        "type": "Follow",
        "actor": urls.actor(member),
        "object": group.ap_id,
        "to": [group.ap_id],
    }
    row = await upsert_follow(
        session,
        followed_id=group.id,
        follower_id=member.id,
        state="pending",
        activity_ap_id=follow["id"],
    )
    await enqueue(
        session,
        actor_id=member.id,
        ap_id=follow["id"],
        type_="Follow",
        document=follow,
        inboxes=[group.inbox_url] if group.inbox_url else [],
        object_ap_id=group.ap_id,
    )
    return row


async def leave(session: AsyncSession, urls: Urls, member: Actor, group: Actor) -> bool:
    """Leave a CoP; a remote one is told with Undo{Follow}."""
    follow_ap_id = await follow_activity_id(session, followed_id=group.id, follower_id=member.id)
    removed = await remove_follow(session, followed_id=group.id, follower_id=member.id)
    if removed and group.ap_id is not None and group.inbox_url:
        undo = {
            "@context": AS_CONTEXT,
            "id": new_activity_id(urls),
            "type": "Undo",
            "actor": urls.actor(member),
            "object": {
                "id": follow_ap_id,
                "type": "Follow",
                "actor": urls.actor(member),
                "object": group.ap_id,
            },
            "to": [group.ap_id],
        }
        await enqueue(
            session,
            actor_id=member.id,
            ap_id=undo["id"],
            type_="Undo",
            document=undo,
            inboxes=[group.inbox_url],
            object_ap_id=group.ap_id,
        )
    return removed
