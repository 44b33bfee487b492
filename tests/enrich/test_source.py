"""put_source: source class and name, UTM tags and click ids from URL and referrer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from webleads.enrich.source import make_put_source
from webleads.model import Client, Drop, Hit, Site

HitStep = Callable[[Hit], Hit | Drop]
SITE = Site(id=1, workspace_id=1, key="k", name="n", domain="example.com")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PAGE = "https://www.example.com/pricing"
FIELDS = (
    "source_class", "source_name", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "click_id_kind", "click_id",
)


def hit(url: str, referrer: str = "") -> Hit:
    client = Client(site=SITE, ip="203.0.113.5", user_agent="Mozilla/5.0 (X11)")
    return Hit(client=client, type="pageview", ts=NOW, received_at=NOW, url=url,
               referrer=referrer)


def fields(source_class: str, source_name: str | None = None, **others: str) -> dict[str, object]:
    """The expected values of all source fields; those not given are None."""
    expected: dict[str, object] = dict.fromkeys(FIELDS)
    expected.update(source_class=source_class, source_name=source_name, **others)
    return expected


def got(h: Hit | Drop) -> dict[str, object]:
    assert isinstance(h, Hit)
    return {name: getattr(h, name) for name in FIELDS}


@pytest.fixture(scope="module")
def put_source() -> HitStep:
    return make_put_source()


REFERRERS = [
    # (referrer, class, name): the page URL carries no tags
    ("", "direct", None),
    # search engines
    ("https://www.google.com/", "search", "google"),
    ("https://www.google.fr/", "search", "google"),
    ("https://www.google.co.uk/search?q=crm", "search", "google"),
    ("https://google.com.br/", "search", "google"),
    ("https://www.bing.com/search?q=crm+b2b", "search", "bing"),
    ("https://cn.bing.com/", "search", "bing"),
    ("https://duckduckgo.com/", "search", "duckduckgo"),
    ("https://www.qwant.com/?q=crm", "search", "qwant"),
    ("https://www.ecosia.org/search?q=crm", "search", "ecosia"),
    ("https://fr.search.yahoo.com/search?p=crm", "search", "yahoo"),
    ("https://yandex.ru/search/?text=crm", "search", "yandex"),
    ("https://www.baidu.com/link?url=x", "search", "baidu"),
    ("https://www.startpage.com/", "search", "startpage"),
    ("https://search.brave.com/search?q=crm", "search", "brave"),
    ("android-app://com.google.android.googlequicksearchbox/", "search", "google"),
    # social networks
    ("https://www.linkedin.com/feed/", "social", "linkedin"),
    ("https://lnkd.in/eAbCdEf", "social", "linkedin"),
    ("android-app://com.linkedin.android/", "social", "linkedin"),
    ("https://l.facebook.com/l.php?u=x", "social", "facebook"),
    ("https://m.facebook.com/", "social", "facebook"),
    ("https://t.co/AbC123", "social", "twitter"),
    ("https://x.com/someone/status/1", "social", "twitter"),
    ("https://l.instagram.com/", "social", "instagram"),
    ("https://m.youtube.com/watch?v=x", "social", "youtube"),
    ("https://out.reddit.com/t3_x", "social", "reddit"),
    ("https://www.xing.com/", "social", "xing"),
    ("https://www.viadeo.com/", "social", "viadeo"),
    ("https://www.pinterest.fr/pin/1/", "social", "pinterest"),
    # webmails
    ("https://mail.google.com/", "email", "gmail"),
    ("android-app://com.google.android.gm/", "email", "gmail"),
    ("https://outlook.live.com/", "email", "outlook"),
    ("https://outlook.office.com/mail/", "email", "outlook"),
    ("https://mail.yahoo.com/d/folders/1", "email", "yahoo mail"),
    ("https://webmail.ovh.net/", "email", "webmail.ovh.net"),
    # referrals: anything else, named by host without www.
    ("https://www.capterra.com/p/1/", "referral", "capterra.com"),
    ("https://docs.google.com/document/d/1", "referral", "docs.google.com"),
    ("https://blog.example.com/post", "referral", "blog.example.com"),
    ("https://linkedin.com.evil.example/", "referral", "linkedin.com.evil.example"),
    ("https://notgoogle.com/", "referral", "notgoogle.com"),
    ("https://google.evil.com/", "referral", "google.evil.com"),
    ("https://bücher.de/x", "referral", "bücher.de"),
    ("http://[2001:db8::1]/page", "referral", "2001:db8::1"),
    ("android-app://com.slack/", "referral", "com.slack"),
    # host normalisation
    ("https://WWW.LinkedIn.COM/feed", "social", "linkedin"),
    ("https://user@www.google.com:443/", "search", "google"),
    ("https://www.google.com./", "search", "google"),
    # inside the site
    ("https://www.example.com/", "internal", None),
    ("https://example.com/features", "internal", None),
    # not a referrer: other schemes
    ("about:blank", "direct", None),
    ("javascript:void(0)", "direct", None),
    ("file:///C:/Users/x/page.html", "direct", None),
]


@pytest.mark.parametrize(("referrer", "source_class", "source_name"), REFERRERS)
def test_referrer_classes(
    put_source: HitStep, referrer: str, source_class: str, source_name: str | None
) -> None:
    assert got(put_source(hit(PAGE, referrer))) == fields(source_class, source_name)


def test_the_site_domain_counts_as_internal(put_source: HitStep) -> None:
    h = hit("https://shop.example.com/cart", "https://www.example.com/")
    assert got(put_source(h)) == fields("internal")


LONG = "x" * 500

CAMPAIGNS = [
    # (page query, referrer, expected)
    ("?utm_source=Newsletter&utm_medium=Email&utm_campaign=Spring+Launch", "",
     fields("email", "newsletter", utm_source="newsletter", utm_medium="email",
            utm_campaign="Spring Launch")),
    ("?utm_source=linkedin&utm_medium=cpc&utm_campaign=abm&utm_term=crm&utm_content=v2",
     "https://www.linkedin.com/",
     fields("paid", "linkedin", utm_source="linkedin", utm_medium="cpc", utm_campaign="abm",
            utm_term="crm", utm_content="v2")),
    ("?utm_source=linkedin&utm_medium=social", "",
     fields("social", "linkedin", utm_source="linkedin", utm_medium="social")),
    ("?utm_source=facebook&utm_medium=paid_social", "https://l.facebook.com/",
     fields("paid", "facebook", utm_source="facebook", utm_medium="paid_social")),
    ("?utm_source=criteo&utm_medium=display", "",
     fields("paid", "criteo", utm_source="criteo", utm_medium="display")),
    ("?utm_source=google&utm_medium=organic", "",
     fields("search", "google", utm_source="google", utm_medium="organic")),
    ("?utm_medium=email", "https://mail.google.com/",
     fields("email", "gmail", utm_medium="email")),
    ("?utm_medium=newsletter", "", fields("email", None, utm_medium="newsletter")),
    ("?utm_source=g2&utm_medium=affiliate", "",
     fields("referral", "g2", utm_source="g2", utm_medium="affiliate")),
    # unknown medium: the referrer decides, else referral
    ("?utm_source=capterra&utm_medium=listing", "https://www.capterra.com/",
     fields("referral", "capterra", utm_source="capterra", utm_medium="listing")),
    ("?utm_source=twitter&utm_medium=post", "https://t.co/x",
     fields("social", "twitter", utm_source="twitter", utm_medium="post")),
    ("?utm_source=partner-site", "", fields("referral", "partner-site",
                                              utm_source="partner-site")),
    ("?utm_campaign=q3", "", fields("referral", None, utm_campaign="q3")),
    # tags beat an internal referrer
    ("?utm_source=homepage&utm_medium=banner", "https://example.com/",
     fields("paid", "homepage", utm_source="homepage", utm_medium="banner")),
    ("?utm_source=homepage&utm_medium=hero", "https://example.com/",
     fields("referral", "homepage", utm_source="homepage", utm_medium="hero")),
    # ad click ids are paid, named after the network unless utm_source says otherwise
    ("?gclid=Cj0KCQ", "", fields("paid", "google", click_id_kind="gclid", click_id="Cj0KCQ")),
    ("?gclid=Cj0KCQ", "https://www.google.com/",
     fields("paid", "google", click_id_kind="gclid", click_id="Cj0KCQ")),
    ("?gbraid=0AAAA", "", fields("paid", "google", click_id_kind="gbraid", click_id="0AAAA")),
    ("?wbraid=CkQK", "", fields("paid", "google", click_id_kind="wbraid", click_id="CkQK")),
    ("?msclkid=ab12", "https://www.bing.com/",
     fields("paid", "bing", click_id_kind="msclkid", click_id="ab12")),
    ("?li_fat_id=1234-5678", "",
     fields("paid", "linkedin", click_id_kind="li_fat_id", click_id="1234-5678")),
    ("?gclid=abc&utm_source=adwords", "",
     fields("paid", "adwords", utm_source="adwords", click_id_kind="gclid", click_id="abc")),
    ("?fbclid=f&gclid=g", "", fields("paid", "google", click_id_kind="gclid", click_id="g")),
    # fbclid is added to organic links too: not paid by itself
    ("?fbclid=IwAR0x", "https://l.facebook.com/",
     fields("social", "facebook", click_id_kind="fbclid", click_id="IwAR0x")),
    ("?fbclid=IwAR0x", "https://l.instagram.com/",
     fields("social", "instagram", click_id_kind="fbclid", click_id="IwAR0x")),
    ("?fbclid=IwAR0x", "", fields("social", "facebook", click_id_kind="fbclid",
                                  click_id="IwAR0x")),
    ("?fbclid=IwAR0x&utm_source=facebook&utm_medium=cpc", "",
     fields("paid", "facebook", utm_source="facebook", utm_medium="cpc",
            click_id_kind="fbclid", click_id="IwAR0x")),
    # query-string handling
    ("?UTM_SOURCE=X&Utm_Medium=CPC", "", fields("paid", "x", utm_source="x", utm_medium="cpc")),
    ("?utm_source=a&utm_source=b", "", fields("referral", "a", utm_source="a")),
    ("?utm_source=&utm_medium=%20%20", "", fields("direct")),
    ("?utm_campaign=%20Q3%20Launch%20&utm_term=caf%C3%A9", "",
     fields("referral", None, utm_campaign="Q3 Launch", utm_term="café")),
    (f"?utm_campaign={LONG}&gclid={LONG}", "",
     fields("paid", "google", utm_campaign="x" * 200, click_id_kind="gclid",
            click_id="x" * 200)),
    ("?utm_source=none&utm_medium=(none)", "https://www.google.com/",
     fields("direct", "none", utm_source="none", utm_medium="(none)")),
    ("#utm_source=fragment", "", fields("direct")),
    ("?q=crm&page=2", "", fields("direct")),
]


@pytest.mark.parametrize(("query", "referrer", "expected"), CAMPAIGNS)
def test_campaign_tags_and_click_ids(
    put_source: HitStep, query: str, referrer: str, expected: dict[str, object]
) -> None:
    assert got(put_source(hit(PAGE + query, referrer))) == expected


MALFORMED = [
    ("", ""),
    ("not a url", "also not a url"),
    ("http://[::1", "http://[oops/"),
    ("https://exa mple.com/?utm_source", "%%%"),
    ("\x00\x01\x02", "\udcff\ud800"),
    ("https://[v1.fe]/", "https://[not:an:ip:address]/"),
    ("??==&&;;", "://"),
    ("https://example.com/?" + "&" * 100_000, "https://" + "b" * 100_000),
    ("https://example.com/" + "é" * 50_000, "https:///" + "\u202e" * 10),
]


@pytest.mark.parametrize(("url", "referrer"), MALFORMED)
def test_malformed_input_gives_direct(put_source: HitStep, url: str, referrer: str) -> None:
    assert got(put_source(hit(url, referrer))) == fields("direct")


def test_a_malformed_page_url_keeps_the_referrer(put_source: HitStep) -> None:
    h = hit("http://[::1", "https://www.linkedin.com/")
    assert got(put_source(h)) == fields("social", "linkedin")


def test_a_new_hit_is_returned_and_the_input_is_untouched(put_source: HitStep) -> None:
    before = hit(PAGE + "?utm_source=x", "https://www.google.com/")
    after = put_source(before)
    assert isinstance(after, Hit) and after is not before
    assert before.source_class is None and before.utm_source is None
    assert (after.url, after.referrer, after.client) == (before.url, before.referrer,
                                                         before.client)


def test_referrer_hosts_are_classified_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from webleads.enrich import source

    calls: list[str] = []
    real = source._classify_host

    def counting(host: str) -> tuple[str, str]:
        calls.append(host)
        return real(host)

    monkeypatch.setattr(source, "_classify_host", counting)
    put_source = make_put_source(cache_size=8)
    for path in ("/a", "/b", "/c"):
        put_source(hit(PAGE, "https://www.google.com" + path))
    assert calls == ["google.com"]
