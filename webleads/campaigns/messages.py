"""Texts of the campaign commands in English and French (same keys: a test checks)."""

from __future__ import annotations

from webleads.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "bad_input": "Invalid input: {error}",
        "no_workspace": "No workspace yet: create a site first (webleads site add).",
        "which_workspace": "Several workspaces: choose one with --workspace ({ids}).",
        "unknown_workspace": "No workspace {id}.",
        "no_campaign": "No campaign {name!r} in this workspace (see webleads campaigns list).",
        "added": "Campaign {name} added (id {id}, utm_campaign={key}).",
        "none": "No campaign yet: add one with  webleads campaigns add NAME --channel email "
                "--objective mqls --from 2026-01-01 --to 2026-01-31",
        "file_error": "Cannot read {file}: {error}",
        "costs_error": "Nothing imported: {count} error(s).",
        "costs_done": "{lines} lines read: {days} daily amounts saved ({totals}).",
        "link_utm": "UTM link:   {url}",
        "link_short": "Short link: {url}",
        "link_short_path": "Short link: {path}  (prefix it with your webleads address; "
                           "set --base https://tracker.example.com)",
        "report_title": "Campaigns of workspace {ws}; credits of MQL conversions: {model} "
                        "(lookback {lookback} days).",
        "col_id": "id", "col_name": "name", "col_channel": "channel", "col_range": "range",
        "col_objective": "objective", "col_dates": "dates", "col_budget": "budget",
        "col_utm": "utm_campaign", "col_sessions": "sessions", "col_accounts": "accounts",
        "col_new": "new accounts", "col_mqls": "MQLs", "col_clicks": "clicks",
        "col_cost": "cost", "col_cpm": "cost/MQL", "col_credit": "credited MQLs",
    },
    "fr": {
        "bad_input": "Saisie invalide : {error}",
        "no_workspace": "Aucun espace de travail : créez d'abord un site (webleads site add).",
        "which_workspace": "Plusieurs espaces de travail : choisissez avec --workspace ({ids}).",
        "unknown_workspace": "Aucun espace de travail {id}.",
        "no_campaign": "Aucune campagne {name!r} dans cet espace de travail "
                       "(voir webleads campaigns list).",
        "added": "Campagne {name} ajoutée (id {id}, utm_campaign={key}).",
        "none": "Aucune campagne : ajoutez-en une avec  webleads campaigns add NOM --channel "
                "email --objective mqls --from 2026-01-01 --to 2026-01-31",
        "file_error": "Impossible de lire {file} : {error}",
        "costs_error": "Rien n'a été importé : {count} erreur(s).",
        "costs_done": "{lines} lignes lues : {days} montants journaliers enregistrés "
                      "({totals}).",
        "link_utm": "Lien UTM :   {url}",
        "link_short": "Lien court : {url}",
        "link_short_path": "Lien court : {path}  (à préfixer par l'adresse de votre webleads ; "
                           "option --base https://tracker.exemple.fr)",
        "report_title": "Campagnes de l'espace de travail {ws} ; crédits des conversions MQL : "
                        "{model} (fenêtre de {lookback} jours).",
        "col_id": "id", "col_name": "nom", "col_channel": "canal", "col_range": "gamme",
        "col_objective": "objectif", "col_dates": "dates", "col_budget": "budget",
        "col_utm": "utm_campaign", "col_sessions": "sessions", "col_accounts": "comptes",
        "col_new": "nouveaux comptes", "col_mqls": "MQL", "col_clicks": "clics",
        "col_cost": "coût", "col_cpm": "coût/MQL", "col_credit": "MQL crédités",
    },
}


def t(lang: str, message: str, **values: object) -> str:
    text = MESSAGES[language(lang)].get(message) or MESSAGES["en"][message]
    return text.format(**values) if values else text
