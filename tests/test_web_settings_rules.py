"""Settings › Scoring, Alerts and Deliveries, on both engines: rules listed in words,
added, edited and removed; the preview of a change on a known dataset (nothing saved
until "Save"); alert rules and "Send test" to a real local receiver, refused for a
private address without the setting; the deliveries log with a dead message, its
attempts and "retry"; 404 across workspaces, 403 for sales reps, 400 for bad input;
French and English."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.dashboard import Browser, add_user, text
from tests.test_outbox_receivers import http_receiver
from tests.test_scoring_db import ACME, GLOBEX, T0, hit
from webleads.app import WebleadsApp, create_app
from webleads.db import outbox as outbox_db
from webleads.db import scoring as scoring_db
from webleads.db import store
from webleads.db.schema_lifecycle import alert_rules
from webleads.db.schema_outbox import outbox, webhook_secrets
from webleads.db.schema_privacy import audit_log
from webleads.model import Network
from webleads.outbox.channels import make_senders
from webleads.outbox.queue import enqueue
from webleads.outbox.ssrf import Guard
from webleads.outbox.worker import deliver_due
from webleads.scoring import preview
from webleads.scoring.explain import account_score
from webleads.scoring.setup import current_setup
from webleads.settings import Settings
from webleads.sites import NewSite, create_site

INITECH = Network(asn=64514, as_org="INITECH", org_name="Initech SARL",
                  org_domain="initech.example", category="enterprise", confidence=0.9,
                  country="FR")


@pytest.fixture
def app(settings: Settings, engine: Engine) -> WebleadsApp:
    return create_app(settings, engine=engine)


def two_workspaces(engine: Engine) -> tuple[NewSite, NewSite]:
    return (create_site(engine, "A", "a.example", workspace="A"),
            create_site(engine, "B", "b.example", workspace="B"))


def visits(engine: Engine, site: NewSite) -> None:
    """Acme reads the pricing and demo pages (20 + 25 points: engaged), Globex the
    pricing page (20: engaged), Initech the blog (0: anonymous); an hour ago."""
    ago = datetime.now(UTC) - T0 - timedelta(hours=1)
    s = site.site
    batch = [hit(s, "acme-1", ago, network=ACME, path="/pricing"),
             hit(s, "acme-1", ago + timedelta(minutes=2), network=ACME, path="/demo"),
             hit(s, "globex-1", ago, network=GLOBEX, path="/pricing"),
             hit(s, "initech-1", ago, network=INITECH, path="/blog/news")]
    with engine.begin() as conn:
        store.store_hits(conn, batch)


def preview_numbers(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-preview="(\w+)">([\d\s\u202f,]+)<', html)}


def rule_id(engine: Engine, workspace_id: int, name: str) -> int:
    with engine.connect() as conn:
        return next(r.id for r in scoring_db.load_rules(conn, workspace_id)
                    if r.name == name and r.id is not None)


def test_rules_are_listed_added_edited_and_removed(app: WebleadsApp) -> None:
    two_workspaces(app.engine)
    add_user(app, "mk@example.com", role="marketer", workspace=1)
    with Browser(app) as b:
        b.login("mk@example.com")
        page = text(b.get("/w/1/settings/scoring").text)
        assert "pricing page" in page and "at most 1 time per day per account" in page
        assert "Webinar replay" not in page
        # Bad input: the form comes back with each problem next to its field.
        bad = b.post("/w/1/settings/scoring/rules/new", {
            "label": "", "points": "lots", "types": "pageview", "path_regex": "(",
            "cap": "2", "per": "fortnight", "action": "save"})
        assert bad.status_code == 400
        for field in ("label", "points", "path_regex", "per"):
            assert f'id="e-{field}"' in bad.text, field
        assert "Expected a whole number" in text(bad.text) or "whole number" in text(bad.text)
        assert b.post("/w/1/settings/scoring/rules/new", {
            "label": "x", "points": "1", "min_engaged_s": "1e999", "action": "save"}
        ).status_code == 400
        saved = b.post("/w/1/settings/scoring/rules/new", {
            "label": "Webinar replay", "label_fr": "Replay de webinaire", "points": "12",
            "enabled": "on", "types": "pageview", "path": "/webinar*, /replay*",
            "cap": "1", "per": "week", "action": "save"})
        assert saved.status_code == 303, saved.text[:300]
        page = text(b.get("/w/1/settings/scoring").text)
        assert "Webinar replay" in page and "/webinar*" in page
        assert "at most 1 time per week per account" in page
        new_id = rule_id(app.engine, 1, "webinar-replay")
        edited = b.post(f"/w/1/settings/scoring/rules/{new_id}", {
            "label": "Webinar replay", "points": "30", "enabled": "", "types": "pageview",
            "path": "/webinar*", "action": "save"})
        assert edited.status_code == 303
        with app.engine.connect() as conn:
            rule = next(r for r in scoring_db.load_rules(conn, 1) if r.id == new_id)
        assert (rule.points, rule.enabled, rule.cap, rule.when.path) == (
            30, False, None, ("/webinar*",))
        assert "+30" in text(b.get("/w/1/settings/scoring").text)
        confirm = b.get(f"/w/1/settings/scoring/rules/{new_id}/remove")
        assert confirm.status_code == 200 and "Remove the rule" in text(confirm.text)
        assert b.post(f"/w/1/settings/scoring/rules/{new_id}/remove").status_code == 303
        assert "Webinar replay" not in text(b.get("/w/1/settings/scoring").text)
        # A fit rule, and the thresholds.
        fit = b.post("/w/1/settings/scoring/fit/new", {
            "label": "Software sector", "points": "25", "enabled": "on", "naf": "62, 63",
            "headcount": ["21", "22"], "action": "save"})
        assert fit.status_code == 303
        page = text(b.get("/w/1/settings/scoring").text)
        assert "Software sector" in page and "50 to 99 employees" not in page
        bad = b.post("/w/1/settings/scoring/thresholds", {
            "half_life_days": "0", "engaged": "60", "mql": "50", "grade_a": "10",
            "grade_b": "20", "grade_c": "5", "action": "save"})
        assert bad.status_code == 400
        for field in ("half_life_days", "mql", "grade_b"):
            assert f'id="e-{field}"' in bad.text, field
        ok = b.post("/w/1/settings/scoring/thresholds", {
            "half_life_days": "14", "engaged": "15", "mql": "60", "grade_a": "70",
            "grade_b": "40", "grade_c": "10", "action": "save"})
        assert ok.status_code == 303
    with app.engine.connect() as conn:
        state = scoring_db.load_state(conn, 1)
        actions = conn.execute(sa.select(audit_log.c.action)
                               .where(audit_log.c.action.like("scoring.%"))).scalars().all()
    assert state is not None and state.half_life_days == 14 and state.grades.a == 70
    assert sorted(actions) == ["scoring.fit.add", "scoring.rule.add", "scoring.rule.edit",
                               "scoring.rule.remove", "scoring.thresholds"]


def test_the_preview_shows_the_stage_changes_and_saves_nothing(app: WebleadsApp) -> None:
    site, _ = two_workspaces(app.engine)
    visits(app.engine, site)
    add_user(app, "mk@example.com", role="marketer", workspace=1)
    pricing = rule_id(app.engine, 1, "pricing")
    with app.engine.connect() as conn:
        accounts = {name: i for i, name in conn.execute(sa.text(
            "SELECT id, name FROM accounts"))}
        before = {n: round(account_score(conn, i, datetime.now(UTC))) for n, i in
                  accounts.items()}
    assert before == {"Acme SA": 45, "Globex Corp": 20, "Initech SARL": 0}
    form = {"label": "pricing page", "points": "40", "enabled": "on", "types": "pageview",
            "path_regex": "(^|/)pricing(/|$)", "cap": "1", "per": "day"}
    with Browser(app) as b:
        b.login("mk@example.com")
        shown = b.post(f"/w/1/settings/scoring/rules/{pricing}",
                       {**form, "action": "preview"})
        assert shown.status_code == 200
        # Acme 45 -> 65 reaches MQL (50); Globex 20 -> 40 stays engaged.
        assert preview_numbers(shown.text) == {"scores": 2, "up": 1, "down": 0, "grades": 0}
        rows = text(shown.text)
        assert "45 65 engaged → MQL" in rows and "20 40 engaged" in rows
        assert "Nothing is saved yet" in rows
        # Thresholds too: MQL at 15 would make Acme and Globex MQLs by their score.
        shown = b.post("/w/1/settings/scoring/thresholds", {
            "half_life_days": "30", "engaged": "10", "mql": "15", "grade_a": "60",
            "grade_b": "35", "grade_c": "15", "action": "preview"})
        assert preview_numbers(shown.text)["up"] == 2
        # Removing the pricing rule takes Globex back to anonymous by score.
        shown = b.get(f"/w/1/settings/scoring/rules/{pricing}/remove")
        assert preview_numbers(shown.text) == {"scores": 2, "up": 0, "down": 1, "grades": 0}
        with app.engine.connect() as conn:
            assert next(r for r in scoring_db.load_rules(conn, 1) if r.id == pricing
                        ).points == 20
            assert round(account_score(conn, accounts["Acme SA"], datetime.now(UTC))) == 45
            assert conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(
                audit_log.c.action.like("scoring.%"))).scalar_one() == 0
        saved = b.post(f"/w/1/settings/scoring/rules/{pricing}", {**form, "action": "save"})
        assert saved.status_code == 303
        assert "past hits" in text(b.get(saved.headers["location"]).text)
    with app.engine.connect() as conn:
        assert round(account_score(conn, accounts["Acme SA"], datetime.now(UTC))) == 65
        assert round(account_score(conn, accounts["Globex Corp"], datetime.now(UTC))) == 40


def test_alert_rules_and_a_test_sent_to_a_local_receiver(settings: Settings,
                                                        engine: Engine) -> None:
    app = create_app(settings.model_copy(update={"allow_private_destinations": True}),
                     engine=engine)
    two_workspaces(engine)
    add_user(app, "mk@example.com", role="marketer", workspace=1)
    with http_receiver() as receiver, Browser(app) as b:
        b.login("mk@example.com")
        assert "No alert rule yet" in text(b.get("/w/1/settings/alerts").text)
        bad = b.post("/w/1/settings/alerts/rules", {
            "kind": "score_crosses", "threshold": "", "channel": "webhook",
            "destination": receiver.url, "cooldown_hours": "-1", "quiet_from": "20:00"})
        assert bad.status_code == 400
        for field in ("threshold", "cooldown_hours", "quiet_from"):
            assert f'id="e-{field}"' in bad.text, field
        added = b.post("/w/1/settings/alerts/rules", {
            "kind": "score_crosses", "threshold": "40", "channel": "webhook",
            "destination": receiver.url, "language": "en", "cooldown_hours": "12",
            "quiet_from": "20:00", "quiet_to": "08:00", "timezone": "Europe/Paris"})
        assert added.status_code == 200  # the page, with the signing secret shown once
        with engine.connect() as conn:
            secret = conn.execute(sa.select(webhook_secrets.c.secret)).scalar_one()
            [alert_id] = conn.execute(sa.select(alert_rules.c.id)).scalars().all()
        assert secret in added.text
        page = b.get("/w/1/settings/alerts")
        assert secret not in page.text  # once
        assert "An account's score reaches 40" in text(page.text)
        assert "quiet 20:00-08:00 (Europe/Paris)" in text(page.text)
        receiver.secret = secret  # the receiver checks the signature
        result = b.htmx("POST", "/w/1/settings/alerts/test",
                        {"channel": "webhook", "destination": receiver.url})
        assert result.status_code == 200
        assert 'data-outcome="delivered"' in result.text and "Answer: 200" in text(result.text)
        assert [r.signature_ok for r in receiver.requests] == [True]
        assert receiver.requests[0].json()["type"] == "test"
        receiver.status = 500
        failed = b.htmx("POST", "/w/1/settings/alerts/test",
                        {"channel": "webhook", "destination": receiver.url})
        assert 'data-outcome="failed"' in failed.text and "Answer: 500" in text(failed.text)
        no_mail = b.htmx("POST", "/w/1/settings/alerts/test",
                         {"channel": "email", "destination": "rep@example.com"})
        assert 'data-outcome="no_smtp"' in no_mail.text
        assert b.post("/w/1/settings/alerts/test", {"channel": "fax", "destination": ""}
                      ).status_code == 400
        b.post(f"/w/1/settings/alerts/rules/{alert_id}/disable")
        assert 'class="off"' in b.get("/w/1/settings/alerts").text
        b.post(f"/w/1/settings/alerts/rules/{alert_id}/enable")
        assert 'class="off"' not in b.get("/w/1/settings/alerts").text
        rotated = b.post("/w/1/settings/alerts/secret", {"url": receiver.url})
        with engine.connect() as conn:
            new_secret = conn.execute(sa.select(webhook_secrets.c.secret)).scalar_one()
        assert new_secret != secret and new_secret in rotated.text
        assert b.post("/w/1/settings/alerts/secret",
                      {"url": "https://elsewhere.example/"}).status_code == 404
        assert b.post(f"/w/1/settings/alerts/rules/{alert_id}/remove").status_code == 303
        assert "No alert rule yet" in text(b.get("/w/1/settings/alerts").text)


def test_a_private_address_is_refused_without_the_setting(app: WebleadsApp) -> None:
    two_workspaces(app.engine)
    add_user(app, "mk@example.com", role="marketer", workspace=1, locale="fr")
    with http_receiver() as receiver, Browser(app) as b:
        b.login("mk@example.com")
        refused = b.htmx("POST", "/w/1/settings/alerts/test",
                         {"channel": "webhook", "destination": receiver.url})
        assert 'data-outcome="refused"' in refused.text
        assert "réseau privé ou local" in text(refused.text)
        page = b.post("/w/1/settings/alerts/test",
                      {"channel": "slack", "destination": "http://10.0.0.8/hook"})
        assert page.status_code == 200 and "Refusé" in text(page.text)
        bad = b.post("/w/1/settings/alerts/rules", {
            "kind": "becomes_mql", "channel": "webhook", "destination": receiver.url})
        assert bad.status_code == 400 and 'id="e-destination"' in bad.text
        assert receiver.requests == []
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(alert_rules)
                            ).scalar_one() == 0


def dead_message(engine: Engine, url: str, workspace_id: int = 1) -> int:
    """A message the receiver refuses for good (HTTP 410): dead after one attempt."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        message_id = enqueue(conn, workspace_id=workspace_id, channel="webhook",
                             destination=url, kind="mql", payload={"score": 70},
                             language="en", idempotency_key=f"k-{url}-{workspace_id}",
                             now=now, allow_private=True)
    assert message_id is not None
    deliver_due(engine, now=now, worker_id="test", limit=10,
                senders=make_senders(guard=Guard(allow_private=True)))
    return message_id


