"""Point of sale: products, tabs, bills, settlement, sales from the card balance, top-ups."""
