"""The ordered enrichment chain.

Two kinds of steps over immutable values:
- client steps run once per request (every hit of one request shares its sender:
  one IP, one user agent, one visitor), so a batch of 100 hits pays for them once;
- hit steps run for each hit.
A ``drop_*`` step may return ``Drop(reason)``; a ``put_*`` step returns a new value.
Every ordering constraint is written next to its step in ``build_pipeline``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from msgspec.structs import replace

from webleads.model import Client, Drop, Hit
from webleads.networks.resolver import NetworkResolver

ClientStep = Callable[[Client], "Client | Drop"]
HitStep = Callable[[Hit], "Hit | Drop"]


@dataclass(frozen=True, slots=True)
class Pipeline:
    client_steps: tuple[ClientStep, ...]
    hit_steps: tuple[HitStep, ...]

    def run_client(self, client: Client) -> Client | Drop:
        for step in self.client_steps:
            result = step(client)
            if isinstance(result, Drop):
                return result
            client = result
        return client

    def run_hit(self, hit: Hit) -> Hit | Drop:
        for step in self.hit_steps:
            result = step(hit)
            if isinstance(result, Drop):
                return result
            hit = result
        return hit

    def run(self, client: Client, hits: Sequence[Hit]) -> tuple[list[Hit], list[Drop]]:
        """Enrich the hits of one sender; returns the kept hits and the drops."""
        enriched = self.run_client(client)
        if isinstance(enriched, Drop):
            return [], [enriched] * len(hits)
        kept: list[Hit] = []
        dropped: list[Drop] = []
        for hit in hits:
            result = self.run_hit(replace(hit, client=enriched))
            if isinstance(result, Drop):
                dropped.append(result)
            else:
                kept.append(result)
        return kept, dropped


def build_pipeline(
    *,
    resolver: NetworkResolver,
    salt_for: Callable[..., bytes],
    secret_key: str,
    country_database: str = "",
) -> Pipeline:
    """The chain used by collect; resources are bound here, once, at start-up."""
    from webleads.enrich.anonymise import make_put_anonymised_ip
    from webleads.enrich.bots import make_drop_bots
    from webleads.enrich.consent import drop_do_not_track, drop_ignored_network
    from webleads.enrich.device import make_put_device
    from webleads.enrich.network import make_put_geo, make_put_network
    from webleads.enrich.page_group import make_put_page_group
    from webleads.enrich.source import make_put_source
    from webleads.enrich.visitor import make_put_visitor
    client_steps: tuple[ClientStep, ...] = (
        make_drop_bots(),  # first: a bot costs nothing more
        drop_do_not_track,  # before anything is derived from the visitor
        drop_ignored_network,  # needs the raw IP
        make_put_network(resolver),  # needs the raw IP
        make_put_geo(country_database),  # raw IP; after network (falls back to its country)
        make_put_visitor(salt_for),  # raw IP + user agent for the cookieless hash
        make_put_anonymised_ip(secret_key),  # after every IP-based step above
        make_put_device(),  # user agent only
    )
    hit_steps: tuple[HitStep, ...] = (
        make_put_source(),  # URL query (UTM, click ids) + referrer
        make_put_page_group(),  # the site's URL rules
    )
    return Pipeline(client_steps, hit_steps)
