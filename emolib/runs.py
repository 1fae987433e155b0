"""A training run: the learning-rate schedule every training uses, the history it records, and its state saved as it
goes, so that a run interrupted (a closed laptop, a session's end) goes on from its last save instead of starting over.

    lr = warmup_cosine(step, total, peak=1e-3, warmup=100, floor=0.1)
    history = History("loss", "val_loss", best_step=0, seconds=0.0); history.log(loss=0.7)
    saved = Resume(path, key); state = saved.load()   # None on a fresh start; the dict given to saved.save() else
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict
from pathlib import Path

from .errors import EmolibError, short


def warmup_cosine(step: int, total: int, *, peak: float, warmup: int, floor: float) -> float:
    """The learning rate at a step: a linear warm-up over `warmup` steps to `peak`, then a cosine decay to
    floor * peak at the last step (never to zero, so late steps still learn)."""
    warmup = max(1, warmup)
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


class History:
    """What a training run records as it goes: a series of numbers per figure (losses, accuracies, learning rates)
    and single figures (the step or epoch it kept, seconds, images per second). Both read as attributes
    (``history.val_f1``, ``history.best_epoch``); a checkpoint keeps :meth:`as_dict`, from which ``History(**saved)``
    rebuilds it."""

    def __init__(self, *series: str, **figures):
        values = {name: [] for name in series}
        for name, value in figures.items():
            values[name] = list(value) if isinstance(value, (list, tuple)) else value
        object.__setattr__(self, "_values", values)

    def log(self, **values: float) -> None:
        """Append one number to each named series."""
        for name, value in values.items():
            self._values.setdefault(name, []).append(float(value))

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"this run recorded no {name!r}") from None

    def __setattr__(self, name: str, value) -> None:
        self._values[name] = value

    def as_dict(self) -> dict:
        """Every series and figure, as a checkpoint or a JSON report keeps them."""
        return {name: list(v) if isinstance(v, list) else v for name, v in self._values.items()}


def run_key(cfg, parts) -> dict:
    """What a saved state must share with a run to be resumed: its settings (a dataclass) and a digest of its data,
    given as byte strings."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return {"config": asdict(cfg), "data": digest.hexdigest()}


class Resume:
    """A run's state, kept in one file as the run goes (``save``) and read back when the same run starts again
    (``load``). ``key`` says what a saved state must share with this run (its settings, a digest of its data): a state
    saved by another run is one clear error, never silently continued. The file is replaced all at once, so a run
    killed while saving keeps its previous state."""

    def __init__(self, path: str | Path, key: dict):
        self.path, self.key = Path(path), key

    def load(self) -> dict | None:
        """The saved state (a dict of tensors, numbers and lists), or None when there is none."""
        import torch

        if not self.path.exists():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: say so, do not guess
            raise EmolibError(f"{short(self.path)} (an interrupted run's saved state) cannot be read "
                              f"({type(exc).__name__})", "delete it to start the training over") from None
        if not isinstance(state, dict) or state.get("key") != self.key:
            raise EmolibError(f"{short(self.path)} holds an interrupted run with other settings or data",
                              "rerun that run's command to finish it, or delete the file to start over")
        return state

    def save(self, state: dict) -> None:
        """Replace the saved state with this one (the key is added)."""
        import torch

        from .files.writing import write_files

        write_files([(self.path, lambda tmp: torch.save({**state, "key": self.key}, tmp))], force=True)

    def done(self) -> None:
        """The run finished and its result is saved: the state is no longer needed."""
        self.path.unlink(missing_ok=True)
