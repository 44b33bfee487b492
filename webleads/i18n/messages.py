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
        "processed": "{n} queued hits stored; the hit queue is empty.",
        "hits_waiting": "{n} acknowledged hits (all sites) wait in the hit queue, the oldest "
                        "for {age} s: they show here once the processor stores them. "
                        "webleads serve runs it; if the number does not fall, run "
                        "webleads process.",
        "serving": "webleads is listening on http://{host}:{port}/ (tag: /wl.js, collect: "
                   "/api/collect)",
        "demo_done": "Demo: {hits} hits sent for {orgs} organisations over {days} days to "
                     "site {key} ({accepted} stored, {dropped} dropped as bots).",
        "demo_progress": "Sending demo traffic",
        "demo_next": "See the latest hits:  webleads hits --site {key}",
        "demo_dashboard": "Dashboard: webleads serve, then open http://127.0.0.1:8000/ (the "
                          "first time, create your login on the setup page, or with  "
                          "webleads user add EMAIL --admin).",
        "quarantine_none": "No refused request: the quarantine is empty.",
        "site_updated": "Site {name} updated; collect applies it within 10 seconds.",
        "site_snippet_changed": "The tag's options changed: replace the tag on the pages "
                                "of {domain} with this one:",
        "schema_missing": "The database has no webleads schema yet: run  webleads migrate",
        "page_group_error": "page group {value!r}: expected NAME=/path/glob",
        "lookup_nothing": "Give addresses as arguments or with --file.",
        "lookup_file": "Cannot read {file}: {error}",
        "lookup_bad": "{where}: {value!r} is not an IP address.",
        "import_format": "--format: {value!r} is not one of {formats}.",
        "import_reading": "Reading {file}",
        "import_error": "Nothing imported: {error}",
        "import_done": "Imported {ranges} ranges into the {layer} layer in {seconds} s "
                       "({target}). Stored hits keep their network until you run "
                       " webleads networks reidentify",
        "data_none": "No network data: identification is switched off "
                     "(WEBLEADS_NETWORK_DATA=none).",
        "data_imported_mark": "* imported by you (consulted before the shipped data). "
                              "Attribution:",
        "override_invalid": "Invalid override: {error}",
        "override_added": "Override {id} saved: {target} is {role}.",
        "override_none": "No override in this workspace.",
        "unknown_workspace": "No workspace {id}: workspaces are made with their first site "
                             "(webleads site add; see webleads site list).",
        "override_unknown": "No override {id} in this workspace.",
        "override_removed": "Override {id} removed.",
        "reidentified": "Re-identified {hits} stored hits: {changed} changed, "
                        "{created} accounts created, {emptied} accounts left without hits.",
        "funnel_bad_date": "Invalid date: {error}",
        "funnel_title": "Identification funnel of site {site}, {first} to {last}:",
        "funnel_stage": "stage",
        "funnel_count": "hits",
        "funnel_received": "hits received",
        "funnel_human": "by humans (not bots)",
        "funnel_stored": "stored",
        "funnel_business": "from business networks",
        "funnel_identified_hits": "attached to an organisation",
        "funnel_identified": "organisations identified",
        "funnel_in_target": "organisations in target",
        "user_password_how": "No terminal to type a password: give --password-file FILE "
                             "(or - for standard input), or --generate.",
        "user_password_prompt": "Password (at least 10 characters)",
        "user_error": "{field}: {error}",
        "user_invalid_email": "not a valid e-mail address",
        "user_password_short": "the password needs at least 10 characters",
        "user_password_long": "the password is too long (1,000 characters at most)",
        "user_email_taken": "a user with this e-mail address already exists",
        "user_invalid_role": "expected admin, marketer or sales",
        "user_invalid_locale": "expected fr or en",
        "user_created": "User {email} created ({kind}). Log in at /login.",
        "user_kind_admin": "install admin: every workspace",
        "user_kind_member": "member",
        "user_generated": "Password (shown once): {password}",
        "user_none": "No user yet: webleads user add EMAIL --admin (or open the dashboard's "
                     "setup page).",
        "user_unknown": "No user has the address {email}.",
        "user_password_set": "Password of {email} changed; their sessions ended.",
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
        "processed": "{n} hits de la file enregistrés ; la file des hits est vide.",
        "hits_waiting": "{n} hits acquittés (tous sites) attendent dans la file des hits, "
                        "le plus ancien depuis {age} s : ils apparaîtront ici une fois "
                        "enregistrés par le traitement. webleads serve le lance ; si ce "
                        "nombre ne baisse pas, lancez webleads process.",
        "serving": "webleads écoute sur http://{host}:{port}/ (marqueur : /wl.js, collecte : "
                   "/api/collect)",
        "demo_done": "Démo : {hits} hits envoyés pour {orgs} organisations sur {days} jours "
                     "au site {key} ({accepted} enregistrés, {dropped} écartés comme robots).",
        "demo_progress": "Envoi du trafic de démonstration",
        "demo_next": "Voir les derniers hits :  webleads hits --site {key}",
        "demo_dashboard": "Tableau de bord : webleads serve, puis ouvrez "
                          "http://127.0.0.1:8000/ (la première fois, créez votre compte sur "
                          "la page d'installation, ou avec  webleads user add EMAIL --admin).",
        "quarantine_none": "Aucune requête refusée : la quarantaine est vide.",
        "site_updated": "Site {name} modifié ; la collecte en tient compte sous 10 secondes.",
        "site_snippet_changed": "Les options du marqueur ont changé : remplacez le marqueur "
                                "des pages de {domain} par celui-ci :",
        "schema_missing": "La base n'a pas encore le schéma webleads : lancez  webleads migrate",
        "page_group_error": "groupe de pages {value!r} : NOM=/chemin/motif attendu",
        "lookup_nothing": "Donnez des adresses en arguments ou avec --file.",
        "lookup_file": "Impossible de lire {file} : {error}",
        "lookup_bad": "{where} : {value!r} n'est pas une adresse IP.",
        "import_format": "--format : {value!r} n'est pas l'un de {formats}.",
        "import_reading": "Lecture de {file}",
        "import_error": "Rien n'a été importé : {error}",
        "import_done": "{ranges} plages importées dans la couche {layer} en {seconds} s "
                       "({target}). Les hits déjà enregistrés gardent leur réseau tant que "
                       "vous ne lancez pas  webleads networks reidentify",
        "data_none": "Aucune donnée réseau : l'identification est désactivée "
                     "(WEBLEADS_NETWORK_DATA=none).",
        "data_imported_mark": "* importé par vous (consulté avant les données livrées). "
                              "Attribution :",
        "override_invalid": "Surcharge invalide : {error}",
        "override_added": "Surcharge {id} enregistrée : {target} est {role}.",
        "override_none": "Aucune surcharge dans cet espace de travail.",
        "unknown_workspace": "Pas d'espace de travail {id} : un espace de travail naît avec "
                             "son premier site (webleads site add ; voir webleads site list).",
        "override_unknown": "Pas de surcharge {id} dans cet espace de travail.",
        "override_removed": "Surcharge {id} supprimée.",
        "reidentified": "{hits} hits enregistrés ré-identifiés : {changed} modifiés, "
                        "{created} comptes créés, {emptied} comptes laissés sans hit.",
        "funnel_bad_date": "Date invalide : {error}",
        "funnel_title": "Entonnoir d'identification du site {site}, du {first} au {last} :",
        "funnel_stage": "étape",
        "funnel_count": "hits",
        "funnel_received": "hits reçus",
        "funnel_human": "humains (hors robots)",
        "funnel_stored": "enregistrés",
        "funnel_business": "depuis des réseaux d'organisations",
        "funnel_identified_hits": "rattachés à une organisation",
        "funnel_identified": "organisations identifiées",
        "funnel_in_target": "organisations dans la cible",
        "user_password_how": "Pas de terminal pour saisir un mot de passe : donnez "
                             "--password-file FICHIER (ou - pour l'entrée standard), ou "
                             "--generate.",
        "user_password_prompt": "Mot de passe (au moins 10 caractères)",
        "user_error": "{field} : {error}",
        "user_invalid_email": "adresse e-mail invalide",
        "user_password_short": "le mot de passe doit compter au moins 10 caractères",
        "user_password_long": "le mot de passe est trop long (1 000 caractères au plus)",
        "user_email_taken": "un utilisateur a déjà cette adresse e-mail",
        "user_invalid_role": "attendu : admin, marketer ou sales",
        "user_invalid_locale": "attendu : fr ou en",
        "user_created": "Utilisateur {email} créé ({kind}). Connexion sur /login.",
        "user_kind_admin": "administrateur de l'installation : tous les espaces de travail",
        "user_kind_member": "membre",
        "user_generated": "Mot de passe (affiché une seule fois) : {password}",
        "user_none": "Aucun utilisateur : webleads user add EMAIL --admin (ou ouvrez la page "
                     "d'installation du tableau de bord).",
        "user_unknown": "Aucun utilisateur n'a l'adresse {email}.",
        "user_password_set": "Mot de passe de {email} changé ; ses sessions sont fermées.",
    },
}
