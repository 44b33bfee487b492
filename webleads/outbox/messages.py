"""Texts of the outbox in English and French: the messages sent (subjects, labels) and
the ``webleads outbox`` command.  Same keys in both languages (a test checks)."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from webleads.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # Subjects, one per kind of message; {account} etc. come from the payload.
        "subject_mql": "{account} became a marketing-qualified lead (MQL)",
        "subject_stage": "{account} moved to the {stage} stage",
        "subject_score_threshold": "{account} crossed a score of {threshold}",
        "subject_score_jump": "{account}: score up {delta} points",
        "subject_target_visit": "Target account {account} is visiting your site",
        "subject_hot_page": "{account} viewed {page}",
        "subject_digest": "Your hot accounts today: {count}",
        "subject_test": "Test message from webleads",
        "subject_generic": "Alert about {account}",
        "test_body": "This is a test message: alerts sent to this destination will look "
                     "like this one.",
        "label_account": "Account",
        "label_score": "Score",
        "label_grade": "Grade",
        "label_stage": "Stage",
        "label_owner": "Owner",
        "label_page": "Page",
        "label_site": "Site",
        "label_why": "Why",
        "label_open": "Open in webleads",
        "label_event": "Event id",
        "footer": "Sent by webleads-tracker. Receivers may use the event id to ignore a "
                  "message they already have.",
        "unknown": "an unknown organisation",
        "colon": ": ",
        # The command line.
        "no_message": "No message {id} in the outbox.",
        "list_none": "The outbox is empty{state}.",
        "col_id": "id",
        "col_state": "state",
        "col_channel": "channel",
        "col_destination": "destination",
        "col_kind": "kind",
        "col_attempts": "attempts",
        "col_next": "next attempt",
        "col_error": "last error",
        "col_started": "started",
        "col_outcome": "outcome",
        "col_status": "status",
        "col_duration": "ms",
        "col_worker": "worker",
        "show_event": "Event id (receivers deduplicate on it): {id}",
        "show_attempts": "Attempts:",
        "show_no_attempt": "No attempt yet.",
        "retried": "Message {id} is pending again; a worker sends it within seconds.",
        "not_dead": "Message {id} is {state}: only dead messages can be retried.",
        "worked": "{count} messages handled.",
        "working": "Delivering the outbox (worker {worker}); Ctrl-C to stop.",
        "refused": "Refused destination: {error}",
        "bad_channel": "Unknown channel {channel!r}: use email, slack, teams or webhook.",
        "bad_state": "Unknown state {state!r}: use pending, sending, delivered or dead.",
        "bad_language": "Unknown language {value!r}: use fr or en.",
        "no_workspace": "No workspace yet: create a site first (webleads site add).",
        "which_workspace": "Several workspaces: choose one with --workspace ({ids}).",
        "unknown_workspace": "No workspace {id}.",
        "no_smtp": "E-mail is not configured: set WEBLEADS_SMTP_HOST and WEBLEADS_SMTP_FROM.",
        "test_delivered": "Test message {id} delivered ({detail}).",
        "test_failed": "Test message {id} not delivered: {detail}. It stays in the outbox "
                       "({state}); see  webleads outbox show {id}",
        "secret": "Signing secret of {url} (workspace {workspace}): {secret}",
        "secret_rotated": "New signing secret of {url} (workspace {workspace}): {secret}",
    },
    "fr": {
        "subject_mql": "{account} est devenu un lead qualifié marketing (MQL)",
        "subject_stage": "{account} passe au stade {stage}",
        "subject_score_threshold": "{account} a dépassé un score de {threshold}",
        "subject_score_jump": "{account} : score en hausse de {delta} points",
        "subject_target_visit": "Le compte cible {account} visite votre site",
        "subject_hot_page": "{account} a consulté {page}",
        "subject_digest": "Vos comptes chauds du jour : {count}",
        "subject_test": "Message de test de webleads",
        "subject_generic": "Alerte sur {account}",
        "test_body": "Ceci est un message de test : les alertes envoyées à cette destination "
                     "ressembleront à celui-ci.",
        "label_account": "Compte",
        "label_score": "Score",
        "label_grade": "Note",
        "label_stage": "Stade",
        "label_owner": "Responsable",
        "label_page": "Page",
        "label_site": "Site",
        "label_why": "Pourquoi",
        "label_open": "Ouvrir dans webleads",
        "label_event": "Identifiant d'événement",
        "footer": "Envoyé par webleads-tracker. Un destinataire peut utiliser l'identifiant "
                  "d'événement pour ignorer un message qu'il a déjà reçu.",
        "unknown": "une organisation inconnue",
        "colon": " : ",
        "no_message": "Aucun message {id} dans la file d'envoi.",
        "list_none": "La file d'envoi est vide{state}.",
        "col_id": "id",
        "col_state": "état",
        "col_channel": "canal",
        "col_destination": "destination",
        "col_kind": "type",
        "col_attempts": "essais",
        "col_next": "prochain essai",
        "col_error": "dernière erreur",
        "col_started": "début",
        "col_outcome": "résultat",
        "col_status": "code",
        "col_duration": "ms",
        "col_worker": "processus",
        "show_event": "Identifiant d'événement (les destinataires dédoublonnent avec) : {id}",
        "show_attempts": "Essais :",
        "show_no_attempt": "Aucun essai pour l'instant.",
        "retried": "Le message {id} est de nouveau en attente ; il part dans quelques "
                   "secondes.",
        "not_dead": "Le message {id} est {state} : seuls les messages morts (dead) peuvent "
                    "être relancés.",
        "worked": "{count} messages traités.",
        "working": "Envoi de la file (processus {worker}) ; Ctrl-C pour arrêter.",
        "refused": "Destination refusée : {error}",
        "bad_channel": "Canal inconnu {channel!r} : email, slack, teams ou webhook.",
        "bad_state": "État inconnu {state!r} : pending, sending, delivered ou dead.",
        "bad_language": "Langue inconnue {value!r} : fr ou en.",
        "no_workspace": "Aucun espace de travail : créez d'abord un site (webleads site add).",
        "which_workspace": "Plusieurs espaces de travail : choisissez avec --workspace "
                           "({ids}).",
        "unknown_workspace": "Aucun espace de travail {id}.",
        "no_smtp": "L'e-mail n'est pas configuré : renseignez WEBLEADS_SMTP_HOST et "
                   "WEBLEADS_SMTP_FROM.",
        "test_delivered": "Message de test {id} remis ({detail}).",
        "test_failed": "Message de test {id} non remis : {detail}. Il reste dans la file "
                       "({state}) ; voir  webleads outbox show {id}",
        "secret": "Secret de signature de {url} (espace {workspace}) : {secret}",
        "secret_rotated": "Nouveau secret de signature de {url} (espace {workspace}) : "
                          "{secret}",
    },
}


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


_formatter = string.Formatter()


def t(lang: str, key: str, values: Mapping[str, Any] | None = None, **more: Any) -> str:
    """The text ``key`` in ``lang`` (a locale such as fr_FR.UTF-8 also works).

    Missing values show as "?" instead of failing: payloads come from rules that may not
    fill every field.
    """
    text = MESSAGES[language(lang)].get(key) or MESSAGES["en"][key]
    if values is None and not more:
        return text
    return _formatter.vformat(text, (), _Values({**(values or {}), **more}))
