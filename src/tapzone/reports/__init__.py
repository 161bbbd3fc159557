"""Reports read from the ledger: card float, open tabs, daily revenue; exported as CSV, XLSX and charts.

Every figure is a sum of postings (or of rows the postings explain), so a report can never disagree with
`tapzone check`. Query functions take an open transaction and the venue; the use cases in `service` add
the `report.view` permission check and own the transaction.
"""
