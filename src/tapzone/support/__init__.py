"""Support's tools (seed 004 "Saldo Korrektur"): balance corrections and closing online top-ups that never
completed. Only the support role holds `balance.correct`."""
