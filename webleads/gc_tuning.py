"""Garbage-collector settings of the long-running processes (server, processor).

Measured on the processor (``store_hits`` on 600-hit batches of new visitors): the
cyclic collector took ~15 % of the time, walking again and again the hundreds of
thousands of objects that imports and start-up leave behind and that live as long as
the process.  ``gc.freeze()`` moves those to a generation the collector skips, and a
larger first threshold runs it less often on the short-lived objects of each batch
(which are freed by reference counting anyway: hits hold no cycles).  Cycles are still
collected.
"""

from __future__ import annotations

import gc

FIRST_THRESHOLD = 10_000  # allocations between two young collections (default 700)


def settle() -> None:
    """Call once the process has started (imports done, app built)."""
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_THRESHOLD, second, third)
