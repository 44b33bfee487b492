"""IP -> network, organisation, category and confidence (see resolver.py)."""
