"""maou-tui: watch and steer staged shogi-network training from a terminal."""

__version__ = "0.1.0"
