"""What each channel sends: e-mail subject, text and HTML; Slack blocks; a Teams
Adaptive Card; the generic webhook's JSON.  French or English per message.

Every body carries the message's event id, so a receiver can recognise a message it
already has (the same id comes with every retry).  The payload is the alert's data; the
keys used here are listed in docs/alerts.md ("Payload"); unknown keys are kept in the
webhook JSON and ignored elsewhere.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from webleads.outbox.messages import MESSAGES, t
from webleads.outbox.model import Message

MAX_REASONS = 10
MAX_ITEMS = 50  # accounts of a digest shown in one message
_encode = msgspec.json.Encoder(order="sorted")


@dataclass(frozen=True, slots=True)
class Content:
    """The parts of a message shared by every channel, in the message's language."""

    subject: str
    facts: tuple[tuple[str, str], ...]   # (label, value) shown as a small table
    reasons: tuple[str, ...]
    intro: str | None                    # a sentence before the facts (test messages)
    url: str | None                      # the account in the dashboard
    items: tuple[Content, ...]           # a digest's accounts
    event_id: str
    language: str


def account_name(payload: Mapping[str, Any], lang: str) -> str:
    account = payload.get("account")
    if isinstance(account, Mapping):
        name = account.get("name") or account.get("domain")
    else:
        name = account
    return str(name) if name else t(lang, "unknown")


def content(message: Message) -> Content:
    return _content(message.kind, message.payload, message.language, message.event_id)


def _content(kind: str, payload: Mapping[str, Any], lang: str, event: str) -> Content:
    values = {k: v for k, v in payload.items() if isinstance(v, str | int | float)}
    values["account"] = account_name(payload, lang)
    items = payload.get("items")
    listed = [item for item in items if isinstance(item, Mapping)] if isinstance(
        items, list) else []
    values.setdefault("count", len(listed))
    accounts = tuple(_content("item", item, lang, event) for item in listed[:MAX_ITEMS])
    title = payload.get("title")
    key = f"subject_{kind}"
    if isinstance(title, str) and title.strip():
        subject = title.strip()
    else:
        subject = t(lang, key if key in _SUBJECTS else "subject_generic", values)
    url = payload.get("url")
    return Content(
        subject=" ".join(subject.split())[:250],
        facts=_facts(payload, lang),
        reasons=tuple(str(r) for r in payload.get("reasons") or () if r)[:MAX_REASONS],
        intro=t(lang, "test_body") if kind == "test" else None,
        url=url if isinstance(url, str) and url.startswith(("http://", "https://")) else None,
        items=accounts, event_id=event, language=lang,
    )


_SUBJECTS = frozenset(k for k in MESSAGES["en"] if k.startswith("subject_"))


def _facts(payload: Mapping[str, Any], lang: str) -> tuple[tuple[str, str], ...]:
    facts: list[tuple[str, str]] = []
    account = payload.get("account")
    if account:
        name = account_name(payload, lang)
        extra = []
        if isinstance(account, Mapping):
            extra = [str(account[k]) for k in ("domain", "country")
                     if account.get(k) and str(account[k]) != name]
        facts.append((t(lang, "label_account"),
                      f"{name} ({', '.join(extra)})" if extra else name))
    for key in ("score", "grade", "stage", "owner", "page", "site"):
        value = payload.get(key)
        if value is not None and value != "":
            facts.append((t(lang, f"label_{key}"), str(value)))
    return tuple(facts)


# -- e-mail --------------------------------------------------------------------------------

def email_text(c: Content) -> str:
    lines = [c.subject, ""]
    if c.intro:
        lines += [c.intro, ""]
    lines += _text_block(c)
    for item in c.items:
        lines += ["", f"* {item.subject}"] + ["  " + line for line in _text_block(item)]
    lines += ["", "-- ", t(c.language, "footer"), _label(c.language, "label_event") + c.event_id]
    return "\n".join(lines) + "\n"


def _text_block(c: Content) -> list[str]:
    colon = t(c.language, "colon")
    lines = [f"{label}{colon}{value}" for label, value in c.facts]
    if c.reasons:
        lines.append(_label(c.language, "label_why").rstrip())
        lines += [f"  - {r}" for r in c.reasons]
    if c.url:
        lines.append(_label(c.language, "label_open") + c.url)
    return lines


def _label(lang: str, key: str) -> str:
    """``Label: `` in English, ``Libellé : `` in French."""
    return t(lang, key) + t(lang, "colon")