def test_deliveries_log_shows_a_dead_message_and_retry(app: WebleadsApp) -> None:
    two_workspaces(app.engine)
    add_user(app, "mk@example.com", role="marketer", workspace=1)
    with http_receiver(status=410) as receiver:
        message_id = dead_message(app.engine, receiver.url)
    with app.engine.begin() as conn:
        for i in range(52):
            enqueue(conn, workspace_id=1, channel="email", destination=f"r{i}@example.com",
                    kind="hot_page", payload={}, language="fr", idempotency_key=f"p{i}",
                    now=datetime.now(UTC))
    with Browser(app) as b:
        b.login("mk@example.com")
        dead = b.get("/w/1/settings/deliveries?state=dead")
        assert dead.status_code == 200
        assert re.findall(r'data-message="(\d+)"', dead.text) == [str(message_id)]
        assert 'data-attempt="1"' in dead.text and "410" in text(dead.text)
        assert "refused for good" in text(dead.text)
        pending = b.get("/w/1/settings/deliveries?state=pending")
        assert len(re.findall(r'data-message="(\d+)"', pending.text)) == 50
        assert "Page 1 of 2" in text(pending.text) and "Older messages" in text(pending.text)
        second = b.get("/w/1/settings/deliveries?state=pending&page=2")
        assert len(re.findall(r'data-message="(\d+)"', second.text)) == 2
        assert "Newer messages" in text(second.text)
        assert b.get("/w/1/settings/deliveries?state=nonsense").status_code == 200
        assert b.get("/w/1/settings/deliveries?page=abc").status_code == 400
        assert "page" in text(b.get("/w/1/settings/deliveries?page=0").text)
        detail = b.get(f"/w/1/settings/deliveries/{message_id}")
        assert detail.status_code == 200 and "HTTP 410" in text(detail.text)
        retried = b.post(f"/w/1/settings/deliveries/{message_id}/retry")
        assert retried.status_code == 303
        with app.engine.connect() as conn:
            stored = outbox_db.get_message(conn, message_id)
        assert stored is not None and stored.state == "pending" and stored.attempts == 0
        assert str(message_id) in re.findall(  # the oldest: on the second page
            r'data-message="(\d+)"',
            b.get("/w/1/settings/deliveries?state=pending&page=2").text)
        assert b.post(f"/w/1/settings/deliveries/{message_id}/retry").status_code == 409
        b.post("/lang", {"lang": "fr", "next": "/"})
        fr = text(b.get("/w/1/settings/deliveries?page=2").text)
        assert "en attente" in fr and "Tentatives" in fr and "1 tentative" in fr
        assert "Page 2 sur 2" in fr


