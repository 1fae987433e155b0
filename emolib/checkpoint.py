"""Reading checkpoints safely: weights_only loading, and every way a file can be wrong as one clear line.

A checkpoint is a dict saved with ``torch.save``: weights, the config that built them, and a report.
Loading never unpickles arbitrary objects (``weights_only=True``), checks the config's fields and
sizes *before* a network is allocated (a config claiming ``z_dim=10**9`` would otherwise ask for
gigabytes), and turns a shape mismatch (another model's file) into a message, not a traceback.
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from .errors import EmolibError

C = TypeVar("C")


def read(path: str | Path, kind: str, needs: tuple[str, ...], how_to_make: str) -> dict:
    """The checkpoint dict at path, or an EmolibError saying what is wrong with the file."""
    import torch

    path = Path(path)
    if not path.exists():
        raise EmolibError(f"{kind} checkpoint not found at {path}; {how_to_make}")
    if not path.is_file():
        raise EmolibError(f"{kind} checkpoint {path} is not a file; give the path of a .pt file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file (empty, truncated, text, a pickle of code)
        raise EmolibError(f"{path} is not a readable {kind} checkpoint (empty, truncated or another kind of file: "
                          f"{type(exc).__name__}); {how_to_make}") from None
    missing = [k for k in needs if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise EmolibError(f"{path} is not an emolib {kind} checkpoint (it has no {', '.join(missing)}); {how_to_make}")
    return ckpt


def config(cls: type[C], raw: Any, path: str | Path, kind: str, limits: dict[str, tuple[int, int]],
           tuples: tuple[str, ...] = ()) -> C:
    """Build a config dataclass from a checkpoint's dict, refusing unknown fields and sizes out of limits."""
    if not isinstance(raw, dict):
        raise EmolibError(f"{path}: its {kind} config is not a table of settings")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - known)
    if unknown:
        raise EmolibError(f"{path}: its {kind} config has settings this emolib does not know ({', '.join(unknown)}); "
                          "was it made by another model or version?")
    for name, (lo, hi) in limits.items():
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise EmolibError(f"{path}: its {kind} config sets {name}={value!r}, outside {lo}..{hi}; the file is damaged "
                              "or not an emolib checkpoint")
    values = dict(raw)
    for name in tuples:
        if name in values:
            values[name] = tuple(values[name])
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise EmolibError(f"{path}: its {kind} config cannot be used ({exc})") from None


def load_weights(model, state: Any, path: str | Path, kind: str) -> None:
    """Load a state dict into a model, or say the file holds another model's weights."""
    import torch

    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise EmolibError(f"{path}: its {kind} weights are not a table of tensors")
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except RuntimeError:
        raise EmolibError(f"{path}: its weights do not fit the {kind} its config describes (missing, extra or "
                          "differently shaped layers); is it another model's checkpoint?") from None
