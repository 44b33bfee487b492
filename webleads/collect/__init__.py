"""HTTP edge for hits: the collect endpoint, the pixel and the tag (raw ASGI)."""
