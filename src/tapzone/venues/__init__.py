"""Venues, their devices, staff, roles and permissions."""
