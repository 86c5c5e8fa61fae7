"""The command palette provider: every key-map command, plus one entry per theme."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from maou_tui.app.keys import KEY_MAP, key_label


class MaouCommands(Provider):
    """Offers each binding by its description and each registered theme by name."""

    def _entries(self) -> list[tuple[str, str, str]]:
        entries = [
            (f"{text} ({key_label(binding)})", text, binding.action) for binding, text in KEY_MAP
        ]
        for name in sorted(self.app.available_themes):
            help_text = f"Switch the colour theme to {name}"
            entries.append((f"Theme: {name}", help_text, f"theme('{name}')"))
        return entries

    async def discover(self) -> Hits:
        for title, help_text, action in self._entries():
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
