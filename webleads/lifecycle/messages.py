"""Texts of the lifecycle commands in English and French (same keys: a test checks)."""

from __future__ import annotations

from webleads.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "bad_input": "Invalid {field}",
        "no_account": "No account {id}.",
        "stage_set": "Account {id}: {previous} -> {stage} (by {by}).",
        "history_none": "No stage change recorded for account {id}.",
        "owner_added": "Owner {name} <{email}> added (id {id}).",
        "owners_none": "No owner yet: add one with  webleads owners add NAME EMAIL",
        "rule_added": "Rule {id} added.",
        "rules_none": "No rule yet.",
        "touched": "Account {id} touched: its first-touch SLA is met.",
        "late_none": "No account is late.",
        "digests": "{count} digests enqueued for {day}.",
        "no_workspace": "No workspace yet: create a site first (webleads site add).",
        "which_workspace": "Several workspaces: choose one with --workspace ({ids}).",
        "unknown_workspace": "No workspace {id}.",
        "bad_date": "--date: {value!r} is not a date (YYYY-MM-DD).",
        "col_id": "id", "col_from": "from", "col_to": "to", "col_at": "at", "col_by": "by",
        "col_reason": "reason", "col_name": "name", "col_email": "e-mail", "col_team": "team",
        "col_language": "language", "col_active": "active", "col_position": "position",
        "col_kind": "kind", "col_conditions": "conditions", "col_owner": "owner",
        "col_channel": "channel", "col_destination": "destination", "col_params": "parameters",
        "col_cooldown": "cooldown (h)", "col_quiet": "quiet hours", "col_digest": "digest",
        "col_account": "account", "col_stage": "stage", "col_since": "since",
        "col_late": "hours late",
    },
    "fr": {
        "bad_input": "Valeur invalide : {field}",
        "no_account": "Aucun compte {id}.",
        "stage_set": "Compte {id} : {previous} -> {stage} (par {by}).",
        "history_none": "Aucun changement de stade pour le compte {id}.",
        "owner_added": "Responsable {name} <{email}> ajouté (id {id}).",
        "owners_none": "Aucun responsable : ajoutez-en un avec  webleads owners add NOM E-MAIL",
        "rule_added": "Règle {id} ajoutée.",
        "rules_none": "Aucune règle pour l'instant.",
        "touched": "Compte {id} contacté : son délai de premier contact est respecté.",
        "late_none": "Aucun compte en retard.",
        "digests": "{count} résumés mis en file pour le {day}.",
        "no_workspace": "Aucun espace de travail : créez d'abord un site (webleads site add).",
        "which_workspace": "Plusieurs espaces de travail : choisissez avec --workspace ({ids}).",
        "unknown_workspace": "Aucun espace de travail {id}.",
        "bad_date": "--date : {value!r} n'est pas une date (AAAA-MM-JJ).",
        "col_id": "id", "col_from": "de", "col_to": "vers", "col_at": "date", "col_by": "par",
        "col_reason": "raison", "col_name": "nom", "col_email": "e-mail", "col_team": "équipe",
        "col_language": "langue", "col_active": "actif", "col_position": "position",
        "col_kind": "type", "col_conditions": "conditions", "col_owner": "responsable",
        "col_channel": "canal", "col_destination": "destination", "col_params": "paramètres",
        "col_cooldown": "délai (h)", "col_quiet": "heures calmes", "col_digest": "résumé",
        "col_account": "compte", "col_stage": "stade", "col_since": "depuis",
        "col_late": "heures de retard",
    },
}


def t(lang: str, key: str, **values: object) -> str:
    text = MESSAGES[language(lang)].get(key) or MESSAGES["en"][key]
    return text.format(**values) if values else text
