"""The background worker: the database task queue plus the clock loop in one process."""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections

from openbid.core import clockloop

logger = logging.getLogger("openbid.worker")


def _clock_loop(stop: threading.Event, interval: float) -> None:
    while not stop.is_set():
        close_old_connections()
        clockloop.tick()
        close_old_connections()
        stop.wait(interval)


def run_worker() -> None:
    """Run until interrupted: the clock loop in a thread, the task worker in the main thread."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_clock_loop,
        args=(stop, settings.OPENBID_CLOCK_INTERVAL_SECONDS),
        name="openbid-clock",
        daemon=True,
    )
    thread.start()
    logger.info(
        "clock loop every %ss with %s",
        settings.OPENBID_CLOCK_INTERVAL_SECONDS,
        ", ".join(clockloop.handlers()) or "no handlers",
    )
    try:
        call_command(
            "db_worker",
            queue_name="*",
            interval=1.0,
            reload=False,
            startup_delay=False,
            verbosity=1,
        )
    finally:
        stop.set()
