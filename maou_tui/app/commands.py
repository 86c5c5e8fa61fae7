"""The command palette provider: every key-map command, plus one entry per theme."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from maou_tui.app.keys import KEY_MAP, key_label


class MaouCommands(Provider):
    """Offers each binding by its description and each registered theme by name."""

    def _entries(self) -> list[tuple[str, str]]:
        """``(title, action)``: one line each (a help line repeating the title read as every
        entry listed twice)."""
        entries = [(_titled(text, key_label(binding)), binding.action) for binding, text in KEY_MAP]
        for name in sorted(self.app.available_themes):
            entries.append((f"Theme: {name}", f"theme('{name}')"))
        return entries

    async def discover(self) -> Hits:
        for title, action in self._entries():
            yield DiscoveryHit(title, partial(self.app.run_action, action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action))


def _titled(text: str, key: str) -> str:
    """``Pause or resume training (p)``; a text that already names its key keeps one."""
    return text if text.endswith(f"({key})") else f"{text} ({key})"
