"""Detectors: pure functions from one stage's data to detections (episodes with an onset).

Each detector scans the whole history it is given and returns every episode it finds, so the
live Diagnoser (called as points arrive) and an offline report (called once) agree: live, an
episode simply appears when it is confirmed and then grows.
"""
