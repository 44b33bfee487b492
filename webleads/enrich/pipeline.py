"""The ordered enrichment chain.

Two kinds of steps over immutable values:
- client steps run once per request (every hit of one request shares its sender:
  one IP, one user agent, one visitor), so a batch of 100 hits pays for them once;
- hit steps run for each hit.
A ``drop_*`` step may return ``Drop(reason)``; a ``put_*`` step returns a new value.
Every ordering constraint is written next to its step in ``build_pipeline``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from msgspec.structs import replace

from webleads.model import Client, Drop, Hit
from webleads.networks.overrides import OverrideBook
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


# Steps that cannot be switched off: without them a hit has no visitor, keeps its raw
# IP address, or ignores the visitor's opt-out, consent or the site's privacy mode.
REQUIRED_STEPS = frozenset({"put_visitor", "put_anonymised_ip", "drop_opted_out",
                            "drop_no_consent", "put_privacy", "drop_identity"})
CLIENT_STEP_NAMES = (
    "drop_opted_out", "drop_bots", "drop_do_not_track", "drop_no_consent", "put_privacy",
    "drop_ignored_network", "put_network", "put_geo", "put_visitor", "put_anonymised_ip",
    "put_device",
)
HIT_STEP_NAMES = ("put_source", "put_page_group", "drop_identity")


class PipelineConfigError(ValueError):
    """Every problem of the enrichment configuration, reported at once."""


def check_disabled(disabled: Collection[str]) -> None:
    problems = []
    known = set(CLIENT_STEP_NAMES) | set(HIT_STEP_NAMES)
    for name in sorted(disabled):
        if name not in known:
            problems.append(f"{name!r} is not a step (steps: {', '.join(sorted(known))})")
        elif name in REQUIRED_STEPS:
            problems.append(f"{name!r} cannot be disabled")
    if problems:
        raise PipelineConfigError("; ".join(problems))


def build_pipeline(
    *,
    resolver: NetworkResolver,
    salt_for: Callable[..., bytes],
    secret_key: str,
    country_database: str = "",
    disabled: Collection[str] = (),
    overrides: OverrideBook | None = None,
) -> Pipeline:
    """The chain used by collect; resources are bound here, once, at start-up.

    ``disabled`` names steps to leave out (``WEBLEADS_ENRICH_DISABLE``); unknown or
    required names raise ``PipelineConfigError`` listing every problem.
    """
    from webleads.enrich.anonymise import make_put_anonymised_ip
    from webleads.enrich.bots import make_drop_bots
    from webleads.enrich.consent import (
        drop_do_not_track,
        drop_identity,
        drop_ignored_network,
        drop_no_consent,
        drop_opted_out,
        put_privacy,
    )
    from webleads.enrich.device import make_put_device
    from webleads.enrich.network import make_put_geo, make_put_network
    from webleads.enrich.page_group import make_put_page_group
    from webleads.enrich.source import make_put_source
    from webleads.enrich.visitor import make_put_visitor

    check_disabled(disabled)
    client_steps: dict[str, Callable[[], ClientStep]] = {
        # first: the person's own choice, counted as such (a flag: costs nothing)
        "drop_opted_out": lambda: drop_opted_out,
        "drop_bots": make_drop_bots,  # a bot costs nothing more
        "drop_do_not_track": lambda: drop_do_not_track,  # before anything is derived
        "drop_no_consent": lambda: drop_no_consent,  # before anything is derived
        # before every IP step: the no-identification form truncates the IP here
        "put_privacy": lambda: put_privacy,
        "drop_ignored_network": lambda: drop_ignored_network,  # needs the raw IP
        "put_network": lambda: make_put_network(resolver, overrides),  # needs the raw IP
        # raw IP; after put_network, whose country it falls back to
        "put_geo": lambda: make_put_geo(country_database),
        "put_visitor": lambda: make_put_visitor(salt_for),  # raw IP + UA (cookieless hash)
        "put_anonymised_ip": lambda: make_put_anonymised_ip(secret_key),  # after every IP step
        "put_device": make_put_device,  # user agent only
    }
    hit_steps: dict[str, Callable[[], HitStep]] = {
        "put_source": make_put_source,  # URL query (UTM, click ids) + referrer
        "put_page_group": make_put_page_group,  # the site's URL rules
        # last: redacts what put_source read too (UTM values, click ids)
        "drop_identity": lambda: drop_identity,
    }
    assert tuple(client_steps) == CLIENT_STEP_NAMES and tuple(hit_steps) == HIT_STEP_NAMES
    return Pipeline(
        tuple(make() for name, make in client_steps.items() if name not in disabled),
        tuple(make() for name, make in hit_steps.items() if name not in disabled),
    )
