"""The fictional world of ``webleads demo``: organisations, their networks, the site.

Every name here is invented: organisations are built from made-up name parts,
their domains end in ``.example`` (RFC 2606), their networks lie in the RFC 2544
benchmark range 198.18.0.0/15 and the documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), and their ASNs are documentation
or private-use numbers.  Any resemblance to a real organisation is a coincidence.
"""

from __future__ import annotations

import ipaddress
import random
import re
import unicodedata
from dataclasses import dataclass

from webleads.model import Network, NetworkCategory, PageGroupRule
from webleads.networks.resolver import RangesResolver

SITE_NAME = "Webleads demo"
SITE_DOMAIN = "demo.webleads.example"
SITE_TIMEZONE = "Europe/Paris"
BASE_URL = f"https://{SITE_DOMAIN}"
PAGE_GROUPS: tuple[PageGroupRule, ...] = tuple(
    PageGroupRule(group, pattern) for group, pattern in (
        ("crm", "/products/crm/**"), ("analytics", "/products/analytics/**"),
        ("automation", "/products/automation/**"), ("pricing", "/pricing/**"),
        ("docs", "/docs/**"), ("blog", "/blog/**"), ("careers", "/careers/**"),
        ("contact", "/contact/**"), ("contact", "/demo/**"),
    )
)
MAX_ORGANISATIONS = 2000  # 198.18.0.0/16 holds 2048 blocks of /27
EVIDENCE = ("demo",)

# Country (ISO 3166) -> share of organisations, languages of their names, time zone.
COUNTRIES: dict[str, tuple[float, tuple[str, ...], str]] = {
    "FR": (45, ("fr",), "Europe/Paris"), "BE": (8, ("fr", "nl"), "Europe/Brussels"),
    "CH": (6, ("fr", "de"), "Europe/Zurich"), "LU": (3, ("fr",), "Europe/Luxembourg"),
    "DE": (10, ("de",), "Europe/Berlin"), "GB": (9, ("en",), "Europe/London"),
    "ES": (5, ("es",), "Europe/Madrid"), "IT": (5, ("it",), "Europe/Rome"),
    "NL": (4, ("nl",), "Europe/Amsterdam"), "US": (5, ("en",), "America/New_York"),
}
_LEGAL_FORMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("FR", "fr"): ("SAS", "SAS", "SA", "SARL"), ("BE", "fr"): ("SA", "SRL"),
    ("BE", "nl"): ("NV", "BV"), ("CH", "fr"): ("SA", "Sàrl"), ("CH", "de"): ("AG", "GmbH"),
    ("LU", "fr"): ("SA", "Sàrl"), ("DE", "de"): ("GmbH", "GmbH", "AG"),
    ("GB", "en"): ("Ltd", "Ltd", "plc"), ("US", "en"): ("Inc", "Inc", "LLC", "Corp"),
    ("ES", "es"): ("SA", "SL"), ("IT", "it"): ("SpA", "Srl"), ("NL", "nl"): ("BV", "NV"),
}
# Made-up name parts: chosen to sound French, German, English... without building the
# usual place-name compounds (no -ford, -ville, -hoven...), so no real town comes out.
_ROOTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fr": (("Bel", "Cor", "Dor", "Fon", "Lor", "Vau", "Ver", "Clar", "Sau", "Mau", "Aub",
            "Tré", "Quen", "Jous", "Gar", "Mer"),
           ("vane", "lys", "ombe", "aval", "elys", "ovane", "isane", "oubre", "estre",
            "ivère", "anise")),
    "de": (("Adler", "Falk", "Brenn", "Kessel", "Ahl", "Tann", "Elm", "Wend", "Quell",
            "Lerch", "Fink", "Birk"),
           ("wehr", "mark", "lohe", "quell", "stieg", "kamp", "wacht", "gries", "klamm")),
    "en": (("Kest", "Wex", "Brax", "Quill", "Zell", "Orv", "Tarv", "Vell", "Cress", "Yarl",
            "Dunv", "Hollin"),
           ("mere", "holt", "wyn", "combe", "stead", "ridge", "more", "brook", "hythe",
            "thorpe")),
    "es": (("Alba", "Cer", "Vera", "Ribe", "Cala", "Oro", "Zar", "Quin", "Lum"),
           ("dora", "tejo", "orca", "uela", "bral", "ancia", "oliva", "esca")),
    "it": (("Ros", "Bel", "Cas", "Fer", "Sol", "Ter", "Cor", "Vel", "Lu"),
           ("ugia", "ardi", "esi", "onte", "iveri", "ombra", "assi", "ecchia")),
    "nl": (("Zwaan", "Mees", "Klaver", "Wilg", "Reiger", "Otter", "Kievit", "Elzen"),
           ("wold", "sloot", "weerd", "drecht", "kade", "schor", "laar")),
}
SECTORS = ("industry", "software", "banking", "insurance", "retail", "logistics", "pharma",
           "energy", "consulting", "construction", "food", "automotive", "media")
