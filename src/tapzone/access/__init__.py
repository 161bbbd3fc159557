"""Visits (a medium bound to a visitor) and, later, zones, gates and anti-passback."""
