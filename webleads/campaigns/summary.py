"""The summary e-mail of a campaign that ended: what it brought, what to adjust.

``send_summaries(engine, now)`` looks for campaigns whose last day is between
``ENDED_WITHIN`` days ago and yesterday (UTC) and that have no summary yet, and
enqueues one e-mail per admin and marketer of their workspace, in each person's
language, through the outbox.  The outbox key ``campaign-summary:{campaign}:{person}``
makes it idempotent, and ``campaign_summaries`` remembers the campaign was done, so the
periodic job of ``webleads serve`` may run it hourly and several processes may run it.

The advice is a short list of rules over the report (no visits, no identified
accounts, no MQL, no cost entered, over budget, negative or high ROI, little focus on
the campaign's product range).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from babel import numbers as bnumbers
from sqlalchemy.engine import Connection, Engine

from webleads.campaigns.attribution import DEFAULT_LOOKBACK, Model
from webleads.campaigns.conversions import range_focus
from webleads.campaigns.messages import t
from webleads.campaigns.reports import CampaignReport, ReportSet, report_set
from webleads.db import campaigns as db
from webleads.outbox.queue import enqueue

ENDED_WITHIN = timedelta(days=14)
MODEL: Model = "position_based"
FOCUS_LOW = 0.5  # share of page views on the campaign's range below which it is advice


def summary_job(engine: Engine, *, allow_private: bool = False) -> Callable[[datetime], int]:
    def run(now: datetime) -> int:
        return send_summaries(engine, now, allow_private=allow_private)

    return run


def _money(cents: int, currency: str, lang: str) -> str:
    return bnumbers.format_currency(cents / 100, currency,
                                    locale="fr_FR" if lang == "fr" else "en_GB")


def _number(value: int, lang: str) -> str:
    return bnumbers.format_decimal(value, locale="fr_FR" if lang == "fr" else "en_GB")


def _percent(value: float, lang: str) -> str:
    return bnumbers.format_percent(value, locale="fr_FR" if lang == "fr" else "en_GB")


def brought(r: CampaignReport, lang: str) -> list[str]:
    """What the campaign brought, in a few lines."""
    c = r.campaign

    def n(value: int) -> str:
        return _number(value, lang)

    lines = [t(lang, "sum_visits", visits=n(r.sessions), accounts=n(r.identified_accounts),
               new=n(r.new_accounts)),
             t(lang, "sum_leads", mqls=n(r.mqls), sqls=n(r.sqls), deals=n(r.won_deals),
               revenue=_money(r.revenue(MODEL), c.currency, lang))]
    if r.cost_cents:
        per = r.cost_per_mql_cents
        roi = r.roi(MODEL)
        lines.append(t(lang, "sum_cost", cost=_money(r.cost_cents, c.currency, lang),
                       per_mql=_money(per, c.currency, lang) if per is not None else "-",
                       roi=_percent(roi, lang) if roi is not None else "-"))
    if r.email_clicks or r.clicks:
        lines.append(t(lang, "sum_clicks", clicks=n(r.clicks + r.email_clicks),
                       contacts=n(r.contacts_clicked)))
    return lines


def advice(r: CampaignReport, lang: str, *, focus: float | None) -> list[str]:
    """What to adjust next time (rules over the report)."""
    c = r.campaign
    out: list[str] = []
    if r.sessions == 0:
        out.append(t(lang, "adv_no_visits", key=c.utm_campaign))
    elif r.identified_accounts == 0:
        out.append(t(lang, "adv_no_accounts"))
    elif r.mqls == 0:
        out.append(t(lang, "adv_no_mql"))
    if r.cost_cents == 0:
        out.append(t(lang, "adv_no_cost"))
    else:
        if c.budget_cents is not None and r.cost_cents > c.budget_cents:
            out.append(t(lang, "adv_over_budget", over=_money(
                r.cost_cents - c.budget_cents, c.currency, lang)))
        roi = r.roi(MODEL)
        if roi is not None and roi < 0:
            out.append(t(lang, "adv_negative_roi", roi=_percent(roi, lang)))
        elif roi is not None and roi >= 1:
            out.append(t(lang, "adv_paid_back", roi=_percent(roi, lang)))
    if c.page_group and focus is not None and focus < FOCUS_LOW:
        out.append(t(lang, "adv_focus", share=_percent(focus, lang), range=c.page_group))
    return out or [t(lang, "adv_nothing")]


def focus_share(conn: Connection, rs: ReportSet, r: CampaignReport) -> float | None:
    """Share of the campaign's page views on its product range (None: no range, or no
    page view)."""
    if not r.campaign.page_group:
        return None
    views, _ = range_focus(conn, rs, r.campaign.id)
    total = sum(views.values())
    return views.get(r.campaign.page_group, 0) / total if total else None


def payload(r: CampaignReport, lang: str, *, focus: float | None) -> dict[str, Any]:
    c = r.campaign
    lines = [*brought(r, lang)]
    lines += [t(lang, "adv_prefix", advice=a) for a in advice(r, lang, focus=focus)]
    return {"title": t(lang, "sum_subject", name=c.name), "campaign": r.as_dict(),
            "model": MODEL, "items": [{"title": line} for line in lines]}


def recipient_key(campaign_id: int, email: str) -> str:
    who = hashlib.sha256(email.lower().encode()).hexdigest()[:24]
    return f"campaign-summary:{campaign_id}:{who}"


def send_summaries(engine: Engine, now: datetime, *, allow_private: bool = False,
                   lookback: timedelta = DEFAULT_LOOKBACK) -> int:
    """Enqueue the summaries of the campaigns that ended lately; the number of new
    messages."""
    today = now.date()
    made = 0
    with engine.begin() as conn:
        due = db.ended_unsummarised(conn, ended_from=today - ENDED_WITHIN,
                                    ended_to=today - timedelta(days=1))
        for workspace_id in sorted({c.workspace_id for c in due}):
            rs = report_set(conn, workspace_id, lookback=lookback)
            people = db.summary_recipients(conn, workspace_id)
            for campaign in (c for c in due if c.workspace_id == workspace_id):
                report = rs.get(campaign.id)
                assert report is not None
                focus = focus_share(conn, rs, report)
                for person in people:
                    new = enqueue(conn, workspace_id=workspace_id, channel="email",
                                  destination=person.email, kind="campaign_summary",
                                  payload=payload(report, person.language, focus=focus),
                                  language="fr" if person.language == "fr" else "en",
                                  idempotency_key=recipient_key(campaign.id, person.email),
                                  now=now, allow_private=allow_private)
                    made += new is not None
                db.mark_summarised(conn, campaign.id, recipients=len(people), now=now)
    return made
