"""Shogi data for the trainer: features, maou's 1496 move labels, cshogi position generation."""
