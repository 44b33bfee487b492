"""Tables of the behaviour score and the fit grade; see webleads/scoring/ and docs/scoring.md.

Rules are data (``scoring_rules``, ``fit_rules``), per workspace, seeded with the
defaults of ``webleads/scoring/defaults.toml`` on first use.  Every point given is a
line of ``score_ledger``; the score tables hold decay-invariant sums of those lines:
``weight = round(points * 2 ** ((ts - epoch) / half_life + 16))`` (integers, so that
any order of additions gives exactly the same sum), and the score at time T is
``sum(weight) / 2**16 * 2 ** (-(T - epoch) / half_life)``.
"""

from __future__ import annotations

import sqlalchemy as sa

from webleads.db.schema import Id, UTCDateTime, metadata

# One row per workspace, created (with the default rules) on first use.
# ``rules_version`` grows on every change of the rules: scorers cache compiled rules
# per version.  ``epoch`` moves forward (weights recomputed) when weights would grow
# too large for 64-bit sums: see webleads/scoring/decay.py.
scoring_settings = sa.Table(
    "scoring_settings", metadata,
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("half_life_days", sa.Float(), nullable=False),
    sa.Column("epoch", UTCDateTime(), nullable=False),
    sa.Column("rules_version", sa.Integer(), nullable=False),
    sa.Column("engaged_score", sa.Float(), nullable=False),
    sa.Column("grade_a", sa.Integer(), nullable=False),
    sa.Column("grade_b", sa.Integer(), nullable=False),
    sa.Column("grade_c", sa.Integer(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# Behaviour rules: all conditions must hold; ``cap`` lines at most per ``cap_period``
# (day, week, month in UTC; NULL: no cap) per rule and account.
scoring_rules = sa.Table(
    "scoring_rules", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("label_fr", sa.String(200)),
    sa.Column("conditions", sa.JSON(), nullable=False),
    sa.Column("points", sa.Integer(), nullable=False),
    sa.Column("cap", sa.Integer()),
    sa.Column("cap_period", sa.String(8)),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.UniqueConstraint("workspace_id", "name"),
)

# Firmographic rules: the points of the rules that hold add up to the fit points,
# graded A-D with the thresholds of scoring_settings.
fit_rules = sa.Table(
    "fit_rules", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("label_fr", sa.String(200)),
    sa.Column("conditions", sa.JSON(), nullable=False),
    sa.Column("points", sa.Integer(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.UniqueConstraint("workspace_id", "name"),
)

# One line per (rule, hit) that scored.  ``rule_id`` has no foreign key: a deleted
# rule's lines stay until the next rescore.  ``hit_id`` is NULL when the writer did not
# know it: (session_id, ts) then references the hit.  No index on workspace_id: only a
# rescore reads a whole workspace's lines, and every index costs the write path.
score_ledger = sa.Table(
    "score_ledger", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id")),
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id")),
    sa.Column("rule_id", Id),
    sa.Column("site_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("hit_id", Id),
    sa.Column("ts", UTCDateTime(), nullable=False),
    sa.Column("points", sa.Integer(), nullable=False),
    sa.Column("weight", sa.BigInteger(), nullable=False),
    sa.Column("page_group", sa.String(100)),
    sa.Index(None, "account_id", "ts"),
    sa.Index(None, "contact_id", "ts"),
)

# Decay-invariant sums of the ledger: per account, per account and page group (interest
# per product range), per contact.  ``points`` is the raw (undecayed) sum.
account_scores = sa.Table(
    "account_scores", metadata,
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("weight", sa.BigInteger(), nullable=False),
    sa.Column("points", sa.BigInteger(), nullable=False),
    sa.Index(None, "workspace_id", "weight"),
)

account_interest = sa.Table(
    "account_interest", metadata,
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("page_group", sa.String(100), primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("weight", sa.BigInteger(), nullable=False),
    sa.Column("points", sa.BigInteger(), nullable=False),
)

contact_scores = sa.Table(
    "contact_scores", metadata,
    sa.Column("contact_id", Id, sa.ForeignKey("contacts.id"), primary_key=True),
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), nullable=False),
    sa.Column("weight", sa.BigInteger(), nullable=False),
    sa.Column("points", sa.BigInteger(), nullable=False),
)

# A rescore of the whole workspace asked for (a rule saved from the dashboard) and done
# in the background, a slice of accounts at a time (webleads/scoring/background.py).
# Pending while ``done_at`` is NULL or older than ``requested_at``; ``started_at`` is
# the runner's heartbeat (a runner gone silent for long is replaced).
rescore_requests = sa.Table(
    "rescore_requests", metadata,
    sa.Column("workspace_id", Id, sa.ForeignKey("workspaces.id"), primary_key=True),
    sa.Column("requested_at", UTCDateTime(), nullable=False),
    sa.Column("requested_by", sa.String(320), nullable=False),
    sa.Column("started_at", UTCDateTime()),
    sa.Column("done_at", UTCDateTime()),
    sa.Column("hits", sa.BigInteger()),
    sa.Column("error", sa.String(1000)),
)
