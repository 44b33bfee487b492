"""Behaviour score (rules, caps, decay), fit grade, explanations; see docs/scoring.md.

The collect path calls ``incremental.score_stored_hits`` inside its transaction;
``rescore.rescore`` recomputes everything from stored hits; ``explain`` reads.
"""