_SECTOR_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {"industry": ("{r} Industries", "Forges de {r}", "{r} Mécanique"),
           "software": ("{r} Informatique", "{r} Systèmes", "{r} Numérique"),
           "banking": ("Banque {r}", "Crédit {r}"), "insurance": ("{r} Assurances",
                                                                  "Mutuelle {r}"),
           "retail": ("{r} Distribution", "Maisons {r}"), "logistics": ("Transports {r}",
                                                                         "{r} Logistique"),
           "pharma": ("Laboratoires {r}",), "energy": ("{r} Énergie",),
           "consulting": ("{r} Conseil",), "construction": ("Constructions {r}", "{r} Bâtiment"),
           "food": ("Fromageries {r}", "{r} Agroalimentaire"),
           "automotive": ("{r} Équipements Auto",), "media": ("Éditions {r}",)},
    "de": {"industry": ("{r} Maschinenbau", "{r} Werke"), "software": ("{r} Software",
                                                                      "{r} IT-Systeme"),
           "banking": ("{r} Privatbank",), "insurance": ("{r} Versicherung",),
           "retail": ("{r} Handel",), "logistics": ("{r} Logistik", "Spedition {r}"),
           "pharma": ("{r} Pharma",), "energy": ("{r} Energie",), "consulting": ("{r} Beratung",),
           "construction": ("{r} Bau",), "food": ("{r} Lebensmittel",),
           "automotive": ("{r} Autoteile",), "media": ("{r} Verlag",)},
    "en": {"industry": ("{r} Industries", "{r} Manufacturing"),
           "software": ("{r} Software", "{r} Systems", "{r} Labs"),
           "banking": ("{r} Bank", "{r} Capital"), "insurance": ("{r} Insurance", "{r} Mutual"),
           "retail": ("{r} Retail Group", "{r} Stores"), "logistics": ("{r} Logistics",
                                                                        "{r} Freight"),
           "pharma": ("{r} Therapeutics", "{r} Biosciences"), "energy": ("{r} Energy",),
           "consulting": ("{r} Consulting", "{r} Partners"), "construction": ("{r} Construction",),
           "food": ("{r} Foods",), "automotive": ("{r} Automotive",), "media": ("{r} Media",)},
    "es": {"industry": ("Industrias {r}",), "software": ("{r} Sistemas",),
           "banking": ("Banca {r}",), "insurance": ("Seguros {r}",),
           "logistics": ("{r} Logística", "Transportes {r}"), "pharma": ("Laboratorios {r}",)},
    "it": {"industry": ("{r} Industrie",), "software": ("{r} Sistemi",), "banking": ("Banca {r}",),
           "insurance": ("{r} Assicurazioni",), "logistics": ("{r} Logistica",),
           "pharma": ("{r} Farmaceutici",), "food": ("{r} Alimentari",)},
    "nl": {"industry": ("{r} Industrie",), "software": ("{r} Systemen",), "banking": ("{r} Bank",),
           "insurance": ("{r} Verzekeringen",), "logistics": ("{r} Logistiek",),
           "food": ("{r} Voeding",)},
}
_PUBLIC: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # (government, education)
    "fr": (("Ville de {t}", "Communauté d'agglomération de {t}", "Centre hospitalier de {t}"),
           ("Université de {t}", "École d'ingénieurs de {t}", "IUT de {t}")),
    "de": (("Stadt {t}", "Landratsamt {t}"), ("Universität {t}", "Hochschule {t}")),
    "en": (("{t} Borough Council", "{t} City Council"), ("University of {t}", "{t} College")),
    "es": (("Ayuntamiento de {t}",), ("Universidad de {t}",)),
    "it": (("Comune di {t}",), ("Università di {t}", "Politecnico di {t}")),
    "nl": (("Gemeente {t}",), ("Universiteit {t}", "Hogeschool {t}")),
}
SIZES = ("10-49", "50-249", "250-999", "1000-4999", "5000+")
_SIZE_WEIGHTS = (8, 32, 30, 20, 10)

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "fr": ("Camille", "Julien", "Sophie", "Thomas", "Claire", "Nicolas", "Élodie", "Antoine",
           "Manon", "Mathieu", "Léa", "Pierre", "Chloé", "Hugo", "Inès", "Romain"),
    "de": ("Lukas", "Anna", "Jonas", "Lena", "Felix", "Laura", "Maximilian", "Julia", "Paul"),
    "en": ("James", "Emma", "Oliver", "Olivia", "Jack", "Amelia", "Daniel", "Sarah", "Emily"),
    "es": ("Lucía", "Hugo", "Martina", "Pablo", "Sofía", "Javier", "Carmen"),
    "it": ("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Sara"),
    "nl": ("Daan", "Emma", "Sem", "Julia", "Lars", "Sanne", "Bram"),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "fr": ("Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Lefebvre", "Garnier",
           "Fontaine", "Rousseau", "Chevalier", "Girard", "Mercier", "Blanc", "Faure"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Clarke", "Walker", "Miller"),
    "es": ("García", "Fernández", "López", "Martínez", "Sánchez", "Romero"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"),
    "nl": ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser"),
}
JOB_TITLES: dict[str, tuple[str, ...]] = {
    "fr": ("Directrice marketing", "Directeur commercial", "Responsable CRM", "DSI",
           "Chef de projet digital", "Responsable des achats", "Chargée de marketing B2B"),
    "en": ("Head of Marketing", "Sales Director", "CRM Manager", "IT Manager", "Data Analyst",
           "Procurement Officer", "Marketing Operations Lead", "Business Developer"),
}

# Fictional access networks: (name, country, category, IPv4 range, optional IPv6 range).
# Visitors on them stay anonymous: an ISP is not the visitor's company.
ISPS: tuple[tuple[str, str, NetworkCategory, str, str | None], ...] = (
    ("Fibrelia", "FR", "isp", "198.19.0.0/21", "2001:db8:f000::/36"),
    ("Telvanor Box", "FR", "isp", "198.19.8.0/21", None),
    ("Mobivera", "FR", "mobile", "198.19.16.0/21", None),
    ("Ondalis Mobile", "FR", "mobile", "198.19.24.0/21", None),
    ("Wafelnet", "BE", "isp", "198.19.32.0/21", None),
    ("Brabocom Mobile", "BE", "mobile", "198.19.40.0/21", None),
    ("Alpivox", "CH", "isp", "198.19.48.0/21", None),
    ("Moselnet", "LU", "isp", "198.19.56.0/21", None),
    ("Kabelora", "DE", "isp", "198.19.64.0/21", None),
    ("Funkvia Mobil", "DE", "mobile", "198.19.72.0/21", None),
    ("Brightwyre Broadband", "GB", "isp", "198.19.80.0/21", None),
    ("Celtora Mobile", "GB", "mobile", "198.19.88.0/21", None),
    ("Ibervia Fibra", "ES", "isp", "198.19.96.0/21", None),
    ("Reteluna", "IT", "isp", "198.19.104.0/21", None),
    ("Polderlink", "NL", "isp", "198.19.112.0/21", None),
    ("Prairiewave Internet", "US", "isp", "198.19.120.0/21", None),
)
# Fictional cloud providers: crawlers, scrapers and VPN exits come from here.
HOSTING: tuple[tuple[str, str, str], ...] = (
    ("Nimbusgrid Cloud", "DE", "203.0.113.0/24"),
    ("Stackforge Hosting", "FR", "198.51.100.0/24"),
    ("Rackvale Datacenter", "US", "192.0.2.0/24"),
)
_ORG_SPACE = ipaddress.ip_network("198.18.0.0/16")

# The demo site: a fictional vendor of a CRM, an analytics and an automation product.
# Topic -> pages (path, title).  Product pages, pricing, docs... fall in PAGE_GROUPS.
PAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "home": (("/", "Webleads Example: know which companies visit your website"),),
    "crm": (("/products/crm/", "CRM for B2B teams"), ("/products/crm/features", "CRM features"),
            ("/products/crm/integrations", "CRM integrations"),
            ("/products/crm/migration", "Move your CRM data in a day"),
            ("/products/crm/case-studies/industrial-distributor",
             "Case study: an industrial distributor doubles its pipeline")),
    "analytics": (("/products/analytics/", "B2B analytics"),
                  ("/products/analytics/dashboards", "Dashboards"),
                  ("/products/analytics/data-connectors", "Data connectors"),
                  ("/products/analytics/account-scoring", "Account scoring")),
    "automation": (("/products/automation/", "Marketing automation"),
                   ("/products/automation/workflows", "Workflows"),
                   ("/products/automation/templates", "Campaign templates"),
                   ("/products/automation/webinar", "Webinar: automation for sales teams")),
    "pricing": (("/pricing", "Pricing"), ("/pricing/enterprise", "Enterprise plan"),
                ("/pricing/faq", "Pricing FAQ")),
    "docs": (("/docs/", "Documentation"), ("/docs/getting-started", "Getting started"),
             ("/docs/api/authentication", "API: authentication"),
             ("/docs/api/webhooks", "API: webhooks"),
             ("/docs/crm/import-contacts", "Import contacts"),
             ("/docs/analytics/custom-reports", "Custom reports"),
             ("/docs/security/sso", "Single sign-on")),
    "blog": (("/blog/", "Blog"),
             ("/blog/b2b-lead-scoring-guide", "A practical guide to lead scoring"),
             ("/blog/gdpr-b2b-prospecting", "GDPR and B2B prospecting: what is allowed"),
             ("/blog/account-based-marketing-101", "Account-based marketing 101"),
             ("/blog/sales-marketing-alignment", "Sales and marketing: one pipeline"),
             ("/blog/crm-data-quality-checklist", "A CRM data quality checklist"),
             ("/blog/intent-data-explained", "Intent data, explained")),
    "careers": (("/careers", "Careers"),
                ("/careers/sales-engineer-paris", "Sales engineer (Paris)"),
                ("/careers/backend-developer-lyon", "Backend developer (Lyon)"),
                ("/careers/customer-success-brussels", "Customer success manager (Brussels)")),
    "contact": (("/demo", "Book a demo"), ("/contact", "Contact us")),
    "company": (("/about", "About us"), ("/customers", "Customers"),
                ("/security", "Security and compliance"), ("/partners", "Partners")),
}
PRODUCTS = ("crm", "analytics", "automation")
DOWNLOADS: dict[str, tuple[str, ...]] = {
    "crm": ("/resources/crm-datasheet.pdf",), "analytics": ("/resources/analytics-whitepaper.pdf",),
    "automation": ("/resources/automation-playbook.pdf",),
    "pricing": ("/resources/price-list.pdf",),
    "company": ("/resources/security-overview.pdf", "/resources/dpa-template.docx"),
    "docs": ("/resources/api-reference.pdf",),
}
OUTBOUND: dict[str, tuple[str, ...]] = {
    "docs": ("https://code.webleads-community.example/sdk-python",
             "https://status.webleads-example.example/"),
    "company": ("https://marketplace.alderhub.example/apps/webleads",),
    "careers": ("https://jobs.talentboard.example/webleads-example",),
    "blog": ("https://research.b2b-insights.example/state-of-b2b-marketing",),
}
PARTNER_REFERRERS = (
    "https://marketplace.alderhub.example/apps/webleads",
    "https://www.saas-compare.example/crm/best-b2b-crm",
    "https://blog.growthnotes.example/how-we-qualify-leads",
    "https://www.kestrel-consulting.example/partners",
)
SEARCH_HOSTS: dict[str, str] = {
    "FR": "www.google.fr", "BE": "www.google.be", "CH": "www.google.ch", "LU": "www.google.lu",
    "DE": "www.google.de", "GB": "www.google.co.uk", "ES": "www.google.es",
    "IT": "www.google.it", "NL": "www.google.nl", "US": "www.google.com",
}
SEARCH_TERMS = ("b2b analytics software", "account scoring tool", "website visitor "
                "identification", "logiciel crm b2b", "b2b lead tracking")

