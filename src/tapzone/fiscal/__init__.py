"""Fiscal profiles, receipt signing (the TSE port and its simulator) and the DSFinV-K export; 54-FZ later."""
