"""Figures, tables, the HTML report and Word export."""
