"""``put_visitor``: the stored visitor id.

Cookie mode: the tag's first-party id.  Cookieless mode (or no id sent): a keyed
hash of site, IP and user agent with a salt that changes every day; old salts are
deleted (``db/salts.py``), so a hash cannot be linked across days.

In the no-identification form (``client.identify`` off) the key starts with ``a-``
(``privacy/modes.py``): such a visitor never joins a visitor identified before (a
site that was in B2B mode, a visitor who gave consent earlier), and the hash is made
from the truncated address that ``put_privacy`` left.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime

from msgspec.structs import replace

from webleads.model import Client
from webleads.privacy.modes import ANONYMOUS_PREFIX

SaltSource = Callable[[date], bytes]


def make_put_visitor(salt_for: SaltSource, *, now: Callable[[], datetime] | None = None
                     ) -> Callable[[Client], Client]:
    clock = now or (lambda: datetime.now(UTC))

    def put_visitor(client: Client) -> Client:
        site = client.site
        prefix = "h-" if client.identify else ANONYMOUS_PREFIX
        if site.identity_mode == "cookie" and client.visitor:
            if client.identify:
                return replace(client, visitor_key=client.visitor)
            return replace(client, visitor_key=(prefix + client.visitor)[:64])
        salt = salt_for(clock().date())
        digest = hashlib.blake2b(
            f"{site.id}\n{client.ip or ''}\n{client.user_agent}".encode(),
            key=salt, digest_size=12,
        ).hexdigest()
        return replace(client, visitor_key=prefix + digest)

    return put_visitor
