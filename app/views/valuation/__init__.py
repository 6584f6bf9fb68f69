"""The Valuation page: the roll, ratio studies and under-declared sales."""
