"""Steer a PyTorch program we did not write: ``maou-tui run -- CMD``.

- ``site/sitecustomize.py``: loaded by every Python process of the run; waits for torch.
- ``attach``: torch's global optimizer step hooks; any error switches the hook off.
- ``steering``: what happens at each optimizer step boundary (commands, LR multiplier, events).
- ``ranks``: the same command at the same step on every torchrun rank.
- ``loss_probe``: the loss the program backpropagates, read without a device sync.
- ``supervise``: runs CMD on a pseudo-terminal, captures its output, records its exit.

The modules that run inside the program find torch in ``sys.modules`` (the program imported
it); nothing in maou_tui imports torch itself.
"""
