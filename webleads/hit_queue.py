"""The hit queue's row format: a batch of enriched hits as MessagePack bytes.

With ``WEBLEADS_PROCESSOR=separate`` the server's writer acknowledges a batch once it
is committed here, enriched (the raw IP already cleared by ``put_anonymised_ip`` unless
the site keeps raw IPs), and the processor (``processor.py``) sessionises and stores it.

The format is data only (never pickle: a database row must not be able to run code)
and keyed by field name, so a row written by one version decodes in the next one: a
field added with a default takes it, a field removed is ignored.  A hit's site is
written as its public key and found again in the ``SiteBook`` when decoding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from webleads.model import Client, Hit, Site

_encoder = msgspec.msgpack.Encoder()


def _mirror(name: str, struct: type[msgspec.Struct], **types: Any) -> type[msgspec.Struct]:
    """A Struct with ``struct``'s fields, order and defaults, some field types replaced;
    fields equal to their default are left out of the bytes (most of a hit's are)."""
    fields: list[Any] = []
    for f in msgspec.structs.fields(struct):
        kind = types.get(f.name, f.type)
        if f.default is not msgspec.NODEFAULT:
            fields.append((f.name, kind, f.default))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, kind, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, kind))
    return msgspec.defstruct(name, fields, frozen=True, gc=False, omit_defaults=True)


# A row: the clients (one per sender of the batch: a request's hits share theirs) and
# the hits, each naming its client by index.  Maps keyed by field name.
_QueuedClient = _mirror("QueuedClient", Client, site=str)  # the site's public key
_QueuedHit = _mirror("QueuedHit", Hit, client=int)  # index in the row's clients
_QueuedRow = msgspec.defstruct("QueuedRow", [("clients", list[_QueuedClient]),  # type: ignore[valid-type]
                                             ("hits", list[_QueuedHit])])  # type: ignore[valid-type]
_decoder = msgspec.msgpack.Decoder(_QueuedRow)
assert msgspec.structs.fields(Client)[0].name == "site"
assert msgspec.structs.fields(Hit)[0].name == "client"


class UnknownSite(LookupError):
    """A queued hit names a site that no longer exists."""


def encode(hits: list[Hit]) -> bytes:
    """The row payload of ``hits``."""
    astuple = msgspec.structs.astuple
    index: dict[int, int] = {}
    clients: list[Any] = []
    queued: list[Any] = []
    for hit in hits:
        client = hit.client
        i = index.get(id(client))
        if i is None:
            i = index[id(client)] = len(clients)
            clients.append(_QueuedClient(client.site.key, *astuple(client)[1:]))
        queued.append(_QueuedHit(i, *astuple(hit)[1:]))
    return _encoder.encode(_QueuedRow(clients, queued))


def decode(payload: bytes, site_for: Callable[[str], Site | None]) -> list[Hit]:
    """The hits of a row; raises ``msgspec.DecodeError`` (or ``ValidationError``) for
    bytes that are not a queue row, ``UnknownSite`` for a site that is gone."""
    row: Any = _decoder.decode(payload)
    asdict = msgspec.structs.asdict
    sites: dict[str, Site] = {}
    clients: list[Client] = []
    for qc in row.clients:
        site = sites.get(qc.site)
        if site is None:
            site = site_for(qc.site)
            if site is None:
                raise UnknownSite(qc.site)
            sites[qc.site] = site
        clients.append(Client(**{**asdict(qc), "site": site}))
    hits: list[Hit] = []
    for qh in row.hits:
        if not 0 <= qh.client < len(clients):
            raise msgspec.ValidationError(f"hit names client {qh.client} of {len(clients)}")
        hits.append(Hit(**{**asdict(qh), "client": clients[qh.client]}))
    return hits
