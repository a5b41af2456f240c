"""The URL map of the whole application: every route and the handler it calls, in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.ops import health
from server.views import actors, discovery, inbox, threads
from server.web import (
    account_deletion,
    account_settings,
    admin,
    basecamp_calendars,
    basecamp_editing,
    basecamp_rsvp,
    basecamps,
    communities,
    community_membership,
    community_settings,
    document_downloads,
    document_removal,
    document_resources,
    document_versions,
    documents,
    engagement,
    feeds,
    harvest,
    harvest_editing,
    harvest_from_posts,
    harvest_index,
    mail_links,
    mail_settings,
    moderation,
    modlog,
    notifications,
    password_reset,
    people,
    post_actions,
    reports,
    routes_auth,
    search,
    suspensions,
    thread_posting,
)

STATIC = Path(__file__).parent / "static"


def add_routes(app: web.Application) -> None:
    """Register every route on the application."""
    router = app.router
    # ActivityPub and discovery
    router.add_get("/", communities.home, name="home")
    router.add_get("/.well-known/webfinger", discovery.webfinger)
    router.add_get("/.well-known/host-meta", discovery.host_meta)
    router.add_get("/.well-known/host-meta.json", discovery.host_meta_json)
    router.add_get("/.well-known/nodeinfo", discovery.nodeinfo_index)
    router.add_get("/nodeinfo/{version}", discovery.nodeinfo)
    router.add_get("/actor", actors.instance_actor)
    router.add_get("/actor/{part}", actors.instance_collection)
    router.add_get("/c/{name}", actors.community_actor, name="community")
    router.add_get("/c/{name}/icon.png", actors.community_icon)
    router.add_get("/c/{name}/outbox", actors.community_outbox)
    router.add_get("/c/{name}/followers", actors.community_followers)
    router.add_get("/c/{name}/featured", actors.community_featured)
    router.add_get("/c/{name}/events", actors.community_events)
    router.add_get("/c/{name}/moderators", actors.community_moderators)
    router.add_post("/inbox", inbox.shared_inbox)
    router.add_post("/c/{name}/inbox", inbox.community_inbox)
    router.add_get("/t/{id}", threads.thread_page, name="thread")
    router.add_get("/t/{id}/context", threads.thread_context)
    router.add_post("/u/{name}/inbox", inbox.person_inbox)
    router.add_get("/p/{id}", threads.local_post)
    router.add_get("/p/{id}/replies", threads.post_replies)
    router.add_get("/activities/{key}", threads.sent_activity)
    # operations
    router.add_get("/healthz", health.healthz, name="healthz")
    router.add_get("/readyz", health.readyz, name="readyz")
    # the website
    router.add_get("/signup", routes_auth.signup_page, name="signup")
    router.add_post("/signup", routes_auth.signup)
    router.add_get("/login", routes_auth.login_page, name="login")
    router.add_post("/login", routes_auth.login)
    router.add_post("/logout", routes_auth.logout, name="logout")
    # account_settings
    router.add_get(account_settings.PROFILE, account_settings.profile_page, name="settings_profile")
    router.add_post(account_settings.PROFILE, account_settings.profile)
    router.add_post("/settings/picture", account_settings.picture)
    router.add_post("/settings/picture/remove", account_settings.remove_picture)
    router.add_get("/settings/password", account_settings.password_page)
    router.add_post("/settings/password", account_settings.change_password)
    router.add_get("/settings/export", account_settings.export)
    router.add_get("/settings/delete", account_deletion.delete_page)
    router.add_post("/settings/delete", account_deletion.delete_account)
    # mail_settings
    router.add_get(mail_settings.PAGE, mail_settings.page, name="settings_mail")
    router.add_post(mail_settings.PAGE, mail_settings.save_preferences)
    router.add_post("/settings/mail/address", mail_settings.change_address)
    router.add_post("/settings/mail/verify", mail_settings.resend_verification)
    # password_reset
    router.add_get(password_reset.FORGOT, password_reset.forgot_page, name="password_forgot")
    router.add_post(password_reset.FORGOT, password_reset.forgot)
    router.add_get("/password/reset/{token}", password_reset.reset_page)
    router.add_post("/password/reset/{token}", password_reset.reset)
    # mail_links
    router.add_get("/mail/verify/{token}", mail_links.verify)
    unsubscribe = mail_links.UNSUBSCRIBE_PREFIX + "{account_id:\\d{1,18}}/{list}/{signature}"
    router.add_get(unsubscribe, mail_links.unsubscribe_page)
    router.add_post(unsubscribe, mail_links.unsubscribe)
    router.add_get("/goodbye", account_deletion.goodbye)
    router.add_get("/welcome", account_settings.welcome)
    # people
    router.add_get("/u/{name}", people.person, name="person")
    router.add_get("/u/{name}/icon.png", people.person_icon)
    router.add_get("/u/{name}/picture/{sha256:[0-9a-f]{64}}.png", people.person_picture)
    router.add_get("/u/{name}/outbox", people.person_outbox)
    router.add_get("/u/{name}/followers", people.person_followers)
    router.add_get("/u/{name}/following", people.person_following)
    # admin
    router.add_get("/admin", admin.admin_page, name="admin")
    router.add_post("/admin/settings", admin.save_settings)
    router.add_post("/admin/invites", admin.create_invite)
    router.add_post("/admin/communities/{name}/approve", admin.approve_community)
    # communities
    router.add_get("/communities/new", communities.new_community_form)
    router.add_post("/communities/new", communities.create_community_from_web)
    router.add_post("/communities/follow", community_membership.join_remote_community)
    router.add_post("/c/{name}/join", community_membership.join_community)
    router.add_post("/c/{name}/leave", community_membership.leave_community)
    router.add_post("/c/{name}/threads", thread_posting.start_thread)
    router.add_post("/t/{id:\\d+}/reply", thread_posting.reply)
    router.add_post("/t/{id:\\d+}/share", thread_posting.share_thread)
    # post_actions
    router.add_get("/p/{id}/edit", post_actions.edit_form)
    router.add_post("/p/{id}/edit", post_actions.save_edit)
    router.add_get("/p/{id}/delete", post_actions.delete_confirmation)
    router.add_post("/p/{id}/delete", post_actions.confirm_delete)
    router.add_get("/p/{id}/history", post_actions.history)
    # engagement: likes, watched threads, followed CoPs
    router.add_post("/p/{id}/like", engagement.like)
    router.add_post("/p/{id}/unlike", engagement.unlike)
    router.add_post("/t/{id:\\d+}/watch", engagement.watch)
    router.add_post("/t/{id:\\d+}/unwatch", engagement.unwatch)
    router.add_post("/c/{name}/follow", engagement.follow)
    router.add_post("/c/{name}/unfollow", engagement.unfollow)
    # notifications
    router.add_get("/notifications", notifications.notifications, name="notifications")
    router.add_post("/notifications/read", notifications.read_all)
    router.add_post("/notifications/{id}/read", notifications.read_one)
    # community_settings
    router.add_get("/c/{name}/settings", community_settings.settings_page)
    router.add_post("/c/{name}/settings", community_settings.save_settings)
    # moderation
    router.add_post("/t/{id:\\d{1,18}}/moderate", moderation.moderate_post)
    router.add_get("/c/{name}/moderation", moderation.moderation_page)
    router.add_post("/c/{name}/moderation/ban", moderation.ban_form)
    router.add_post("/c/{name}/moderation/moderators", moderation.moderators_form)
    router.add_post("/c/{name}/moderation/private", moderation.privacy_form)
    router.add_post("/c/{name}/moderation/requests", moderation.join_request_form)
    # modlog
    router.add_get("/modlog", modlog.network_modlog)
    router.add_get("/c/{name}/modlog", modlog.community_modlog)
    # reports
    router.add_post("/report", reports.report)
    router.add_get("/reports", reports.report_queue)
    router.add_post("/reports/{id:\\d{1,18}}/resolve", reports.resolve_report)
    # suspensions
    router.add_get("/admin/suspensions", suspensions.suspensions_page)
    router.add_post("/admin/suspensions", suspensions.change_suspension)
    # documents
    router.add_get("/c/{name}/documents", documents.community_documents, name="documents")
    router.add_post("/c/{name}/documents", documents.upload_document)
    router.add_get("/c/{name}/resources", document_resources.community_resources, name="resources")
    router.add_get("/d/{id}", document_versions.document_view, name="document")
    router.add_post("/d/{id}/versions", document_versions.upload_version)
    router.add_get(
        "/d/{id}/v/{version_id}", document_downloads.download_version, name="document_version"
    )
    # document_removal
    router.add_get("/d/{id}/delete", document_removal.removal_confirmation)
    router.add_post("/d/{id}/delete", document_removal.remove_document_from_web)
    # harvest
    router.add_get("/harvest", harvest_index.network_harvest, name="network_harvest")
    router.add_get("/c/{name}/harvest.zip", harvest_index.export_zip)
    router.add_get("/c/{name}/harvest", harvest.community_harvest, name="harvest")
    router.add_get("/c/{name}/harvest/new", harvest.new_page_form)
    router.add_post("/c/{name}/harvest/new", harvest.create_page_from_web)
    router.add_get("/h/{id}", harvest.page_view, name="harvest_page")
    router.add_get("/h/{id}/print", harvest.print_view)
    router.add_get("/h/{id}/edit", harvest_editing.edit_form)
    router.add_post("/h/{id}/edit", harvest_editing.save_edit)
    router.add_get("/h/{id}/history", harvest_editing.history)
    router.add_get("/h/{id}/diff", harvest_editing.diff)
    router.add_post("/h/{id}/restore", harvest_editing.restore)
    router.add_post("/h/{id}/retire", harvest_editing.retire_or_reinstate)
    router.add_get("/p/{id}/harvest", harvest_from_posts.harvest_form)
    router.add_post("/p/{id}/harvest", harvest_from_posts.harvest_posts)
    # search
    router.add_get("/search", search.search_page, name="search")
    router.add_get("/c/{name}/search", search.search_page, name="community_search")
    # basecamps
    router.add_get("/basecamps", basecamps.listing, name="basecamps")
    router.add_get("/basecamps.ics", basecamp_calendars.network_feed)
    router.add_get("/basecamps/new", basecamp_editing.new_form)
    router.add_post("/basecamps/new", basecamp_editing.create)
    router.add_get("/b/{id:\\d+}", basecamps.basecamp_page, name=basecamps.ROUTE_NAME)
    router.add_get("/b/{id:\\d+}.ics", basecamp_calendars.basecamp_ics)
    router.add_get("/b/{id:\\d+}/poll", basecamps.poll)
    router.add_get("/b/{id:\\d+}/attendees", basecamps.attendees)
    router.add_post("/b/{id:\\d+}/rsvp", basecamp_rsvp.rsvp)
    router.add_get("/b/{id:\\d+}/edit", basecamp_editing.edit_form)
    router.add_post("/b/{id:\\d+}/edit", basecamp_editing.edit)
    router.add_post("/b/{id:\\d+}/cancel", basecamp_editing.cancel)
    router.add_get("/c/{name}/basecamps.ics", basecamp_calendars.community_feed)
    # feeds (Atom)
    router.add_get("/threads.atom", feeds.network_feed)
    router.add_get("/basecamps.atom", feeds.basecamps_feed)
    router.add_get("/c/{name}/threads.atom", feeds.community_feed)
    router.add_get("/t/{id}/replies.atom", feeds.thread_feed)
    router.add_get("/u/{name}/posts.atom", feeds.person_feed)
    router.add_static("/static/", STATIC, name="static")
