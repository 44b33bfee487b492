"""The outbox: outward messages written with the change that caused them, then delivered
by workers (e-mail, Slack, Microsoft Teams, generic webhooks) with retries.

queue.py enqueues (in the caller's transaction), worker.py claims and delivers,
channels.py sends, render.py writes the bodies (messages.py: FR and EN texts),
signature.py signs webhooks, ssrf.py guards destinations, config.py maps the settings,
cli.py is ``webleads outbox``; the SQL lives in webleads/db/outbox.py.  See docs/alerts.md.
"""
