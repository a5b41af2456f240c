"""Which server signed a GET, read (not verified) from its signature's key id.

Used only to pick among public representations of the same thing (a GoToSocial fetcher gets
the Event in the shape GoToSocial shows well), never to grant access: a forged header gets
another public shape, nothing more. Both draft-cavage (`Signature: keyId="..."`) and RFC 9421
(`Signature-Input: sig=(...);keyid="..."`) carry the key id.
"""

from __future__ import annotations

import re

from aiohttp import web

from federation.origin import authority

_KEY_ID = re.compile(r'key[iI]d="([^"]{1,2048})"')


def signer_authority(request: web.Request) -> str | None:
    """`host[:port]` of the key that signed this request, if it carries one."""
    for header in ("Signature", "Signature-Input"):
        found = _KEY_ID.search(request.headers.get(header, ""))
        if found:
            return authority(found.group(1))
    return None