# (user agent, weight); desktop browsers first, then phones and tablets.
DESKTOP_AGENTS: tuple[tuple[str, int], ...] = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 34),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", 24),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 7),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 14),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/18.1 Safari/605.1.15", 12),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", 3),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 3),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/130.0.0.0 Safari/537.36", 6),
)
MOBILE_AGENTS: tuple[tuple[str, int], ...] = (
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", 40),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36", 35),
    ("Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", 10),
    ("Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Mobile/15E148 Safari/604.1", 8),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Mobile/15E148 [LinkedInApp]/9.30.1500", 7),
)
# Crawlers, tools and automation that drop_bots drops: (user agent, weight, pages).
BOT_AGENTS: tuple[tuple[str, int, int], ...] = (
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 25, 30),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
     "+http://www.bing.com/bingbot.htm) Chrome/131.0.0.0 Safari/537.36", 12, 20),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", 10, 25),
    ("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", 8, 25),
    ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
     6, 1),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", 4, 1),
    ("curl/8.5.0", 5, 2),
    ("python-requests/2.32.3", 6, 8),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/131.0.0.0 Safari/537.36", 8, 12),
    ("Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", 10, 1),
)


@dataclass(frozen=True, slots=True)
class DemoOrganisation:
    """A fictional organisation and the network it runs."""

    name: str
    domain: str  # under .example
    category: NetworkCategory  # enterprise, education or government
    sector: str
    size: str  # employees band
    country: str  # ISO 3166 alpha-2
    language: str
    timezone: str
    cidr: str  # a /27 or /28 in 198.18.0.0/16
    cidr6: str | None  # a /48 in 2001:db8::/32, for a few
    asn: int | None  # private-use ASN when the organisation runs its own network

    def network(self) -> Network:
        return Network(asn=self.asn, as_org=self.name if self.asn else None,
                       org_name=self.name, org_domain=self.domain, category=self.category,
                       confidence=0.9, country=self.country, evidence=EVIDENCE)


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:50].strip("-")


