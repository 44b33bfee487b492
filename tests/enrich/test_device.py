"""put_device: browser, version, OS and device type from the user agent."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from webleads.enrich.device import make_put_device
from webleads.model import Client, Drop, Site

ClientStep = Callable[[Client], Client | Drop]
SITE = Site(id=1, workspace_id=1, key="k", name="n", domain="example.com")

CASES = [
    # (user agent, browser, browser_version, os, device_type)
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", "Chrome", "124.0", "Windows", "desktop"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80", "Edge", "124.0", "Windows", "desktop"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4.1 Safari/605.1.15", "Safari", "17.4", "Mac OS X", "desktop"),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
     "Firefox", "125.0", "Ubuntu", "desktop"),
    ("Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
     "Firefox", "125.0", "Fedora", "desktop"),
    ("Mozilla/5.0 (X11; FreeBSD amd64; rv:125.0) Gecko/20100101 Firefox/125.0",
     "Firefox", "125.0", "FreeBSD", "desktop"),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", "Chrome", "124.0", "Chrome OS", "desktop"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0", "Opera", "109.0", "Mac OS X", "desktop"),
    ("Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
     "IE", "11.0", "Windows", "desktop"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Slack/4.36.140 Chrome/120.0.6099.291 Electron/28.2.2 Safari/537.36",
     "Electron", "28.2", "Windows", "desktop"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
     "Mobile Safari", "17.4", "iOS", "mobile"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
     "Chrome Mobile iOS", "124.0", "iOS", "mobile"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.6367.82 Mobile Safari/537.36", "Chrome Mobile", "124.0", "Android", "mobile"),
    ("Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "24.0", "Android", "mobile"),
    ("Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
     "Firefox Mobile", "125.0", "Android", "mobile"),
    ("Mozilla/5.0 (Linux; Android 13; SM-S918B Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36",
     "Chrome Mobile WebView", "124.0", "Android", "mobile"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.29.7213",
     "Mobile Safari UI/WKWebView", None, "iOS", "mobile"),
    ("Mozilla/5.0 (Linux; Android 14; SM-G991B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 "
     "[FB_IAB/FB4A;FBAV/460.0.0.48.109;]", "Facebook", "460.0", "Android", "mobile"),
    ("Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.14977",
     "Edge Mobile", "15.14977", "Windows Phone", "mobile"),
    ("Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) "
     "Gecko/48.0 Firefox/48.0 KAIOS/2.5", "Firefox Mobile", "48.0", "KaiOS", "mobile"),
    # tablets
    ("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/16.6 Mobile/15E148 Safari/604.1", "Mobile Safari", "16.6", "iOS", "tablet"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/123.0.0.0 Safari/537.36", "Chrome", "123.0", "Android", "tablet"),
    ("Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
     "Firefox Mobile", "125.0", "Android", "tablet"),
    ("Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Silk/124.2.1 like Chrome/124.0.6367.118 Safari/537.36",
     "Amazon Silk", "124.2", "Android", "tablet"),
    # other: consoles, TVs, VR, unknown
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
     "Edge", "18.19041", "Windows", "other"),
    ("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "76.0.3809.146/6.0 TV Safari/537.36", "Safari", None, "Tizen", "other"),
    ("Mozilla/5.0 (Linux; Android 10; Quest 2) AppleWebKit/537.36 (KHTML, like Gecko) "
     "OculusBrowser/31.0.0.8.48.546016617 SamsungBrowser/4.0 Chrome/120.0.6099.283 VR "
     "Safari/537.36", "Oculus Browser", "31.0", "Android", "other"),
    ("Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/13.0 Safari/605.1.15", "Safari", "13.0", None, "other"),
    ("totally unknown thing/1.0", None, None, None, "other"),
    ("", None, None, None, "other"),
]


@pytest.fixture(scope="module")
def put_device() -> ClientStep:
    return make_put_device()


@pytest.mark.parametrize(("user_agent", "browser", "version", "os", "device_type"), CASES)
def test_device_fields(
    put_device: ClientStep,
    user_agent: str,
    browser: str | None,
    version: str | None,
    os: str | None,
    device_type: str,
) -> None:
    before = Client(site=SITE, ip="203.0.113.5", user_agent=user_agent, visitor="v1")
    after = put_device(before)
    assert isinstance(after, Client)
    assert (after.browser, after.browser_version, after.os, after.device_type) == (
        browser, version, os, device_type,
    )
    # A new value with the other fields untouched; the input is not mutated.
    assert (after.site, after.ip, after.user_agent, after.visitor) == (
        before.site, before.ip, before.user_agent, before.visitor,
    )
    assert before.browser is None and before.device_type is None


def test_version_is_major_minor_at_most(put_device: ClientStep) -> None:
    ua = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.6367.207 Safari/537.36")
    after = put_device(Client(site=SITE, ip=None, user_agent=ua))
    assert isinstance(after, Client)
    assert after.browser_version == "124.0"


def test_the_parse_is_cached_per_user_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    from webleads.enrich import device

    calls: list[str] = []
    real = device._device_type

    def counting(user_agent: str, os_family: str | None, device_family: str | None) -> str:
        calls.append(user_agent)
        return real(user_agent, os_family, device_family)

    monkeypatch.setattr(device, "_device_type", counting)
    put_device = make_put_device(cache_size=4)
    calls.clear()  # the factory's warm-up parse
    ua = CASES[0][0]
    for _ in range(5):
        put_device(Client(site=SITE, ip=None, user_agent=ua))
    assert calls == [ua]


def test_only_the_first_512_characters_are_parsed(put_device: ClientStep) -> None:
    # A phone marker beyond the bound does not turn a desktop into a phone.
    ua = CASES[0][0] + " x" * 300 + " iPhone"
    after = put_device(Client(site=SITE, ip=None, user_agent=ua))
    assert isinstance(after, Client)
    assert after.device_type == "desktop"
