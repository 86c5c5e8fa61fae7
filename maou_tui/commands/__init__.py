"""Sub-commands of ``maou-tui``; see ``maou_tui.cli`` for the module contract."""
