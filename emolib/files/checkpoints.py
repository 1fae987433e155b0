"""Reading checkpoints safely: weights_only loading, and every way a file can be wrong as one clear line.

A checkpoint is a dict saved with ``torch.save``: weights, the config that built them, and a report.
Loading refuses a file whose records would unpack to more than it may take (checked from the zip's directory,
before any record is read), never unpickles arbitrary objects (``weights_only=True``), checks the config's fields
and sizes *before* a network is allocated (a config claiming ``z_dim=10**9`` would otherwise ask for gigabytes;
each model also checks its config against the shapes of the weights it comes with, and the memory the network
would take, with :func:`check_shapes`), and turns a shape mismatch (another model's file) into a message, not a
traceback.
"""
from __future__ import annotations

import math
import typing
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from ..errors import EmolibError
from .reading import check_unpacked

C = TypeVar("C")
MAX_BYTES = 500_000_000  # our checkpoints are 2-14 MB; a bigger file is not read into memory
MAX_UNPACKED = 300_000_000  # nor one whose records would unpack to more (a small deflated file can hold gigabytes)


def read(path: str | Path, kind: str, needs: tuple[str, ...], how_to_make: str) -> dict:
    """The checkpoint dict at path, or an EmolibError saying what is wrong with the file."""
    import torch

    path = Path(path)
    if not path.exists():
        raise EmolibError(f"{kind} checkpoint not found at {path}; {how_to_make}")
    if not path.is_file():
        raise EmolibError(f"{kind} checkpoint {path} is not a file; give the path of a .pt file")
    if path.stat().st_size > MAX_BYTES:
        raise EmolibError(f"{path} is {path.stat().st_size / 1e6:.0f} MB, too large for an emolib {kind} checkpoint; "
                          f"{how_to_make}")
    check_unpacked(path, MAX_UNPACKED, f"{kind} checkpoint")
    try:
        with warnings.catch_warnings():  # a legacy or odd file: one line below, not torch's warnings
            warnings.simplefilter("ignore")
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
    hints = typing.get_type_hints(cls)
    for name, value in values.items():
        if not _fits(value, hints.get(name)):
            raise EmolibError(f"{path}: its {kind} config sets {name}={str(value)[:40]!r}, not a "
                              f"{_describe(hints.get(name))}; the file is damaged or not an emolib checkpoint")
    for name in tuples:
        if name in values:
            values[name] = tuple(values[name])
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise EmolibError(f"{path}: its {kind} config cannot be used ({exc})") from None


def _fits(value, hint) -> bool:
    """Whether a config value from a file has the type its dataclass field declares (finite numbers only)."""
    if hint is None:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(_fits(v, a) for v, a in zip(value, args))
    return True


def _describe(hint) -> str:
    return str(hint).replace("typing.", "") if hint is not None else "value"


def load_weights(model, state: Any, path: str | Path, kind: str) -> None:
    """Load a state dict into a model, or say the file holds another model's weights."""
    import torch

    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise EmolibError(f"{path}: its {kind} weights are not a table of tensors")
    for name, v in state.items():
        if name.endswith("num_batches_tracked"):
            continue  # BatchNorm's counter is an integer by nature
        if v.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
            raise EmolibError(f"{path}: its {kind} weight {name[:60]} is {v.dtype}, not floating point; the file is "
                              "damaged or not an emolib checkpoint")
        if not torch.isfinite(v).all():
            raise EmolibError(f"{path}: its {kind} weight {name[:60]} holds NaN or infinite values; the file is damaged")
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except RuntimeError:
        raise EmolibError(f"{path}: its weights do not fit the {kind} its config describes (missing, extra or "
                          "differently shaped layers); is it another model's checkpoint?") from None


MAX_NETWORK_BYTES = 1_000_000_000  # what a network from a checkpoint may take: its weights and its largest pass


def check_network(path: str | Path, kind: str, state: Any, shapes: dict[str, tuple[int, ...]], nbytes: int) -> None:
    """Before a network is built from a checkpoint: the network its config describes must fit in MAX_NETWORK_BYTES
    (nbytes: the model's own estimate, weights and its largest pass), and its weights must hold the tensors the config
    implies, with those shapes (a config with no weights, or settings its weights do not have, is refused)."""
    if nbytes > MAX_NETWORK_BYTES:
        raise EmolibError(f"{path}: its {kind} config asks for a network of about {nbytes / 1e9:.1f} GB, more than the "
                          f"{MAX_NETWORK_BYTES / 1e9:.0f} GB an emolib {kind} may take; the file is damaged or not emolib's")
    if not isinstance(state, dict):
        raise EmolibError(f"{path}: its {kind} weights are not a table of tensors")
    for name, shape in shapes.items():
        tensor = state.get(name)
        if getattr(tensor, "shape", None) is None or tuple(tensor.shape) != tuple(shape):
            got = "missing" if tensor is None else f"shaped {tuple(getattr(tensor, 'shape', ()))}"
            raise EmolibError(f"{path}: its {kind} config does not match its weights ({name[:60]}: {got}, the config "
                              f"asks for {tuple(shape)}); the file is damaged or not emolib's")
