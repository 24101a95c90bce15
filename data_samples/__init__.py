"""Synthetic sample data: a city of households and people, its five defective extracts, and the truth."""
