"""put_page_group: the first of the site's path globs that matches names the group."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from webleads.enrich.page_group import make_put_page_group
from webleads.model import Client, Drop, Hit, PageGroupRule, Site

HitStep = Callable[[Hit], Hit | Drop]
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

RULES = (
    PageGroupRule("Pricing", "/pricing*"),
    PageGroupRule("CRM setup", "/crm/**/setup"),
    PageGroupRule("CRM", "/crm/**"),
    PageGroupRule("Blog post", "/blog/*"),
    PageGroupRule("About", "/about/"),
    PageGroupRule("Case studies", "/cases**"),
    PageGroupRule("Docs", "docs/*/guide"),
    PageGroupRule("Home", "/"),
    PageGroupRule("Literal", "/faq?.html"),
    PageGroupRule("Accents", "/café/*"),
)


def hit(url: str, rules: tuple[PageGroupRule, ...] = RULES, page_group: str | None = None) -> Hit:
    site = Site(id=1, workspace_id=1, key="k", name="n", domain="example.com", page_groups=rules)
    client = Client(site=site, ip="203.0.113.5", user_agent="Mozilla/5.0 (X11)")
    return Hit(client=client, type="pageview", ts=NOW, received_at=NOW, url=url,
               page_group=page_group)


@pytest.fixture(scope="module")
def put_page_group() -> HitStep:
    return make_put_page_group()


CASES = [
    # (url, expected group)
    ("https://example.com/pricing", "Pricing"),
    ("https://example.com/pricing/", "Pricing"),
    ("https://example.com/pricing-enterprise", "Pricing"),
    ("https://example.com/PRICING?plan=pro#faq", "Pricing"),
    ("https://example.com/pricing/faq", None),  # * stays inside one segment
    ("https://example.com/crm", "CRM"),  # a final /** also matches the bare prefix
    ("https://example.com/crm/", "CRM"),
    ("https://example.com/crm/contacts", "CRM"),
    ("https://example.com/crm/contacts/import/csv", "CRM"),
    ("https://example.com/crm/setup", "CRM setup"),  # /**/ may stand for no segment
    ("https://example.com/crm/eu/v2/setup", "CRM setup"),  # the earlier rule wins
    ("https://example.com/crm/eu/v2/setup-guide", "CRM"),
    ("https://example.com/crmx", None),
    ("https://example.com/blog/launch", "Blog post"),
    ("https://example.com/blog/launch/", "Blog post"),
    ("https://example.com/blog", None),
    ("https://example.com/blog/2024/launch", None),
    ("https://example.com/about", "About"),  # trailing slash ignored on both sides
    ("https://example.com/about/", "About"),
    ("https://example.com/About/Team", None),
    ("https://example.com/cases", "Case studies"),
    ("https://example.com/cases/acme/2024", "Case studies"),
    ("https://example.com/docs/api/guide", "Docs"),  # leading slash added to the pattern
    ("https://example.com/docs/api/v2/guide", None),
    ("https://example.com/", "Home"),
    ("https://example.com", "Home"),
    ("https://example.com/?utm_source=x", "Home"),
    ("https://example.com/faq?.html", None),  # the "?" starts the query string
    ("https://example.com/faq%3F.html", "Literal"),  # "?" is literal in the pattern
    ("https://example.com/faqx.html", None),
    ("https://example.com/caf%C3%A9/menu", "Accents"),
    ("https://example.com/CAFÉ/menu", "Accents"),
    ("https://example.com/contact", None),
    ("/pricing", "Pricing"),
    ("", None),  # no page at all
    ("http://[::1", None),  # unparsable URL
]


@pytest.mark.parametrize(("url", "group"), CASES)
def test_first_matching_rule_names_the_group(
    put_page_group: HitStep, url: str, group: str | None
) -> None:
    after = put_page_group(hit(url))
    assert isinstance(after, Hit)
    assert after.page_group == group


@pytest.mark.parametrize(
    ("rules", "url", "group"),
    [
        ((), "https://example.com/pricing", None),
        ((PageGroupRule("All", "**"),), "https://example.com/any/thing", "All"),
        ((PageGroupRule("All", "/**"),), "https://example.com/", "All"),
        ((PageGroupRule("Blank", "  "), PageGroupRule("B", "/b")), "https://example.com/b", "B"),
        ((PageGroupRule("Blank", ""),), "https://example.com/", None),
        ((PageGroupRule("A", "/x*"), PageGroupRule("B", "/x")), "https://example.com/x", "A"),
        ((PageGroupRule("B", "/x"), PageGroupRule("A", "/x*")), "https://example.com/x", "B"),
        ((PageGroupRule("Dots", "/a.b"),), "https://example.com/aXb", None),
        ((PageGroupRule("Brackets", "/[ab]"),), "https://example.com/[ab]", "Brackets"),
        ((PageGroupRule("Brackets", "/[ab]"),), "https://example.com/a", None),
    ],
)
def test_rule_sets(
    put_page_group: HitStep, rules: tuple[PageGroupRule, ...], url: str, group: str | None
) -> None:
    after = put_page_group(hit(url, rules))
    assert isinstance(after, Hit)
    assert after.page_group == group


def test_a_stale_group_is_replaced_and_the_input_untouched(put_page_group: HitStep) -> None:
    before = hit("https://example.com/contact", page_group="Pricing")
    after = put_page_group(before)
    assert isinstance(after, Hit)
    assert (after.page_group, before.page_group) == (None, "Pricing")
    assert (after.url, after.client) == (before.url, before.client)


def test_each_rule_set_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from webleads.enrich import page_group

    calls: list[tuple[PageGroupRule, ...]] = []
    real = page_group._compile

    def counting(rules: tuple[PageGroupRule, ...]) -> page_group.Matcher:
        calls.append(rules)
        return real(rules)

    monkeypatch.setattr(page_group, "_compile", counting)
    put_page_group = make_put_page_group()
    other = (PageGroupRule("X", "/x"),)
    for url in ("https://example.com/pricing", "https://example.com/crm", "/about"):
        put_page_group(hit(url))
        put_page_group(hit(url, other))
    # Equal tuples built separately share the compiled form.
    put_page_group(hit("/x", (PageGroupRule("X", "/x"),)))
    assert calls == [RULES, other]
