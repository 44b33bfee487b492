"""Messages of ``webleads fr``, in English and French (same keys in both; a test checks)."""

from __future__ import annotations

from webleads.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "progress_units": "Importing legal units",
        "progress_establishments": "Reading establishments",
        "progress_match": "Matching accounts",
        "units_done": "{rows} lines read: {imported} companies imported or updated, "
                      "{filtered} left out by the filters ({refreshed} of them already known "
                      "and refreshed), {non_diffusible} without a public name, {errors} bad "
                      "lines skipped.",
        "establishments_done": "{rows} lines read: {imported} head offices stored, {unknown} "
                               "head offices of companies that are not imported, {other} other "
                               "establishments, {errors} bad lines skipped.",
        "bad_line": "line {line}: {field} = {value!r}: {reason}",
        "more_errors": "... and {count} more bad lines.",
        "errors_written": "Every bad line is listed in {path}.",
        "strict_stop": "Stopped at the first bad line (--strict): the batches before it are "
                       "imported; correct the file and import it again.",
        "import_failed": "Cannot import: {error}",
        "bad_headcount": "--min-headcount: {value!r} is not an INSEE band code ({codes}).",
        "no_companies": "No French company imported yet: first run  webleads fr import-units "
                        "StockUniteLegale_utf8.csv",
        "unknown_workspace": "No workspace {ref}.",
        "match_done": "{examined} accounts examined: {matched} matched, {kept} kept a surer "
                      "earlier match, {unmatched} without a match, {not_fr} outside France, "
                      "{not_org} not organisations (ISP, mobile, hosting ...).",
        "match_methods": "Matched by domain: {domain}, by name: {name}, by the online API: "
                         "{api}.",
        "online_done": "Online API: {calls} calls; answers: {outcomes}.",
        "online_gave_up": "The online API failed ({outcome}): the accounts after it were "
                          "matched offline only. Run the command again later.",
        "company_none": "No company found for {query!r}.",
        "company_more": "Companies whose name is or looks like {query!r}:",
        "state_active": "active",
        "state_ceased": "ceased",
        "f_siren": "SIREN",
        "f_name": "Name",
        "f_sigle": "Acronym",
        "f_trade": "Trade name",
        "f_naf": "Activity (NAF)",
        "f_naf25": "Activity (NAF 2025)",
        "f_headcount": "Employees",
        "f_category": "Category",
        "f_state": "State",
        "f_head_office": "Head office",
        "f_source": "Source",
        "f_updated": "Updated",
        "f_accounts": "Matched accounts",
        "f_score": "Score",
        "reason_not_9_digits": "not 9 digits",
        "reason_not_14_digits": "not 14 digits",
        "reason_siret_not_of_siren": "the SIRET does not start with the SIREN",
        "reason_unknown_headcount_band": "unknown headcount band (NN, 00, 01 ... 53)",
        "reason_unknown_category": "unknown category (PME, ETI, GE)",
        "reason_unknown_state": "unknown state (A or C)",
        "reason_bad_naf_code": "not an activity code such as 62.01Z",
        "reason_bad_nomenclature": "not a nomenclature name",
        "reason_missing_name": "no name",
        "reason_bad_boolean": "neither true nor false",
        "reason_bad_postcode": "not a 5-digit postcode",
        "reason_field_count": "wrong number of fields",
        "reason_invalid_utf8": "bytes that are not UTF-8",
        "reason_unreadable": "unreadable CSV",
    },
    "fr": {
        "progress_units": "Import des unités légales",
        "progress_establishments": "Lecture des établissements",
        "progress_match": "Rapprochement des comptes",
        "units_done": "{rows} lignes lues : {imported} entreprises importées ou mises à jour, "
                      "{filtered} écartées par les filtres (dont {refreshed} déjà connues, "
                      "mises à jour), {non_diffusible} sans nom diffusable, {errors} lignes "
                      "erronées ignorées.",
        "establishments_done": "{rows} lignes lues : {imported} sièges enregistrés, {unknown} "
                               "sièges d'entreprises non importées, {other} autres "
                               "établissements, {errors} lignes erronées ignorées.",
        "bad_line": "ligne {line} : {field} = {value!r} : {reason}",
        "more_errors": "... et {count} autres lignes erronées.",
        "errors_written": "Toutes les lignes erronées sont listées dans {path}.",
        "strict_stop": "Arrêt à la première ligne erronée (--strict) : les lots précédents "
                       "sont importés ; corrigez le fichier et importez-le de nouveau.",
        "import_failed": "Import impossible : {error}",
        "bad_headcount": "--min-headcount : {value!r} n'est pas un code de tranche d'effectif "
                         "INSEE ({codes}).",
        "no_companies": "Aucune entreprise française importée : lancez d'abord  webleads fr "
                        "import-units StockUniteLegale_utf8.csv",
        "unknown_workspace": "Aucun espace de travail {ref}.",
        "match_done": "{examined} comptes examinés : {matched} rapprochés, {kept} ont gardé "
                      "un rapprochement antérieur plus sûr, {unmatched} sans correspondance, "
                      "{not_fr} hors de France, {not_org} qui ne sont pas des organisations "
                      "(FAI, mobile, hébergeur ...).",
        "match_methods": "Rapprochés par le domaine : {domain}, par le nom : {name}, par l'API "
                         "en ligne : {api}.",
        "online_done": "API en ligne : {calls} appels ; réponses : {outcomes}.",
        "online_gave_up": "L'API en ligne a échoué ({outcome}) : les comptes suivants n'ont "
                          "été rapprochés que hors ligne. Relancez la commande plus tard.",
        "company_none": "Aucune entreprise trouvée pour {query!r}.",
        "company_more": "Entreprises dont le nom est ou ressemble à {query!r} :",
        "state_active": "active",
        "state_ceased": "cessée",
        "f_siren": "SIREN",
        "f_name": "Dénomination",
        "f_sigle": "Sigle",
        "f_trade": "Enseigne",
        "f_naf": "Activité (NAF)",
        "f_naf25": "Activité (NAF 2025)",
        "f_headcount": "Effectif salarié",
        "f_category": "Catégorie",
        "f_state": "État",
        "f_head_office": "Siège",
        "f_source": "Source",
        "f_updated": "Mise à jour",
        "f_accounts": "Comptes rapprochés",
        "f_score": "Score",
        "reason_not_9_digits": "pas 9 chiffres",
        "reason_not_14_digits": "pas 14 chiffres",
        "reason_siret_not_of_siren": "le SIRET ne commence pas par le SIREN",
        "reason_unknown_headcount_band": "tranche d'effectif inconnue (NN, 00, 01 ... 53)",
        "reason_unknown_category": "catégorie inconnue (PME, ETI, GE)",
        "reason_unknown_state": "état inconnu (A ou C)",
        "reason_bad_naf_code": "pas un code d'activité tel que 62.01Z",
        "reason_bad_nomenclature": "pas un nom de nomenclature",
        "reason_missing_name": "aucun nom",
        "reason_bad_boolean": "ni true ni false",
        "reason_bad_postcode": "pas un code postal à 5 chiffres",
        "reason_field_count": "nombre de champs incorrect",
        "reason_invalid_utf8": "octets qui ne sont pas de l'UTF-8",
        "reason_unreadable": "CSV illisible",
    },
}


def t(lang: str, message: str, **values: object) -> str:
    text = MESSAGES[language(lang)].get(message) or MESSAGES["en"][message]
    return text.format(**values) if values else text
