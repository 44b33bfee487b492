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
        "no_owner": "No owner {id} in this workspace.",
        "no_alert_rule": "No alert rule {id} in this workspace.",
        "no_assignment_rule": "No assignment rule {id} in this workspace.",
        "owner_deactivated": "Owner {email} deactivated: no new account goes to them; "
                             "their accounts stay theirs.",
        "owner_activated": "Owner {email} active again: new accounts may go to them.",
        "assignment_removed": "Assignment rule {id} removed (accounts keep their owner).",
        "alert_removed": "Alert rule {id} removed.",
        "alert_disabled": "Alert rule {id} disabled: it fires no more until  webleads alerts "
                          "enable {id}",
        "alert_enabled": "Alert rule {id} enabled.",
        "thresholds": "Workspace {ws}: an account is engaged at a score of {engaged}, "
                      "MQL at {mql}.",
        "sla_none": "Workspace {ws}: no first-touch SLA.",
        "sla_title": "Workspace {ws}: first-touch SLA (hours) per stage",
        "col_hours": "hours", "col_enabled": "enabled",
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
        "no_owner": "Aucun responsable {id} dans cet espace de travail.",
        "no_alert_rule": "Aucune règle d'alerte {id} dans cet espace de travail.",
        "no_assignment_rule": "Aucune règle d'attribution {id} dans cet espace de travail.",
        "owner_deactivated": "Responsable {email} désactivé : il ne reçoit plus de nouveau "
                             "compte ; ses comptes lui restent.",
        "owner_activated": "Responsable {email} de nouveau actif : il peut recevoir de "
                           "nouveaux comptes.",
        "assignment_removed": "Règle d'attribution {id} supprimée (les comptes gardent leur "
                              "responsable).",
        "alert_removed": "Règle d'alerte {id} supprimée.",
        "alert_disabled": "Règle d'alerte {id} désactivée : elle ne se déclenche plus "
                          "jusqu'à  webleads alerts enable {id}",
        "alert_enabled": "Règle d'alerte {id} activée.",
        "thresholds": "Espace de travail {ws} : un compte est engagé à partir d'un score de "
                      "{engaged}, MQL à partir de {mql}.",
        "sla_none": "Espace de travail {ws} : aucun délai de premier contact.",
        "sla_title": "Espace de travail {ws} : délai de premier contact (heures) par stade",
        "col_hours": "heures", "col_enabled": "active",
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
