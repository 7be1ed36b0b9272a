"""The bad-input corpus: hostile and malformed requests with the status each must get."""
