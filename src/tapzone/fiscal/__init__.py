"""Fiscal profiles and, later, receipt signing (TSE, 54-FZ)."""
