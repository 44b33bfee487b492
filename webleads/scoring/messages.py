"""Messages of the scoring commands, in English and French (same keys in both; a test
checks)."""

from __future__ import annotations

from webleads.i18n import language
from webleads.scoring.rules import Problem

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "unknown_workspace": "No workspace {ref}.",
        "no_workspace": "No workspace yet: create a site first (webleads site add).",
        "several_workspaces": "Several workspaces: choose one with --workspace ({names}).",
        "unknown_site": "No site has the key {key}.",
        "import_read": "Cannot read {file}: {error}",
        "import_invalid": "Nothing imported: {count} problem(s) in {file}:",
        "imported": "Imported into workspace {workspace}: {rules} scoring rules, {fit} fit "
                    "rules. Past hits keep their points until you run  webleads rescore "
                    "--workspace {workspace}",
        "rescored": "Workspace {workspace}: {hits} hits rescored, {lines} ledger lines.",
        "rescore_site": "Scores are per account across a workspace's sites: the whole "
                        "workspace {workspace} is rescored.",
        "accounts_none": "No account has visited this site yet.",
        "target_set": "{ref}: marked as target ({names}).",
        "target_unset": "{ref}: no longer a target ({names}).",
        "target_none": "{ref}: no account of workspace {workspace} has this name or domain.",
        "col_account": "Account",
        "col_score": "Score",
        "col_grade": "Grade",
        "col_priority": "Priority",
        "col_stage": "Stage",
        "col_owner": "Owner",
        "col_committee": "Visitors 7 d",
        "col_reasons": "Top reasons",
        "stage_anonymous": "anonymous",
        "stage_engaged": "engaged",
        "stage_mql": "MQL",
        "stage_sql": "SQL",
        "stage_opportunity": "opportunity",
        "stage_customer": "customer",
        "stage_disqualified": "disqualified",
        "stage_lost": "lost",
        "stage_note": "Stage and owner come from the lifecycle (webleads stage set, "
                      "webleads assign rule add); see docs/lifecycle.md.",
        "problem": "{where}{rule}: {field}{text}",
        "problem_unknown_field": "unknown field (known: {detail})",
        "problem_required": "missing",
        "problem_type": "expected {detail}",
        "problem_range": "out of range ({detail})",
        "problem_bad_value": "not allowed: {detail}",
        "problem_bad_regex": "invalid regular expression: {detail}",
        "problem_bad_name": "a name is made of a-z, 0-9, '_', '-', '.' (lower case)",
        "problem_duplicate": "another rule has this name",
        "problem_cap_needs_both": "cap and per go together (per = day, week or month)",
        "problem_grades_order": "grades must go down: a >= b >= c",
        "problem_bad_toml": "not valid TOML: {detail}",
    },
    "fr": {
        "unknown_workspace": "Aucun espace de travail {ref}.",
        "no_workspace": "Aucun espace de travail : créez d'abord un site (webleads site add).",
        "several_workspaces": "Plusieurs espaces de travail : choisissez-en un avec "
                              "--workspace ({names}).",
        "unknown_site": "Aucun site n'a la clé {key}.",
        "import_read": "Impossible de lire {file} : {error}",
        "import_invalid": "Rien n'est importé : {count} problème(s) dans {file} :",
        "imported": "Importé dans l'espace {workspace} : {rules} règles de score, {fit} règles "
                    "d'adéquation. Les hits passés gardent leurs points jusqu'à  webleads "
                    "rescore --workspace {workspace}",
        "rescored": "Espace {workspace} : {hits} hits recalculés, {lines} lignes au registre.",
        "rescore_site": "Les scores sont par compte sur tous les sites d'un espace : tout "
                        "l'espace {workspace} est recalculé.",
        "accounts_none": "Aucun compte n'a encore visité ce site.",
        "target_set": "{ref} : marqué comme cible ({names}).",
        "target_unset": "{ref} : n'est plus une cible ({names}).",
        "target_none": "{ref} : aucun compte de l'espace {workspace} n'a ce nom ou ce domaine.",
        "col_account": "Compte",
        "col_score": "Score",
        "col_grade": "Note",
        "col_priority": "Priorité",
        "col_stage": "Étape",
        "col_owner": "Responsable",
        "col_committee": "Visiteurs 7 j",
        "col_reasons": "Principales raisons",
        "stage_anonymous": "anonyme",
        "stage_engaged": "engagé",
        "stage_mql": "MQL",
        "stage_sql": "SQL",
        "stage_opportunity": "opportunité",
        "stage_customer": "client",
        "stage_disqualified": "disqualifié",
        "stage_lost": "perdu",
        "stage_note": "L'étape et le responsable viennent du cycle de vie (webleads stage set, "
                      "webleads assign rule add) ; voir docs/lifecycle.md.",
        "problem": "{where}{rule} : {field}{text}",
        "problem_unknown_field": "champ inconnu (connus : {detail})",
        "problem_required": "manquant",
        "problem_type": "attendu : {detail}",
        "problem_range": "hors limites ({detail})",
        "problem_bad_value": "non autorisé : {detail}",
        "problem_bad_regex": "expression régulière invalide : {detail}",
        "problem_bad_name": "un nom est fait de a-z, 0-9, « _ », « - », « . » (minuscules)",
        "problem_duplicate": "une autre règle porte ce nom",
        "problem_cap_needs_both": "cap et per vont ensemble (per = day, week ou month)",
        "problem_grades_order": "les seuils doivent décroître : a >= b >= c",
        "problem_bad_toml": "TOML invalide : {detail}",
    },
}


def t(lang: str, message: str, **values: object) -> str:
    text = MESSAGES[language(lang)].get(message) or MESSAGES["en"][message]
    return text.format(**values) if values else text


# The kinds of value a field expects (``Problem.detail`` of the code "type").
KINDS_FR = {"integer": "un entier", "number": "un nombre", "text": "un texte",
            "table": "une table", "true or false": "true ou false",
            "text or list of texts": "un texte ou une liste de textes",
            "array of tables": "un tableau de tables"}


def problem_text(lang: str, p: Problem) -> str:
    """One problem of an imported file: where, which rule, which field, what is wrong."""
    detail = p.detail
    if p.code == "type" and language(lang) == "fr":
        detail = KINDS_FR.get(detail, detail)
    return t(lang, "problem", where=p.where or "TOML", rule=f" ({p.rule})" if p.rule else "",
             field=f"{p.field}: " if p.field else "",
             text=t(lang, f"problem_{p.code}", detail=detail))
