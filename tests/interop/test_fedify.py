"""copnet and Fedify (a third-party ActivityPub library, run by node) talking over loopback."""

from __future__ import annotations

import json

import aiohttp
import pytest

from server.appkeys import FETCHER
from tests.interop.node import NodeServer, require_fedify, run_node
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop

AS2 = "application/activity+json"


async def test_fedify_looks_up_a_cop_and_gets_a_valid_group(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward *nurses* talk.")
    group_url = f"{copnet.url}/c/nursing"

    code, stdout, stderr = await run_node("lookup.mjs", group_url, env=node_env)

    assert code == 0, f"lookup.mjs exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    result = json.loads(stdout)
    assert result["handle"] == "@nursing@" + copnet.url.removeprefix("https://")
    # By URL and by handle (WebFinger), Fedify reads the same Group.
    assert result["byHandle"] == result["byUrl"], stderr
    group = result["byUrl"]
    assert group["type"] == "Group"
    assert group["id"] == group_url
    assert group["preferredUsername"] == "nursing"
    assert group["name"] == "Nursing Practice"
    assert group["inbox"] == f"{group_url}/inbox"
    assert group["outbox"] == f"{group_url}/outbox"
    assert group["followers"] == f"{group_url}/followers"
    assert group["featured"] == f"{group_url}/featured"
    assert group["endpoints"] == {"sharedInbox": f"{copnet.url}/inbox"}
    assert group["manuallyApprovesFollowers"] is False
    assert group["discoverable"] is True
    # Fedify parsed the PEM into a usable RSA key owned by the Group.
    assert group["publicKey"] == {
        "id": f"{group_url}#main-key",
        "owner": group_url,
        "algorithm": "RSASSA-PKCS1-v1_5",
    }


async def test_fedify_accepts_copnet_signed_fetch_and_refuses_unsigned(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    port = free_port()
    alice_url = f"http://127.0.0.1:{port}/users/alice"

    async with NodeServer("secure_actor.mjs", str(port), env=node_env) as fedify:
        # Fedify verifies the signature with the key it fetches from copnet's /actor.
        alice = await copnet.app[FETCHER].fetch_json(alice_url)
        assert alice["type"] == "Person"
        assert alice["id"] == alice_url
        assert alice["preferredUsername"] == "alice"
        assert alice["publicKey"]["owner"] == alice_url
        verdict = await fedify.wait_for_stderr("authorize alice: AUTHORISED")
        assert f"signedKey={copnet.url}/actor#main-key" in verdict
        assert f"owner={copnet.url}/actor" in verdict

        async with (
            aiohttp.ClientSession() as session,
            session.get(alice_url, headers={"Accept": AS2}) as response,
        ):
            body = await response.text()
        # Fedify's default answer to a request its authorize() predicate refuses: 401.
        assert response.status == 401, f"{response.status} {body}\n{fedify.stderr}"
        assert body == "Unauthorized"
        await fedify.wait_for_stderr("authorize alice: REFUSED signedKey=null")
