import sys

from maou_tui.cli import main

sys.exit(main())
