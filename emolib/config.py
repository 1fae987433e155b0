"""Paths, fast mode, seeding, threads and device choice: what every stage reads.

Each stage's config dataclass lives beside the code it configures (``FaceConfig`` in
:mod:`emolib.faces.training`, ``GANConfig`` in :mod:`emolib.music.models.gan`, ``TransformerConfig`` in
:mod:`emolib.music.models.transformer`, ``CorpusConfig`` in :mod:`emolib.music.data.corpus`); its defaults are the
full run and ``fast()`` shrinks data and epochs so CI and a classroom laptop finish in seconds.
``EMOLIB_FAST=1`` selects fast mode everywhere through :func:`load`. Nothing here writes to disk or
changes a library's global state: paths are resolved, folders are made only by the code that writes.
"""
from __future__ import annotations

import contextlib
import functools
import os
import random
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parents[1]  # the repository (or the installed tree's parent)
PACKAGE_DATA = Path(__file__).resolve().parent / "assets"  # files that ship with the code


FAST_VALUES = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False,
               "": False}


def is_fast() -> bool:
    """True when EMOLIB_FAST is set to a true value (CI, quick classroom runs); another value is an error, not
    a silent full run of an hour."""
    value = os.environ.get("EMOLIB_FAST", "").strip().lower()
    if value not in FAST_VALUES:
        from .errors import EmolibError

        raise EmolibError(f"EMOLIB_FAST={value[:20]!r} is neither on nor off", "set it to 1 (fast) or 0 (full runs)")
    return FAST_VALUES[value]


def data_root() -> Path:
    """Where datasets live: $EMOLIB_DATA, else the repository's data/ folder."""
    env = os.environ.get("EMOLIB_DATA")
    return Path(env).expanduser() if env else ROOT / "data"


def data_summary() -> str:
    """Which optional datasets were found (for notebooks: no machine-specific path is printed)."""
    root = data_root()
    found = {name: (root / name).is_dir() for name in ("fer2013", "emopia")}
    where = "$EMOLIB_DATA" if os.environ.get("EMOLIB_DATA") else "data/"
    return f"datasets in {where}: " + ", ".join(f"{k} {'found' if v else 'absent'}" for k, v in found.items())


def cache_dir() -> Path:
    """Where derived files (parsed corpora, decoded images) are cached: $EMOLIB_CACHE or data/cache (not created
    here: the code that writes a cache file makes the folder with ensure_dir)."""
    env = os.environ.get("EMOLIB_CACHE")
    return Path(env).expanduser() if env else ROOT / "data" / "cache"


def answers_dir() -> Path:
    """Where the listening test (emolib.widgets.Quiz) appends your answers by default: data/listening (git ignores it)."""
    return ROOT / "data" / "listening"


def figures_dir() -> Path:
    """Where the scripts store their results (JSON) and the notebooks and tests read them: figures/."""
    return ROOT / "figures"


def plots_dir() -> Path:
    """Where plots and example files are saved: figures/, or $EMOLIB_FIGURES if set. The test suite points it at a
    temporary folder, so running the tests never changes the figures that ship."""
    given = os.environ.get("EMOLIB_FIGURES", "").strip()
    return Path(given).expanduser() if given else figures_dir()


def ensure_dir(path: Path) -> Path:
    """Make a folder (and its parents) if it is missing, and return it: called just before writing into it."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoints_dir() -> Path:
    """Checkpoints shipped with the package (trained on data we may redistribute or derive from)."""
    return PACKAGE_DATA / "checkpoints"


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch so a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency, but keep config importable
        return
    torch.manual_seed(seed)


@contextlib.contextmanager
def torch_threads(n: int):
    """Run a block with n torch CPU threads, then restore the caller's setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def one_thread(fn):
    """Decorator for generation with small models: step-by-step work on small matrices is fastest on one
    thread (more threads only wait on one another, and stall badly when the CPU is shared: 0.4 s vs 4 ms
    for 16 bars of the GAN while a training run holds both cores)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with torch_threads(1):
            return fn(*args, **kwargs)
    return wrapper


def device():
    """A CUDA GPU when there is one, otherwise the CPU (never an error)."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


C = TypeVar("C")


def load(cls: type[C], **overrides) -> C:
    """The config of a stage: fast() under EMOLIB_FAST=1, else the defaults; overrides win."""
    base = cls.fast() if is_fast() else cls()  # type: ignore[attr-defined]
    return replace(base, **overrides)
