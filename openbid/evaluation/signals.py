"""What the evaluation tells other contexts.

``report_signed(tender, report)`` is sent, in the transaction recording the last signature, when
every member of the committee has signed the evaluation report (评标报告): the evaluation is
complete. The award context connects to it to put the candidates in publicity (中标候选人公示) —
the tender's move to ``publicity`` is its job, not the evaluation's. Right after the signal, the
committee's names are published if the tender has reached publicity.

Connect with ``report_signed.connect(receiver)`` (a Django signal: ``receiver(sender, tender,
report, **kwargs)``), or append a plain callable ``callback(tender, report)`` to
``report_signed_callbacks``. A receiver that raises rolls the signature back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

report_signed = Signal()
report_signed_callbacks: list[Callable[[Any, Any], object]] = []


def fire_report_signed(tender: Any, report: Any) -> None:
    from openbid.evaluation.models import Report

    report_signed.send(sender=Report, tender=tender, report=report)
    for callback in list(report_signed_callbacks):
        callback(tender, report)
