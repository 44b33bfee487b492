"""Steps that honour the visitor's privacy signals and the site's exclusions."""

from __future__ import annotations

import ipaddress

from webleads.model import Client, Drop


def drop_do_not_track(client: Client) -> Client | Drop:
    """DNT: 1 or Sec-GPC: 1 while the site honours them: nothing is stored."""
    if client.dnt and client.site.respect_dnt:
        return Drop("do_not_track")
    return client


def drop_ignored_network(client: Client) -> Client | Drop:
    """The site's own offices (ignored CIDRs) are not visitors."""
    nets = client.site.ignored_nets
    if not nets or client.ip is None:
        return client
    try:
        addr = ipaddress.ip_address(client.ip)
    except ValueError:
        return client
    if any(addr in net for net in nets):
        return Drop("ignored_network")
    return client
