"""The customer portal: a visitor sees the balance, history and receipts of a medium by its number and PIN or
its QR code, and tops it up online (DESIGN §5: one uniform answer for every failed lookup)."""
