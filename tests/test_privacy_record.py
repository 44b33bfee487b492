"""The record of processing comes from the installation's configuration: sites and their
options, retention, data sources and licences, alert recipients; French and English."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from webleads.db.engine import read_only
from webleads.db.lifecycle import add_alert_rule
from webleads.privacy import record
from webleads.privacy.cli import register
from webleads.privacy.retention import Retention, set_retention
from webleads.settings import Settings
from webleads.sites import NewSite

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def _facts(engine: Engine, tmp_path: Path) -> record.Facts:
    with read_only(engine) as conn:
        return record.gather(conn, data_dir=str(tmp_path))


def test_record_names_sites_options_and_licences(engine: Engine, site: NewSite,
                                                 tmp_path: Path) -> None:
    facts = _facts(engine, tmp_path)
    assert facts.sources and all(s.licence for s in facts.sources)
    en = record.render(facts, lang="en")
    fr = record.render(facts, lang="fr")
    key = site.site.key
    assert "Record of processing activities" in en and "Registre des activités" in fr
    for text in (en, fr):
        assert key in text and "example.com" in text
        for source in facts.sources:
            assert source.licence in text and source.name in text
    assert "raw IP stored: no" in en and "IP brute conservée : non" in fr
    assert "Do Not Track / Global Privacy Control honoured: yes" in en
    assert "truncated network" in en and "réseau tronqué" in fr
    assert "raw hits 400 days; sessions 760 days; contacts not seen for 1095 days" in en
    assert "legitimate interest" in en and "intérêt légitime" in fr
    assert "No alert channel is configured" in en
    data = record.to_dict(facts, lang="fr")
    json.dumps(data)
    assert data["language"] == "fr" and data["facts"]["sites"][0]["key"] == key


def test_record_follows_the_configuration(engine: Engine, site: NewSite,
                                          tmp_path: Path) -> None:
    before = record.render(_facts(engine, tmp_path), lang="en")
    set_retention(engine, site.site.id, Retention(hits_days=390, sessions_days=760,
                                                  contacts_days=365), by="t", now=NOW)
    with engine.begin() as conn:
        add_alert_rule(conn, workspace_id=site.site.workspace_id, kind="mql", params={},
                       channel="slack", destination="https://hooks.slack.com/services/T/B/SECRET",
                       language="en", cooldown_hours=24, quiet_hours=None, timezone="UTC",
                       digest=False, now=NOW)
        add_alert_rule(conn, workspace_id=site.site.workspace_id, kind="mql", params={},
                       channel="email", destination="sales@example.com", language="fr",
                       cooldown_hours=24, quiet_hours=None, timezone="UTC", digest=False,
                       now=NOW)
    after = record.render(_facts(engine, tmp_path), lang="en")
    assert after != before
    assert "raw hits 390 days" in after and "contacts not seen for 365 days" in after
    assert "slack to https://hooks.slack.com/…" in after and "SECRET" not in after
    assert "email to sales@example.com" in after
    assert "No alert channel" not in after


def test_record_command(engine: Engine, site: NewSite, settings: Settings,
                        tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    env = {"WEBLEADS_DATABASE_URL": settings.database_url, "WEBLEADS_LANG": "en",
           "WEBLEADS_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    result = runner.invoke(app, ["privacy", "record", "--lang", "fr"], env=env)
    assert result.exit_code == 0 and "Registre des activités" in result.stdout
    assert site.site.key in result.stdout
    result = runner.invoke(app, ["privacy", "record", "--format", "json"], env=env)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"].startswith("Record of processing")
    result = runner.invoke(app, ["privacy", "record", "--format", "pdf"], env=env)
    assert result.exit_code == 2


def test_record_names_each_sites_privacy_and_consent_mode(engine: Engine, site: NewSite,
                                                          tmp_path: Path) -> None:
    from webleads.sites import update_site

    assert "B2B mode" in record.render(_facts(engine, tmp_path), lang="en")
    update_site(engine, site.site.key, privacy_mode="audience", consent="wait")
    english = record.render(_facts(engine, tmp_path), lang="en")
    french = record.render(_facts(engine, tmp_path), lang="fr")
    assert "audience measurement mode (CNIL exemption" in english
    assert "before consent: nothing collected" in english
    assert "mode mesure d'audience" in french and "rien n'est collecté" in french
