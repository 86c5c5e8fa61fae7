"""Theme files: the shipped ones, a user's own, bad files and unknown names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pilot import has_note, loaded, status_text

from maou_tui.app import MaouApp
from maou_tui.app.themes import load_themes, read_theme_file, shipped_theme_dir
from maou_tui.app.widgets.charts import LossChart, theme_rgb


def test_shipped_themes_are_found_and_valid() -> None:
    catalogue = load_themes([shipped_theme_dir()])
    assert catalogue.errors == []
    assert {"dark", "light", "high-contrast"} <= set(catalogue.themes)
    assert catalogue.themes["light"].dark is False


def test_bad_colour_is_reported_with_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "mine.json"
    bad.write_text(json.dumps({"name": "mine", "primary": "not-a-colour"}))
    with pytest.raises(ValueError, match=r"mine\.json: primary: 'not-a-colour' is not a colour"):
        read_theme_file(bad)


def test_user_theme_dir_adds_themes_and_skips_broken_files(_isolated_themes: Path) -> None:
    _isolated_themes.mkdir()
    (_isolated_themes / "sakura.toml").write_text('name = "sakura"\nprimary = "#FF77AA"\n')
    (_isolated_themes / "broken.json").write_text("{not json")
    catalogue = load_themes()
    assert "sakura" in catalogue.themes and "dark" in catalogue.themes
    (error,) = catalogue.errors
    assert "broken.json" in error


async def test_unknown_theme_falls_back_with_a_note(demo_dir: Path) -> None:
    app = MaouApp(demo_dir, mode="attach", theme="no-such-theme")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert app.theme == "dark"
        assert has_note(app, "unknown theme 'no-such-theme'; using 'dark'")


async def test_broken_user_theme_is_notified(demo_dir: Path, _isolated_themes: Path) -> None:
    _isolated_themes.mkdir()
    (_isolated_themes / "oops.json").write_text('{"name": "oops"}')  # no primary colour
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert has_note(app, "oops.json: primary: Field required")


def chart_colours(chart: LossChart) -> set[tuple[int, int, int]]:
    text = chart.render()
    colours = {span.style.color for span in text.spans if hasattr(span.style, "color")}
    return {c.triplet for c in colours if c is not None and c.triplet is not None}


async def test_chart_colours_follow_the_theme(demo_dir: Path) -> None:
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app, min_steps=170)
        chart = app.main.query_one(LossChart)
        dark_primary = theme_rgb(app, "primary")
        assert dark_primary in chart_colours(chart)
        app.theme = "light"
        version = app.drawn_version
        await pilot.pause(0.5)
        assert app.drawn_version == version  # no new data: only the theme changed
        light_primary = theme_rgb(app, "primary")
        assert light_primary == (0x0B, 0x5C, 0xAD)
        colours = chart_colours(chart)
        assert light_primary in colours and dark_primary not in colours


async def test_no_color_still_draws_everything(demo_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert app.no_color
        assert "RUNNING" in status_text(app)
        assert "loss (batch" in app.main.query_one(LossChart).render().plain
