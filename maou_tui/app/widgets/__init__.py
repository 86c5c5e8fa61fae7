"""Widgets of the main screen: charts, status, findings."""
