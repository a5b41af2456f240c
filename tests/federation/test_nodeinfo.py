"""NodeInfo discovery against loopback servers, and the Announce form chosen per software."""

from __future__ import annotations

import json
from collections import Counter

import aiohttp
import pytest
from aiohttp import web

from federation.fetch import FetchBudget, FetchBudgetExceeded, Fetcher, FetchPolicy
from federation.netguard import make_connector
from federation.nodeinfo import (
    MICROBLOG_SOFTWARE,
    THREADIVERSE_SOFTWARE,
    audience_kind,
    fetch_software,
    pick_nodeinfo_href,
    software_of,
)

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"
HOSTS = {"forum.test": "127.0.0.1", "other.test": "127.0.0.1"}


class Hosts:
    """Loopback server answering JSON by (host, path) and counting requests."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], tuple[int, object, str]] = {}
        self.hits: Counter[tuple[str, str]] = Counter()
        self.port = 0
        self.app = web.Application()
        self.app.router.add_get("/{tail:.*}", self._answer)

    def origin(self, host: str = "forum.test") -> str:
        return f"http://{host}:{self.port}"

    def serve(self, path, doc, *, host="forum.test", status=200, content_type="application/json"):
        self.docs[(host, path)] = (status, doc, content_type)

    def redirect(self, path, location, *, host="forum.test"):
        self.docs[(host, path)] = (302, location, "")

    async def _answer(self, request: web.Request) -> web.Response:
        key = (request.host.rsplit(":", 1)[0], request.path)
        self.hits[key] += 1
        if key not in self.docs:
            return web.Response(status=404)
        status, doc, content_type = self.docs[key]
        if status == 302:
            return web.Response(status=302, headers={"Location": str(doc)})
        return web.Response(status=status, text=json.dumps(doc), content_type=content_type)


@pytest.fixture
async def hosts(aiohttp_server):
    fake = Hosts()
    fake.port = (await aiohttp_server(fake.app)).port
    return fake


@pytest.fixture
async def fetcher():
    connector = make_connector(allow_private=True, host_map=HOSTS)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield Fetcher(session, FetchPolicy(allow_private=True))


def index(*links: tuple[str, str]) -> dict:
    return {"links": [{"rel": SCHEMA + version, "href": href} for version, href in links]}


def nodeinfo(name: str, version: str = "1.0") -> dict:
    return {"version": "2.1", "software": {"name": name, "version": version}, "protocols": []}


# --- classification -------------------------------------------------------------------------


@pytest.mark.parametrize("software", sorted(THREADIVERSE_SOFTWARE))
def test_fep_1b12_software_gets_the_embedded_announce(software):
    assert audience_kind(software) == "threadiverse"


@pytest.mark.parametrize("software", sorted(MICROBLOG_SOFTWARE))
def test_microblog_software_gets_a_plain_announce(software):
    assert audience_kind(software) == "microblog"


@pytest.mark.parametrize("software", [None, "", "  ", "brand-new-server", "peertube"])
def test_unknown_software_gets_the_form_everyone_understands(software):
    assert audience_kind(software) == "microblog"


def test_names_are_compared_case_insensitively():
    assert audience_kind(" Lemmy ") == "threadiverse"


def test_no_software_is_in_both_lists():
    assert not MICROBLOG_SOFTWARE & THREADIVERSE_SOFTWARE


# --- pure document handling -----------------------------------------------------------------


def test_highest_2x_link_on_the_same_host_wins():
    doc = index(
        ("2.0", "https://forum.test/nodeinfo/2.0"),
        ("2.1", "https://forum.test/nodeinfo/2.1"),
        ("1.0", "https://forum.test/nodeinfo/1.0"),
    )
    doc["links"].append({"rel": "https://www.w3.org/ns/activitystreams#Application", "href": "x"})
    assert pick_nodeinfo_href(doc, "forum.test") == "https://forum.test/nodeinfo/2.1"


def test_links_to_other_hosts_are_not_followed():
    doc = index(("2.1", "https://other.test/nodeinfo/2.1"), ("2.0", "https://forum.test/ni/2.0"))
    assert pick_nodeinfo_href(doc, "forum.test") == "https://forum.test/ni/2.0"
    assert pick_nodeinfo_href(index(("2.1", "https://other.test/n")), "forum.test") is None


@pytest.mark.parametrize(
    "doc", [{}, {"links": "nope"}, {"links": [None, 3, {"rel": SCHEMA + "2.1"}]}, index()]
)
def test_malformed_indexes_give_none(doc):
    assert pick_nodeinfo_href(doc, "forum.test") is None


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (nodeinfo("Mastodon", "4.3.0"), ("mastodon", "4.3.0")),
        ({"software": {"name": "lemmy"}}, ("lemmy", None)),
        ({"software": {"name": "x" * 100, "version": "v" * 100}}, ("x" * 64, "v" * 64)),
        ({"software": {"name": ""}}, None),
        ({"software": "lemmy"}, None),
        ({}, None),
    ],
)
def test_software_of_reads_name_and_version(doc, expected):
    assert software_of(doc) == expected


# --- fetching over loopback -----------------------------------------------------------------


async def test_fetches_software_from_the_highest_schema(hosts, fetcher):
    hosts.serve(
        "/.well-known/nodeinfo",
        index(("2.0", hosts.origin() + "/nodeinfo/2.0"), ("2.1", hosts.origin() + "/nodeinfo/2.1")),
    )
    hosts.serve("/nodeinfo/2.0", nodeinfo("old"))
    hosts.serve(
        "/nodeinfo/2.1",
        nodeinfo("Lemmy", "0.19.5"),
        content_type='application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"',
    )
    found = await fetch_software(fetcher, hosts.origin() + "/c/some_community")
    assert found == ("lemmy", "0.19.5")
    assert hosts.hits[("forum.test", "/nodeinfo/2.0")] == 0


async def test_href_on_another_host_is_never_requested(hosts, fetcher):
    hosts.serve("/.well-known/nodeinfo", index(("2.1", hosts.origin("other.test") + "/ni")))
    hosts.serve("/ni", nodeinfo("lemmy"), host="other.test")
    assert await fetch_software(fetcher, hosts.origin()) is None
    assert hosts.hits[("other.test", "/ni")] == 0


async def test_redirect_to_another_host_is_not_believed(hosts, fetcher):
    hosts.serve("/.well-known/nodeinfo", index(("2.1", hosts.origin() + "/ni")))
    hosts.redirect("/ni", hosts.origin("other.test") + "/ni")
    hosts.serve("/ni", nodeinfo("lemmy"), host="other.test")
    assert await fetch_software(fetcher, hosts.origin()) is None


@pytest.mark.parametrize("status", [404, 500, 410])
async def test_missing_nodeinfo_gives_none(hosts, fetcher, status):
    hosts.serve("/.well-known/nodeinfo", {"error": "no"}, status=status)
    assert await fetch_software(fetcher, hosts.origin()) is None


async def test_non_json_nodeinfo_gives_none(hosts, fetcher):
    hosts.serve("/.well-known/nodeinfo", "<html>", content_type="text/html")
    assert await fetch_software(fetcher, hosts.origin()) is None


async def test_unreachable_host_gives_none(fetcher):
    assert await fetch_software(fetcher, "http://forum.test:1") is None


async def test_fetches_count_against_the_budget(hosts, fetcher):
    hosts.serve("/.well-known/nodeinfo", index(("2.1", hosts.origin() + "/ni")))
    hosts.serve("/ni", nodeinfo("lemmy"))
    budget = FetchBudget(limit=2)
    assert await fetch_software(fetcher, hosts.origin(), budget=budget) == ("lemmy", "1.0")
    assert budget.remaining == 0
    with pytest.raises(FetchBudgetExceeded):
        await fetch_software(fetcher, hosts.origin(), budget=budget)
