"""Helpers that generate the labelled diagnostics corpus (see bench/diagnostics.py)."""
