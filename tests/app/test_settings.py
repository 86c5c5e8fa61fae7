"""The settings file (good, bad, absent) and the view each run is reopened with."""

from __future__ import annotations

from pathlib import Path

from demo_run import write_demo_run
from pilot import has_note, loaded, wait_for

from maou_tui.app import MaouApp
from maou_tui.app.keys import BINDING_IDS
from maou_tui.app.widgets.charts import LossChart
from maou_tui.settings import Settings, load_settings, settings_path

SIZE = (120, 40)


def test_absent_file_gives_the_defaults(_isolated_settings: Path):
    assert settings_path() is None
    loaded_settings = load_settings(binding_ids=BINDING_IDS)
    assert loaded_settings.settings == Settings()
    assert loaded_settings.problems == [] and loaded_settings.path is None


def test_good_toml_file_is_read(_isolated_settings: Path):
    path = _isolated_settings / "settings.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        'smoothing = 0.95\nzoom = "stage"\nlog_lr = false\ntheme = "light"\n'
        '[keymap]\nhalve_lr = "H"\n'
    )
    found = load_settings(binding_ids=BINDING_IDS)
    assert found.path == path and found.problems == []
    assert found.settings.smoothing == 0.95 and found.settings.zoom == "stage"
    assert not found.settings.log_lr and found.settings.theme == "light"
    assert found.settings.keymap == {"halve_lr": "H"}


def test_json_file_is_read(_isolated_settings: Path):
    path = _isolated_settings / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"smoothing": 0.6}')
    assert load_settings().settings.smoothing == 0.6


def test_a_bad_value_costs_only_that_value(tmp_path: Path):
    path = tmp_path / "settings.toml"
    path.write_text('smoothing = 1.5\nzoom = "stage"\ncolour = 3\n[keymap]\nnope = "x"\n')
    found = load_settings(path, binding_ids=BINDING_IDS)
    assert found.settings.smoothing == 0.9  # the default
    assert found.settings.zoom == "stage"  # the good value is kept
    assert found.settings.keymap == {}
    assert len(found.problems) == 3
    smoothing, colour, keymap = found.problems
    assert smoothing.startswith(f"settings file {path}: smoothing: ")
    assert "less than or equal to 0.999" in smoothing and smoothing.endswith("using 0.9")
    assert colour == f"settings file {path}: colour: unknown setting " + (
        "(known: keymap, smoothing, zoom, log_lr, theme)"
    )
    assert "keymap.nope: no key has this id" in keymap and "halve_lr" in keymap
    assert all("\n" not in problem for problem in found.problems)


def test_unparsable_file_gives_the_defaults_and_one_line(tmp_path: Path):
    path = tmp_path / "settings.toml"
    path.write_text("smoothing = = 3\n")
    found = load_settings(path)
    assert found.settings == Settings()
    (problem,) = found.problems
    assert problem.startswith(f"settings file {path}: not valid TOML") and "defaults" in problem


async def test_app_opens_with_the_settings_and_its_keymap(_isolated_settings: Path, demo_dir):
    _isolated_settings.mkdir(parents=True)
    (_isolated_settings / "settings.toml").write_text(
        'smoothing = 0.6\nzoom = "stage"\n[keymap]\nsmooth_up = "U"\n'
    )
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert app.view.zoom_stage and app.view.smoothing == 0.6
        assert "EMA 0.6" in app.main.query_one(LossChart).chart_title
        await pilot.press("U")  # the overridden key
        await wait_for(pilot, lambda: app.view.smoothing == 0.8, "smoothing from U")
        await pilot.press("plus")  # the default key no longer does it
        await pilot.pause(0.2)
        assert app.view.smoothing == 0.8
        await pilot.press("question_mark")
        table = app.screen.query_one("DataTable")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert any(key == "U" and "More smoothing" in str(text) for key, text in rows)


async def test_bad_settings_file_is_said_and_the_app_starts(_isolated_settings: Path, demo_dir):
    _isolated_settings.mkdir(parents=True)
    (_isolated_settings / "settings.toml").write_text('zoom = "everything"\n')
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert has_note(app, "settings.toml: zoom: Input should be 'run' or 'stage'")
        assert not app.view.zoom_stage


async def test_smoothing_and_zoom_survive_reattach(demo_dir: Path, tmp_path: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        await pilot.press("plus", "z", "g")
    again = MaouApp(demo_dir, mode="attach", theme="dark")
    async with again.run_test(size=SIZE) as pilot:
        await loaded(pilot, again, min_steps=170)
        assert again.view.smoothing == 0.95 and again.view.zoom_stage and not again.view.log_lr
        assert "EMA 0.95" in again.main.query_one(LossChart).chart_title
    other = MaouApp(write_demo_run(tmp_path / "other-run"), mode="attach", theme="dark")
    async with other.run_test(size=SIZE) as pilot:  # another run keeps the defaults
        await loaded(pilot, other, min_steps=170)
        assert other.view.smoothing == 0.9 and not other.view.zoom_stage