def test_other_workspaces_ids_are_404_and_sales_reps_get_403(app: WebleadsApp) -> None:
    two_workspaces(app.engine)
    add_user(app, "a@example.com", role="admin", workspace=1)
    add_user(app, "rep@example.com", role="sales", workspace=1)
    add_user(app, "b@example.com", role="admin", workspace=2)
    with http_receiver(status=410) as receiver:
        message_b = dead_message(app.engine, receiver.url, workspace_id=2)
    with Browser(app) as b:
        b.login("b@example.com")
        b.get("/w/2/settings/scoring")  # seeds workspace B's rules
        b.post("/w/2/settings/alerts/rules", {
            "kind": "becomes_mql", "channel": "email", "destination": "x@b.example",
            "cooldown_hours": "24"})
    with app.engine.connect() as conn:
        rule_b = next(r.id for r in scoring_db.load_rules(conn, 2))
        fit_b = next(r.id for r in scoring_db.load_fit_rules(conn, 2))
        alert_b = conn.execute(sa.select(alert_rules.c.id)).scalar_one()
    form = {"label": "x", "points": "1", "action": "save"}
    with Browser(app) as b:
        b.login("a@example.com")
        b.get("/w/1/settings/scoring")
        for method, url, data in [
            ("GET", f"/w/1/settings/scoring/rules/{rule_b}", None),
            ("POST", f"/w/1/settings/scoring/rules/{rule_b}", form),
            ("GET", f"/w/1/settings/scoring/rules/{rule_b}/remove", None),
            ("POST", f"/w/1/settings/scoring/rules/{rule_b}/remove", {}),
            ("GET", f"/w/1/settings/scoring/fit/{fit_b}", None),
            ("POST", f"/w/1/settings/scoring/fit/{fit_b}/remove", {}),
            ("GET", "/w/1/settings/scoring/other/new", None),
            ("POST", f"/w/1/settings/alerts/rules/{alert_b}/disable", {}),
            ("POST", f"/w/1/settings/alerts/rules/{alert_b}/remove", {}),
            ("GET", f"/w/1/settings/deliveries/{message_b}", None),
            ("POST", f"/w/1/settings/deliveries/{message_b}/retry", {}),
            ("GET", "/w/2/settings/scoring", None),
            ("GET", "/w/2/settings/deliveries", None),
        ]:
            response = b.get(url) if method == "GET" else b.post(url, data)
            assert response.status_code == 404, (method, url, response.status_code)
        assert b.get("/w/1/settings/deliveries/99999999999999999999").status_code == 400
    with app.engine.connect() as conn:
        assert conn.execute(sa.select(alert_rules.c.enabled)).scalar_one() is True
        assert conn.execute(sa.select(outbox.c.state).where(outbox.c.id == message_b)
                            ).scalar_one() == "dead"
    with Browser(app) as b:
        b.login("rep@example.com")
        for url in ("/w/1/settings/scoring", "/w/1/settings/scoring/rules/new",
                    "/w/1/settings/alerts", "/w/1/settings/deliveries"):
            assert b.get(url).status_code == 403, url
        assert b.post("/w/1/settings/scoring/thresholds", {"action": "save"}
                      ).status_code == 403
        assert b.post("/w/1/settings/alerts/test", {"channel": "webhook",
                                                    "destination": "https://x.example/"}
                      ).status_code == 403


