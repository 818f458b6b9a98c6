"""Observability coverage (issue 12): per service the playbook's five checks, the share passing all five,
the gaps with how to close each, the 30-day trend, and personal data in logs as a control."""
