"""maou-tui's process hook, loaded by every Python process a ``maou-tui run -- CMD`` starts.

This directory is put first on the PYTHONPATH of that run only. Python imports
``sitecustomize`` at start-up, so this file runs before the program's own code. It must cost
nothing and break nothing: standard library only, no maou_tui import here. It waits for
``torch.optim.optimizer`` to be imported (a ``sys.meta_path`` finder that wraps that one
module's loader) and then lets ``maou_tui.hook.attach`` register torch's global optimizer step
hooks. A program that never imports torch never loads anything more.

Whatever ``sitecustomize`` this one shadows (a distribution's or a virtualenv's) is run after it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at start-up; mypy reads this idiom
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

_RUN_DIR_ENV = "MAOU_TUI_HOOK_RUN_DIR"
#: Path entries where maou_tui and its dependencies are importable (those of ``maou-tui run``);
#: appended after the program's own entries only when the hook attaches.
_SYSPATH_ENV = "MAOU_TUI_HOOK_SYSPATH"
_WATCHED = "torch.optim.optimizer"


def _report(message: str) -> None:
    try:  # noqa: SIM105 (contextlib is not imported at start-up; this file stays stdlib-light)
        sys.stderr.write(f"maou-tui hook: {message}\n")
    except Exception:
        pass


def _attach() -> None:
    extra = [p for p in os.environ.get(_SYSPATH_ENV, "").split(os.pathsep) if p]
    sys.path.extend(p for p in extra if p not in sys.path)
    from maou_tui.hook.attach import attach

    attach(os.environ[_RUN_DIR_ENV])


class _AfterTorchOptimizer:
    """A meta-path finder that runs ``_attach`` right after ``torch.optim.optimizer`` loaded."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != _WATCHED:
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            try:
                _attach()
            except Exception as exc:  # never break the program: say it once, stay off
                _report(
                    f"not attached ({type(exc).__name__}: {exc}); the program runs without control"
                )

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _chain_shadowed_sitecustomize() -> None:
    """Run the ``sitecustomize`` this file hides (later on sys.path), as Python would have."""
    here = os.path.dirname(os.path.abspath(__file__))
    ours = sys.modules.pop(__name__, None)
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        import importlib

        importlib.import_module("sitecustomize")
    except ImportError:
        pass
    except Exception as exc:
        _report(f"the shadowed sitecustomize failed ({type(exc).__name__}: {exc})")
    finally:
        sys.path[:] = saved
        if ours is not None:
            sys.modules[__name__] = ours


if os.environ.get(_RUN_DIR_ENV):
    sys.meta_path.insert(0, _AfterTorchOptimizer())
_chain_shadowed_sitecustomize()
