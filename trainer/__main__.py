"""``python -m trainer``: the same as ``maou-train``."""

from trainer.cli import main

raise SystemExit(main())
