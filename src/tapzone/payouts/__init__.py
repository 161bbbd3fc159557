"""Payouts of leftover card value: cash at the till, or by SEPA credit transfer in batches."""
