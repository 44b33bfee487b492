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
        "col_sqls": "SQLs", "col_won": "won deals", "col_revenue": "revenue",
        "col_roi": "ROI",
        # contacts, tracked links, deals, conversions
        "contacts_done": "{lines} lines read: {created} contacts added, {updated} updated, "
                         "{attached} attached to their account.",
        "contacts_skipped": "{skipped} bad line(s) left out:",
        "import_error": "Nothing imported: {count} error(s). Fix the file, or import the "
                        "good lines with --skip-invalid.",
        "tracked_link": "Tracked link of {email} (valid until {expires}):",
        "tracked_links_done": "{count} links of consenting contacts written to {file}.",
        "tracked_links_none": "No contact has agreed to tracked links yet (consent: yes in "
                              "the contact import).",
        "deal_added": "Deal of {amount} on {day} saved.",
        "deals_done": "{lines} lines read: {added} deals added, {known} already there.",
        "deals_none": "No won deal yet: add one with  webleads campaigns deals add --day "
                      "2026-04-02 --account acme.fr --amount 12000",
        "conversion_added": "Conversion {name!r} ({kind}: {value}) added.",
        "conversion_removed": "Conversion {name!r} removed.",
        "conversions_none": "No conversion defined yet: add one with  webleads campaigns "
                            "conversions add \"Demo booked\" --kind event --value demo_booked",
        "no_conversion": "No conversion {name!r} in this workspace.",
        "summaries_done": "{count} summary e-mail(s) put in the outbox.",
        # the end-of-campaign summary e-mail
        "sum_subject": "Campaign {name} has ended: what it brought, what to adjust",
        "sum_visits": "It brought {visits} visits from {accounts} identified accounts "
                      "({new} new).",
        "sum_leads": "{mqls} MQLs and {sqls} SQLs; {deals} won deals it took part in, "
                     "{revenue} of revenue attributed to it (position-based).",
        "sum_cost": "It cost {cost}: {per_mql} per MQL; ROI {roi}.",
        "sum_clicks": "Its links were clicked {clicks} times ({contacts} known contacts).",
        "adv_prefix": "To adjust: {advice}",
        "adv_no_visits": "no visit came with its links. Check that every link carries "
                         "utm_campaign={key} (use the link builder).",
        "adv_no_accounts": "none of its visits could be tied to an organisation. Aim at "
                           "business audiences, or use tracked e-mail links and forms.",
        "adv_no_mql": "accounts came, but none became an MQL. Give its landing pages a next "
                      "step (demo, pricing, contact) and check the scoring thresholds.",
        "adv_no_cost": "no cost was entered. Import its costs to see the cost per MQL and "
                       "the ROI.",
        "adv_over_budget": "it went {over} over its budget.",
        "adv_negative_roi": "the revenue attributed so far does not cover its cost (ROI "
                            "{roi}). B2B deals take weeks: look again in a month before "
                            "cutting its budget.",
        "adv_paid_back": "it paid back (ROI {roi}): run it again, and consider a larger "
                         "budget.",
        "adv_focus": "only {share} of its page views were on the {range} range it focused "
                     "on. Point its links at that range's pages.",
        "adv_nothing": "nothing stands out. Compare it with your other campaigns in the "
                       "dashboard.",
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
        "col_sqls": "SQL", "col_won": "affaires gagnées", "col_revenue": "chiffre d'affaires",
        "col_roi": "ROI",
        # contacts, tracked links, deals, conversions
        "contacts_done": "{lines} lignes lues : {created} contacts ajoutés, {updated} mis à "
                         "jour, {attached} rattachés à leur compte.",
        "contacts_skipped": "{skipped} ligne(s) incorrecte(s) laissée(s) de côté :",
        "import_error": "Rien n'a été importé : {count} erreur(s). Corrigez le fichier, ou "
                        "importez les bonnes lignes avec --skip-invalid.",
        "tracked_link": "Lien suivi de {email} (valable jusqu'au {expires}) :",
        "tracked_links_done": "{count} liens des contacts consentants écrits dans {file}.",
        "tracked_links_none": "Aucun contact n'a encore accepté les liens suivis (consent : "
                              "yes dans l'import des contacts).",
        "deal_added": "Affaire de {amount} du {day} enregistrée.",
        "deals_done": "{lines} lignes lues : {added} affaires ajoutées, {known} déjà "
                      "présentes.",
        "deals_none": "Aucune affaire gagnée : ajoutez-en une avec  webleads campaigns deals "
                      "add --day 2026-04-02 --account acme.fr --amount 12000",
        "conversion_added": "Conversion {name!r} ({kind} : {value}) ajoutée.",
        "conversion_removed": "Conversion {name!r} supprimée.",
        "conversions_none": "Aucune conversion définie : ajoutez-en une avec  webleads "
                            "campaigns conversions add \"Démo réservée\" --kind event "
                            "--value demo_booked",
        "no_conversion": "Aucune conversion {name!r} dans cet espace de travail.",
        "summaries_done": "{count} bilan(s) par e-mail mis dans la file d'envoi.",
        # le bilan de fin de campagne
        "sum_subject": "La campagne {name} est terminée : ce qu'elle a apporté, ce qu'il "
                       "faut ajuster",
        "sum_visits": "Elle a apporté {visits} visites de {accounts} comptes identifiés "
                      "({new} nouveaux).",
        "sum_leads": "{mqls} MQL et {sqls} SQL ; {deals} affaires gagnées auxquelles elle a "
                     "contribué, {revenue} de chiffre d'affaires attribué (modèle en U).",
        "sum_cost": "Elle a coûté {cost} : {per_mql} par MQL ; ROI {roi}.",
        "sum_clicks": "Ses liens ont été cliqués {clicks} fois ({contacts} contacts connus).",
        "adv_prefix": "À ajuster : {advice}",
        "adv_no_visits": "aucune visite n'est venue par ses liens. Vérifiez que chaque lien "
                         "porte utm_campaign={key} (utilisez le générateur de liens).",
        "adv_no_accounts": "aucune de ses visites n'a pu être rattachée à une organisation. "
                           "Visez des publics professionnels, ou utilisez des liens e-mail "
                           "suivis et des formulaires.",
        "adv_no_mql": "des comptes sont venus, mais aucun n'est devenu MQL. Donnez une suite "
                      "à ses pages d'arrivée (démo, tarifs, contact) et vérifiez les seuils "
                      "de score.",
        "adv_no_cost": "aucun coût n'a été saisi. Importez ses coûts pour voir le coût par "
                       "MQL et le ROI.",
        "adv_over_budget": "elle a dépassé son budget de {over}.",
        "adv_negative_roi": "le chiffre d'affaires attribué à ce jour ne couvre pas son coût "
                            "(ROI {roi}). Les affaires B2B prennent des semaines : "
                            "regardez de nouveau dans un mois avant de réduire son budget.",
        "adv_paid_back": "elle est rentable (ROI {roi}) : renouvelez-la, et envisagez un "
                         "budget plus élevé.",
        "adv_focus": "seules {share} de ses pages vues portaient sur la gamme {range} "
                     "qu'elle visait. Faites pointer ses liens vers les pages de cette "
                     "gamme.",
        "adv_nothing": "rien de particulier. Comparez-la avec vos autres campagnes dans le "
                       "tableau de bord.",
    },
}


def t(lang: str, message: str, **values: object) -> str:
    text = MESSAGES[language(lang)].get(message) or MESSAGES["en"][message]
    return text.format(**values) if values else text
