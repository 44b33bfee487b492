"""Tables of the French enrichment (SIRENE); see webleads/fr/ and docs/french-enrichment.md.

``fr_companies`` holds legal units (unités légales) imported from the INSEE stock files
or learnt from the online "recherche d'entreprises" API; ``account_fr`` links an account
to its SIREN; ``fr_api_cache`` keeps the API's answers for a while.
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata

# One row per legal unit (SIREN).  The *_key columns are normalised forms of the names
# (webleads/fr/names.py) used to find a company from an account's name or domain:
# name_key "societe generale", name_token its first word, compact_key "societegenerale".
fr_companies = sa.Table(
    "fr_companies", metadata,
    sa.Column("siren", sa.String(9), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("name_key", sa.String(300), nullable=False),
    sa.Column("name_token", sa.String(100), nullable=False),
    sa.Column("compact_key", sa.String(300), nullable=False),
    sa.Column("sigle", sa.String(100)),
    sa.Column("sigle_key", sa.String(100)),
    # Trade name of the head office (enseigne, else dénomination usuelle).
    sa.Column("trade_name", sa.String(300)),
    sa.Column("trade_key", sa.String(300)),
    sa.Column("naf", sa.String(8)),            # activitePrincipaleUniteLegale, e.g. 62.01Z
    sa.Column("naf_version", sa.String(16)),   # NAFRev2, NAF2025, NAFRev1, NAF1993, NAP
    sa.Column("naf25", sa.String(8)),          # activitePrincipaleNAF25UniteLegale
    sa.Column("headcount_band", sa.String(2)),  # INSEE code: NN, 00, 01 ... 53
    sa.Column("category", sa.String(3)),       # PME, ETI, GE
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("head_office_siret", sa.String(14)),
    sa.Column("postcode", sa.String(10)),
    sa.Column("city", sa.String(100)),
    sa.Column("source", sa.String(8), nullable=False),  # stock or api
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index(None, "name_key"),
    sa.Index(None, "name_token"),
    sa.Index(None, "compact_key"),
    sa.Index(None, "sigle_key"),
    sa.Index(None, "trade_key"),
)

# The French company of an account: at most one, with how sure and how it was found.
account_fr = sa.Table(
    "account_fr", metadata,
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("siren", sa.String(9), nullable=False),
    sa.Column("confidence", sa.Float(), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),  # domain, name, api
    sa.Column("evidence", sa.JSON()),
    sa.Column("matched_at", UTCDateTime(), nullable=False),
    sa.Index(None, "siren"),
)

# Answers of the online API, by normalised query, so that one question is asked once
# per TTL.  ``response`` is the JSON body as received.
fr_api_cache = sa.Table(
    "fr_api_cache", metadata,
    sa.Column("query", sa.String(300), primary_key=True),
    sa.Column("response", sa.Text(), nullable=False),
    sa.Column("fetched_at", UTCDateTime(), nullable=False),
)
