"""The loss a program backpropagates, recorded per optimizer step without a device sync.

``torch.autograd.backward`` (which ``Tensor.backward`` calls) is wrapped: every scalar it is
called on is kept, detached. At the optimizer step the scalars since the last step are summed
(under gradient accumulation each micro-batch's loss is usually divided by the number of
micro-batches, so the sum is the step's loss). A CPU value is read at once; a GPU value is
copied into pinned host memory without blocking and read once its CUDA event says the copy is
done, usually by the next step, so the step event of a GPU run is written a step or so late.
A loss scaled for fp16 (``GradScaler.scale(loss).backward()``) is recorded as scaled.
"""

from __future__ import annotations

import collections
import sys
from collections.abc import Callable
from typing import Any

#: Step records waiting for their GPU loss; past this many the oldest is written without it.
MAX_WAITING = 16
_INF = float("inf")
#: How a step's fields go out: ``emit(fields, t)`` with ``t`` the time of the step.
Emit = Callable[[dict[str, Any], float], None]


class LossProbe:
    """Keeps the backpropagated scalars and hands each step's loss over when readable."""

    def __init__(self) -> None:
        self._torch: Any = sys.modules["torch"]
        self._seen: list[Any] = []
        self._waiting: collections.deque[tuple[dict[str, Any], float, Any, Any]] = (
            collections.deque()
        )
        self._original: Callable[..., Any] | None = None

    def install(self) -> None:
        autograd = self._torch.autograd
        original = autograd.backward
        self._original = original

        tensor_type, keep = self._torch.Tensor, self._seen.append

        def backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(tensors, tensor_type) and tensors.numel() == 1:
                keep(tensors.detach())
            return original(tensors, *args, **kwargs)

        autograd.backward = backward

    def uninstall(self) -> None:
        if self._original is not None:
            self._torch.autograd.backward = self._original
            self._original = None

    def step_done(self, fields: dict[str, Any], t: float, emit: Emit) -> None:
        """Attach this step's loss to ``fields`` and ``emit`` them with the step's time ``t``,
        now or when readable."""
        seen = self._seen
        if not seen:
            fields["loss"] = None
        elif len(seen) == 1 and not seen[0].is_cuda:  # the usual CPU step: read it now
            loss = float(seen.pop())
            fields["loss"] = loss if -_INF < loss < _INF else None  # NaN compares False
        else:
            loss = seen[0] if len(seen) == 1 else self._torch.stack(seen).sum()
            seen.clear()
            if not loss.is_cuda:
                fields["loss"] = _finite_or_none(float(loss))
            else:
                self._wait_for(loss, fields, t, emit)
                return
        if self._waiting:
            self._drain(emit, force=True)
        emit(fields, t)

    def _wait_for(self, loss: Any, fields: dict[str, Any], t: float, emit: Emit) -> None:
        """Copy a GPU loss to the host without blocking; emit its step once the copy is done."""
        host = self._torch.empty((), dtype=self._torch.float32, pin_memory=True)
        host.copy_(loss.float().reshape(()), non_blocking=True)
        done = self._torch.cuda.Event()
        done.record()
        self._waiting.append((fields, t, host, done))
        self._drain(emit, force=False)

    def flush(self, emit: Emit) -> None:
        """Write every waiting step (the program is ending: waiting for the GPU is fine)."""
        for _, _, _, done in self._waiting:
            done.synchronize()
        self._drain(emit, force=True)

    def _drain(self, emit: Emit, force: bool) -> None:
        while self._waiting:
            fields, t, host, done = self._waiting[0]
            ready = done.query()
            if not ready and not force and len(self._waiting) <= MAX_WAITING:
                return
            self._waiting.popleft()
            fields["loss"] = _finite_or_none(float(host)) if ready else None
            emit(fields, t)


def _finite_or_none(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None
