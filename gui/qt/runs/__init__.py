"""Runs kept for comparison: the runs table and the comparison view."""
