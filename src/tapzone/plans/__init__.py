"""Card accounts and, later, account types, tariffs and top-up rules."""