def email_html(c: Content) -> str:
    e = html.escape
    body = [f"<h2 style=\"font-size:18px;margin:0 0 12px\">{e(c.subject)}</h2>"]
    if c.intro:
        body.append(f"<p>{e(c.intro)}</p>")
    body.append(_html_block(c))
    for item in c.items:
        body.append(f"<h3 style=\"font-size:15px;margin:16px 0 6px\">{e(item.subject)}</h3>")
        body.append(_html_block(item))
    body.append(f"<p style=\"color:#777;font-size:12px;margin-top:24px\">"
                f"{e(t(c.language, 'footer'))}<br>{e(_label(c.language, 'label_event'))}"
                f"<code>{e(c.event_id)}</code></p>")
    return (f"<!DOCTYPE html>\n<html lang=\"{e(c.language)}\"><head><meta charset=\"utf-8\">"
            f"<title>{e(c.subject)}</title></head>\n<body style=\"font-family:sans-serif;"
            f"color:#222\">\n" + "\n".join(body) + "\n</body></html>\n")


def _html_block(c: Content) -> str:
    e = html.escape
    parts = []
    if c.facts:
        rows = "".join(f"<tr><th style=\"text-align:left;padding:2px 12px 2px 0\">{e(k)}</th>"
                       f"<td>{e(v)}</td></tr>" for k, v in c.facts)
        parts.append(f"<table>{rows}</table>")
    if c.reasons:
        items = "".join(f"<li>{e(r)}</li>" for r in c.reasons)
        parts.append(f"<p style=\"margin:8px 0 2px\">{e(_label(c.language, 'label_why'))}</p>"
                     f"<ul>{items}</ul>")
    if c.url:
        parts.append(f"<p><a href=\"{e(c.url, quote=True)}\">"
                     f"{e(t(c.language, 'label_open'))}</a></p>")
    return "\n".join(parts)


# -- Slack ---------------------------------------------------------------------------------

def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(c: Content) -> dict[str, Any]:
    """An incoming-webhook payload: ``text`` (notifications, fallback) and ``blocks``."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": c.subject[:150]}}]
    if c.intro:
        blocks.append(_mrkdwn(_slack_escape(c.intro)))
    blocks += _slack_block(c)
    for item in c.items[:20]:
        blocks.append(_mrkdwn(f"*{_slack_escape(item.subject)}*"))
        blocks += _slack_block(item)
    blocks.append({"type": "context", "elements": [{
        "type": "mrkdwn",
        "text": f"{_slack_escape(_label(c.language, 'label_event'))}`{c.event_id}`"}]})
    return {"text": f"{_slack_escape(c.subject)} [{c.event_id}]", "blocks": blocks[:50]}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _slack_block(c: Content) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if c.facts:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*{_slack_escape(k)}*\n{_slack_escape(v)}"[:2000]}
            for k, v in c.facts[:10]]})
    if c.reasons:
        why = "\n".join(f"• {_slack_escape(r)}" for r in c.reasons)
        blocks.append(_mrkdwn(f"*{_slack_escape(t(c.language, 'label_why'))}*\n{why}"))
    if c.url:
        blocks.append(_mrkdwn(f"<{c.url}|{_slack_escape(t(c.language, 'label_open'))}>"))
    return blocks


# -- Microsoft Teams -----------------------------------------------------------------------

def teams_body(c: Content) -> dict[str, Any]:
    """A message with one Adaptive Card (Teams incoming webhooks and Workflows)."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": c.subject, "weight": "Bolder", "size": "Medium",
         "wrap": True}]
    if c.intro:
        body.append({"type": "TextBlock", "text": c.intro, "wrap": True})
    body += _teams_block(c)
    for item in c.items[:20]:
        body.append({"type": "TextBlock", "text": item.subject, "weight": "Bolder",
                     "wrap": True, "spacing": "Medium"})
        body += _teams_block(item)
    body.append({"type": "TextBlock", "text": _label(c.language, "label_event") + c.event_id,
                 "isSubtle": True, "size": "Small", "wrap": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4", "lang": c.language,
        "fallbackText": c.subject, "body": body,
    }
    if c.url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": t(c.language, "label_open"),
                            "url": c.url}]
    return {"type": "message", "summary": c.subject, "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": card}]}


def _teams_block(c: Content) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if c.facts:
        blocks.append({"type": "FactSet",
                       "facts": [{"title": k, "value": v} for k, v in c.facts]})
    if c.reasons:
        blocks.append({"type": "TextBlock", "wrap": True,
                       "text": f"**{t(c.language, 'label_why')}**\n\n"
                               + "\n".join(f"- {r}" for r in c.reasons)})
    if c.url and c.items:
        blocks.append({"type": "TextBlock", "wrap": True,
                       "text": f"[{t(c.language, 'label_open')}]({c.url})"})
    return blocks


# -- generic webhook -----------------------------------------------------------------------

def webhook_body(message: Message) -> bytes:
    """The JSON body: the same bytes on every attempt of one message."""
    return _encode.encode({
        "id": message.event_id,
        "type": message.kind,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
        "workspace_id": message.workspace_id,
        "language": message.language,
        "subject": content(message).subject,
        "data": dict(message.payload),
    })
