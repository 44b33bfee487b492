"""The REST API (``/api/v1``): OpenAPI-described, authenticated with workspace API
tokens (Settings → Team), for CRMs, scripts and the privacy requests of data subjects."""
