"""The command line's messages, in English and French (same keys in both)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "migrated": "Database at revision {revision} ({url}).",
        "site_created": "Site {name} created.",
        "site_key": "Public site key: {key}",
        "site_secret": "Secret key (server-side collect; shown once, keep it safe): {secret}",
        "site_snippet": "Paste this tag into every page of {domain}, before </body>:",
        "site_error": "Invalid option: {error}",
        "sites_none": "No site yet: create one with  webleads site add NAME --domain example.com",
        "unknown_site": "No site has the key {key}.",
        "hits_none": "No hit stored yet for this site. Is the tag on the page? Drops: {drops}",
        "serving": "webleads is listening on http://{host}:{port}/ (tag: /wl.js, collect: "
                   "/api/collect)",
        "demo_done": "Demo: {hits} hits sent for {orgs} organisations over {days} days to "
                     "site {key} ({accepted} stored, {dropped} dropped as bots).",
        "demo_progress": "Sending demo traffic",
        "demo_next": "See the latest hits:  webleads hits --site {key}",
        "quarantine_none": "No refused request: the quarantine is empty.",
        "site_updated": "Site {name} updated; collect applies it within 10 seconds.",
        "site_snippet_changed": "The tag's options changed: replace the tag on the pages "
                                "of {domain} with this one:",
        "schema_missing": "The database has no webleads schema yet: run  webleads migrate",
        "page_group_error": "page group {value!r}: expected NAME=/path/glob",
    },
    "fr": {
        "migrated": "Base de données à la révision {revision} ({url}).",
        "site_created": "Site {name} créé.",
        "site_key": "Clé publique du site : {key}",
        "site_secret": "Clé secrète (collecte côté serveur ; affichée une seule fois, "
                       "gardez-la en lieu sûr) : {secret}",
        "site_snippet": "Collez ce marqueur dans chaque page de {domain}, avant </body> :",
        "site_error": "Option invalide : {error}",
        "sites_none": "Aucun site pour l'instant : créez-en un avec  webleads site add NOM "
                      "--domain exemple.fr",
        "unknown_site": "Aucun site n'a la clé {key}.",
        "hits_none": "Aucun hit enregistré pour ce site. Le marqueur est-il sur la page ? "
                     "Écartés : {drops}",
        "serving": "webleads écoute sur http://{host}:{port}/ (marqueur : /wl.js, collecte : "
                   "/api/collect)",
        "demo_done": "Démo : {hits} hits envoyés pour {orgs} organisations sur {days} jours "
                     "au site {key} ({accepted} enregistrés, {dropped} écartés comme robots).",
        "demo_progress": "Envoi du trafic de démonstration",
        "demo_next": "Voir les derniers hits :  webleads hits --site {key}",
        "quarantine_none": "Aucune requête refusée : la quarantaine est vide.",
        "site_updated": "Site {name} modifié ; la collecte en tient compte sous 10 secondes.",
        "site_snippet_changed": "Les options du marqueur ont changé : remplacez le marqueur "
                                "des pages de {domain} par celui-ci :",
        "schema_missing": "La base n'a pas encore le schéma webleads : lancez  webleads migrate",
        "page_group_error": "groupe de pages {value!r} : NOM=/chemin/motif attendu",
    },
}
