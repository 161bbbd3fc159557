"""The screens of the people at the venue: till, gate monitor, back office and customer portal.

Server-rendered with Jinja2 and HTMX, no build step: every screen calls the same use cases as the HTTP API,
in the staff member's language.
"""
