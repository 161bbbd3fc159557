"""Receipts: one model of every printed document, rendered as ESC/POS bytes, HTML and PDF."""
