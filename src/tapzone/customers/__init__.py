"""Registered customers and their own accounts (seed 001 "kundkonto")."""
