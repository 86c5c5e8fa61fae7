"""maou-train: a staged shogi trainer after maou's learn-model (Stage 1 → 2 → 3)."""
