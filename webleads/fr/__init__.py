"""French enrichment: INSEE SIRENE import, matching accounts to French companies (SIREN,
NAF, headcount), and an opt-in online lookup.  See docs/french-enrichment.md."""
