"""`webleads serve` runs the outbox's delivery worker in the background; tests and the
demo (``background=False``, the default) do not."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from webleads.app import create_app
from webleads.settings import Settings
from webleads.sites import NewSite


def test_serve_delivers_the_outbox_in_the_background(settings: Settings, engine: Engine,
                                                      site: NewSite) -> None:
    quiet = create_app(settings, engine=engine)
    quiet.start()
    try:
        assert quiet._outbox is None
    finally:
        quiet.stop()

    served = create_app(settings.model_copy(update={"outbox_poll_seconds": 0.05}),
                        engine=engine, background=True)
    served.start()
    try:
        worker = served._outbox
        assert worker is not None and worker._thread.is_alive()
    finally:
        served.stop()
    assert served._outbox is None and not worker._thread.is_alive()