def _root(rng: random.Random, language: str) -> str:
    starts, ends = _ROOTS[language]
    start, end = rng.choice(starts), rng.choice(ends)
    if start[-1] in "aeiouéè" and end[0] in "aeiou":
        end = end[1:]  # Vau + anise -> Vaunise
    return start + end


def _name(rng: random.Random, country: str, language: str, category: str, sector: str) -> str:
    root = _root(rng, language)
    if category != "enterprise":
        government, education = _PUBLIC[language]
        town = root + (rng.choice(("-sur-Lorme", "-les-Bains", "-la-Forêt"))
                       if language == "fr" and rng.random() < 0.25 else "")
        pattern = rng.choice(government if category == "government" else education)
        if country == "US":
            pattern = rng.choice(("City of {t}",) if category == "government"
                                 else ("{t} State University", "University of {t}"))
        name = pattern.format(t=town)
        return re.sub(r" de ([AEIOUÉÈ])", r" d'\1", name) if language == "fr" else name
    patterns = _SECTOR_NAMES[language].get(sector) or _SECTOR_NAMES["en"][sector]
    return f"{rng.choice(patterns).format(r=root)} {rng.choice(_LEGAL_FORMS[(country, language)])}"


def demo_organisations(count: int, seed: int) -> list[DemoOrganisation]:
    """``count`` fictional organisations, the same for the same ``seed``."""
    if not 1 <= count <= MAX_ORGANISATIONS:
        raise ValueError(f"organisations: 1 to {MAX_ORGANISATIONS}")
    rng = random.Random(f"webleads-demo/organisations/{seed}")
    countries = list(COUNTRIES)
    weights = [COUNTRIES[c][0] for c in countries]
    orgs: list[DemoOrganisation] = []
    names: set[str] = set()
    domains: set[str] = set()
    offset = 0
    while len(orgs) < count:
        country = rng.choices(countries, weights)[0]
        language = rng.choice(COUNTRIES[country][1])
        category: NetworkCategory = rng.choices(
            ("enterprise", "education", "government"), (84, 8, 8))[0]
        sector = (rng.choice(SECTORS) if category == "enterprise"
                  else "higher education" if category == "education" else "public sector")
        name = _name(rng, country, language, category, sector)
        if name in names:
            continue
        names.add(name)
        size = rng.choices(SIZES, _SIZE_WEIGHTS)[0]
        prefix = 27 if size in ("1000-4999", "5000+") else 28
        block = 1 << (32 - prefix)
        offset = -(-offset // block) * block  # align the block on its size
        cidr = f"{_ORG_SPACE.network_address + offset}/{prefix}"
        offset += block
        index = len(orgs)
        base = slug(re.sub(r"\s+(SAS|SA|SARL|SRL|Sàrl|NV|BV|AG|GmbH|Ltd|plc|Inc|LLC|Corp|SL|"
                           r"SpA|Srl)$", "", name))
        domain = base + ".example"
        n = 2
        while domain in domains:
            domain, n = f"{base}-{n}.example", n + 1
        domains.add(domain)
        orgs.append(DemoOrganisation(
            name=name, domain=domain, category=category, sector=sector, size=size,
            country=country, language=language, timezone=COUNTRIES[country][2], cidr=cidr,
            cidr6=f"2001:db8:{0x100 + index:x}::/48" if rng.random() < 0.08 else None,
            asn=4_200_000_000 + index if prefix == 27 else None,
        ))
    return orgs


def demo_ranges(organisations: int, seed: int) -> list[tuple[str, Network]]:
    """Every network of the demo world as (CIDR, Network): organisations, ISPs, hosts."""
    ranges: list[tuple[str, Network]] = []
    for org in demo_organisations(organisations, seed):
        ranges.append((org.cidr, org.network()))
        if org.cidr6:
            ranges.append((org.cidr6, org.network()))
    for asn, (name, country, category, cidr, cidr6) in enumerate(ISPS, start=64496):
        net = Network(asn=asn, as_org=name, category=category, confidence=0.9,
                      country=country, evidence=EVIDENCE)
        ranges += [(cidr, net)] + ([(cidr6, net)] if cidr6 else [])
    for asn, (name, country, cidr) in enumerate(HOSTING, start=64512):
        ranges.append((cidr, Network(asn=asn, as_org=name, category="hosting", confidence=0.9,
                                     country=country, evidence=EVIDENCE)))
    return ranges


def demo_networks(organisations: int, seed: int) -> RangesResolver:
    """The resolver to build the demo app with (same arguments as ``run_demo``)."""
    return RangesResolver(demo_ranges(organisations, seed))
