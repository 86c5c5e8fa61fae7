"""Shogi data for the trainer: input features, maou's 1496 move labels and position generation (cshogi)."""
