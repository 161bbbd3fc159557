"""Media (cards, wristbands, QR codes) and their lifecycle."""
