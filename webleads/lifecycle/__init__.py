"""Lifecycle of accounts: stages, owners, alert rules and daily digests (issue 4, items
4-6).  ``hook.after_scoring`` runs in the collect transaction right after scoring."""
