"""Objections (异议) and complaints (投诉) with working-day timers, suspensions and published
decisions; the responsibility list of regulators; the feedback ledger (意见建议征集)."""