def test_scoring_page_in_french(app: WebleadsApp) -> None:
    two_workspaces(app.engine)
    add_user(app, "fr@example.com", role="admin", workspace=1, locale="fr")
    with Browser(app) as b:
        b.login("fr@example.com")
        page = text(b.get("/w/1/settings/scoring").text)
        assert "Règles de comportement" in page and "page tarifs" in page
        assert "au plus 1 fois par jour par compte" in page
        bad = b.post("/w/1/settings/scoring/rules/new", {"label": "", "points": "x",
                                                        "action": "preview"})
        assert bad.status_code == 400 and "Obligatoire" in text(bad.text)
        assert "Aucune règle d'alerte" in text(b.get("/w/1/settings/alerts").text)


def test_a_sample_gives_the_sampled_accounts_their_exact_scores(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    site, _ = two_workspaces(engine)
    visits(engine, site)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        current = current_setup(conn, 1, now=now)
    candidate = replace(current, rules=tuple(replace(r, points=40) if r.name == "pricing"
                                             else r for r in current.rules))
    with engine.connect() as conn:
        whole = preview.preview(conn, 1, current, candidate, now=now)
        monkeypatch.setattr(preview, "MAX_HITS", 3)
        monkeypatch.setattr(preview, "TOP_FIRST", 1)
        sample = preview.preview(conn, 1, current, candidate, now=now)
    assert not whole.sampled and sample.sampled
    assert (whole.accounts, sample.accounts, sample.total_accounts) == (3, 2, 3)
    assert sample.hits < whole.hits
    exact = {c.account_id: c.new_score for c in whole.top}
    assert len(exact) == 2  # Acme and Globex change; Initech keeps 0
    assert [c.name for c in sample.top][:1] == ["Acme SA"]  # the highest score comes first
    for c in sample.top:
        assert c.new_score == pytest.approx(exact[c.account_id])
