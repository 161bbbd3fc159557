"""Double-entry ledger: accounts, journal entries, postings, holds and the invariants that guard them."""
