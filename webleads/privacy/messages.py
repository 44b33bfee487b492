"""Texts of the privacy commands and of the subject summary in English and French (same
keys: a test checks)."""

from __future__ import annotations

from webleads.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "bad_email": "{email!r} is not an e-mail address.",
        "erase_confirm": "Erase everything held about {email}? This cannot be undone.",
        "erase_needs_yes": "Refusing to erase without confirmation: standard input is not a "
                           "terminal. Run again with --yes.",
        "erase_cancelled": "Nothing erased.",
        "erased": "Erased {email}: {contacts} contacts, {visitors} visitors, {sessions} "
                  "sessions, {hits} hits, {lines} score lines, {messages} messages; "
                  "{accounts} accounts recounted.",
        "erased_text": "Found by text search and erased too: {hits} hits (in URLs, titles or "
                       "properties), {sessions} sessions left empty, {quarantine} refused "
                       "requests in quarantine.",
        "erase_kept_staff": "Kept: {count} owner or alert rule rows name this address "
                            "(staff settings; change them with  webleads owners | alerts).",
        "nothing_held": "Nothing is held about {email}.",
        "no_site": "No site with the key {key}.",
        "purged": "{site}: {hits} hits, {sessions} sessions and {visitors} visitors purged "
                  "(hits before {hits_before}); their counts stay in the daily aggregates.",
        "purge_dry": "{site} (dry run, nothing deleted): {hits} hits, {sessions} sessions "
                     "and {visitors} visitors would be purged.",
        "purged_contacts": "{contacts} contacts not seen within their retention period "
                           "purged.",
        "purge_dry_contacts": "{contacts} contacts would be purged.",
        "retention": "{site}: hits {hits} days, sessions {sessions} days, contacts "
                     "{contacts} days.",
        "retention_set": "Retention of {site} set.",
        "bad_days": "Retention periods are whole days between 1 and 36500.",
        "audit_none": "The audit log is empty.",
        "col_at": "at", "col_actor": "actor", "col_action": "action", "col_target": "target",
        "col_details": "details", "col_workspace": "workspace",
        # The readable summary of an export.
        "sum_title": "Data held about {email}",
        "sum_generated": "Generated on {at}.",
        "sum_contacts": "Contact records",
        "sum_contact": "- workspace {ws}, since {first}, last seen {last}; traits: {traits}",
        "sum_visitors": "Browsers and devices (visitor identifiers): {count}",
        "sum_sessions": "Visits (sessions): {count}",
        "sum_session": "- {start}: {pages} pages, from {source}, entry {entry}",
        "sum_hits": "Pages and events recorded: {count}",
        "sum_hit": "- {ts} {type} {url}",
        "sum_more": "- … and {count} more (see the JSON export)",
        "sum_scores": "Score lines: {count}; contact score (raw points): {points}",
        "sum_accounts": "Organisations linked",
        "sum_account": "- {name} ({domain}), stage: {stage}",
        "sum_messages": "Alert messages naming the address: {count}",
        "sum_staff": "Staff settings naming the address (owners, alert rules): {count}",
        "sum_none": "none",
    },
    "fr": {
        "bad_email": "{email!r} n'est pas une adresse e-mail.",
        "erase_confirm": "Effacer tout ce qui est conservé sur {email} ? C'est définitif.",
        "erase_needs_yes": "Effacement refusé sans confirmation : l'entrée standard n'est pas "
                           "un terminal. Relancez avec --yes.",
        "erase_cancelled": "Rien n'a été effacé.",
        "erased": "{email} effacé : {contacts} contacts, {visitors} visiteurs, {sessions} "
                  "sessions, {hits} hits, {lines} lignes de score, {messages} messages ; "
                  "{accounts} comptes recalculés.",
        "erased_text": "Trouvés par recherche de texte et effacés aussi : {hits} hits (dans des "
                       "adresses, titres ou propriétés), {sessions} sessions vidées, "
                       "{quarantine} requêtes refusées en quarantaine.",
        "erase_kept_staff": "Conservé : {count} propriétaires ou règles d'alerte citent "
                            "cette adresse (réglages internes ; modifiez-les avec  webleads "
                            "owners | alerts).",
        "nothing_held": "Rien n'est conservé sur {email}.",
        "no_site": "Aucun site de clé {key}.",
        "purged": "{site} : {hits} hits, {sessions} sessions et {visitors} visiteurs purgés "
                  "(hits avant {hits_before}) ; leurs comptes restent dans les agrégats "
                  "journaliers.",
        "purge_dry": "{site} (essai, rien n'est supprimé) : {hits} hits, {sessions} "
                     "sessions et {visitors} visiteurs seraient purgés.",
        "purged_contacts": "{contacts} contacts non revus pendant leur durée de conservation "
                           "purgés.",
        "purge_dry_contacts": "{contacts} contacts seraient purgés.",
        "retention": "{site} : hits {hits} jours, sessions {sessions} jours, contacts "
                     "{contacts} jours.",
        "retention_set": "Durées de conservation de {site} enregistrées.",
        "bad_days": "Les durées de conservation sont des jours entiers, de 1 à 36500.",
        "audit_none": "Le journal d'audit est vide.",
        "col_at": "date", "col_actor": "auteur", "col_action": "action",
        "col_target": "cible", "col_details": "détails", "col_workspace": "espace",
        "sum_title": "Données conservées sur {email}",
        "sum_generated": "Généré le {at}.",
        "sum_contacts": "Fiches contact",
        "sum_contact": "- espace {ws}, depuis le {first}, vu pour la dernière fois le "
                       "{last} ; attributs : {traits}",
        "sum_visitors": "Navigateurs et appareils (identifiants de visiteur) : {count}",
        "sum_sessions": "Visites (sessions) : {count}",
        "sum_session": "- {start} : {pages} pages, depuis {source}, entrée {entry}",
        "sum_hits": "Pages et événements enregistrés : {count}",
        "sum_hit": "- {ts} {type} {url}",
        "sum_more": "- … et {count} de plus (voir l'export JSON)",
        "sum_scores": "Lignes de score : {count} ; score du contact (points bruts) : {points}",
        "sum_accounts": "Organisations liées",
        "sum_account": "- {name} ({domain}), étape : {stage}",
        "sum_messages": "Messages d'alerte citant l'adresse : {count}",
        "sum_staff": "Réglages internes citant l'adresse (propriétaires, règles d'alerte) : "
                     "{count}",
        "sum_none": "aucun",
    },
}


def t(lang: str, message: str, **values: object) -> str:
    text = MESSAGES[language(lang)].get(message) or MESSAGES["en"][message]
    return text.format(**values) if values else text
