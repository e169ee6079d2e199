"""Scoring predictions against gold (field-level P/R/F1), evaluate (generate + score) and the report."""
