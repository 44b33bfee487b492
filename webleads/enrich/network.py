"""IP-based steps: the network behind the address, and its country."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import maxminddb
from msgspec.structs import replace

from webleads.model import Client, Drop, Network
from webleads.networks.overrides import OverrideBook
from webleads.networks.resolver import NetworkResolver


def make_put_network(resolver: NetworkResolver,
                     overrides: OverrideBook | None = None) -> Callable[[Client], Client | Drop]:
    """The network behind the address; the site's workspace overrides come first.

    An ``office`` override drops the hit as ``ignored_network``; a declared crawler's
    published range drops it as ``bot_network`` (a crawler that renders pages with a
    browser's user agent).  In the no-identification form (``client.identify`` off,
    the address already truncated) only the category and the country are kept: no AS
    number, AS name or organisation.
    """

    def put_network(client: Client) -> Client | Drop:
        if client.ip is None:
            return client
        network = resolver.lookup(client.ip)
        if overrides is not None:
            rules = overrides.for_workspace(client.site.workspace_id)
            if rules:
                override = rules.match(client.ip, network.asn if network else None)
                if override is not None:
                    network = override.apply(network)
                    if network is None:
                        return Drop("ignored_network")
        if network is None:
            return client
        if network.category == "bot":
            return Drop("bot_network")
        if not client.identify:  # no-identification form: a category and a country only
            network = Network(category=network.category, country=network.country)
        return replace(client, network=network, country=client.country or network.country)

    return put_network


def make_put_geo(country_database: str = "", cache_size: int = 65536) -> Callable[[Client], Client]:
    """Country from an MMDB country file when configured, else from the network."""
    if not country_database:
        return _no_geo
    reader = maxminddb.open_database(country_database, maxminddb.MODE_AUTO)

    @lru_cache(maxsize=cache_size)
    def country_of(ip: str) -> str | None:
        try:
            record = reader.get(ip)
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
        country = record.get("country") or record.get("registered_country")
        if isinstance(country, dict):
            code = country.get("iso_code")
            return str(code) if code else None
        return None

    def put_geo(client: Client) -> Client:
        if client.ip is None:
            return client
        country = country_of(client.ip)
        return replace(client, country=country) if country else client

    return put_geo


def _no_geo(client: Client) -> Client:
    return client
