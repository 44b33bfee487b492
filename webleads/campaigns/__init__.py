"""Campaigns: data, links and short links, attribution models, reports."""
