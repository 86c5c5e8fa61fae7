"""maou-train: a staged shogi trainer (reachable squares → legal moves → policy+value) after maou's learn-model."""
