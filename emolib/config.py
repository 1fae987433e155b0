"""Paths, per-stage configuration, seeding and device choice: the one place every stage reads.

Each stage has a dataclass whose defaults are the full run; ``fast()`` shrinks data and epochs
so CI and a classroom laptop finish in seconds. ``EMOLIB_FAST=1`` selects fast mode everywhere
through :func:`load`.
"""
from __future__ import annotations

import contextlib
import functools
import os
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parents[1]  # the repository (or the installed tree's parent)
PACKAGE_DATA = Path(__file__).resolve().parent / "assets"  # files that ship with the code


def is_fast() -> bool:
    """True when EMOLIB_FAST is set to a true value (CI, quick classroom runs)."""
    return os.environ.get("EMOLIB_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


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
    """Where derived files (parsed corpora, decoded images) are cached: $EMOLIB_CACHE or data/cache."""
    env = os.environ.get("EMOLIB_CACHE")
    path = Path(env).expanduser() if env else ROOT / "data" / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir() -> Path:
    """Where notebooks and scripts save figures."""
    path = ROOT / "figures"
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


@dataclass
class FaceConfig:
    """Face data and the EfficientNet-B0 emotion classifier."""

    # None = every class the dataset has: FER2013's seven, so neutral, surprised and afraid faces are
    # recognised as what they are and placed on the valence-arousal plane (emotion.VA_COORDINATES).
    classes: tuple[str, ...] | None = None
    image_size: int = 96  # FER's 48x48 faces upsampled: +6.6 points of validation accuracy over 64 px
    # (scripts/classifier_choices.py), as ImageNet filters expect larger features; 2.7x the compute
    init: str = "lite0"  # "lite0" (ImageNet, ships in a package), "imagenet" (online), "random"
    epochs: int = 7  # about 50 minutes on 2 CPU cores at 96 px
    batch_size: int = 64
    lr: float = 2e-3  # AdamW peak learning rate, reached after a short warm-up
    min_lr_ratio: float = 0.05  # cosine schedule floors at 5% of the peak, never at zero
    weight_decay: float = 1e-4
    # Loss weight per class = (balanced weight) ** power: 1 balances the classes fully, 0 ignores the
    # imbalance. On validation, 0 gave the best accuracy (0.535 vs 0.500 for 0.5 and 0.455 for 1).
    class_weight_power: float = 0.0
    label_smoothing: float = 0.0  # 0.1 cost 2 points of validation accuracy (0.500 vs 0.520)
    # training labels: FER2013's own, "ferplus" (the FER+ majority vote) or "ferplus_soft" (each face's FER+
    # vote distribution over our classes as a soft target, mixed with its FER2013 label by soft_weight)
    labels: str = "fer2013"
    soft_weight: float = 1.0  # "ferplus_soft": target = soft_weight * votes + (1 - soft_weight) * FER2013 label
    blur: float = 0.0  # share of training faces given a random Gaussian blur
    erase: float = 0.0  # share of training faces with one random rectangle erased
    # Averaging each face with its mirror image adds about 1 point on validation but doubles inference
    # time: at 96 px that is 14 ms per face, over the 10 ms budget, so it is off by default.
    flip_tta: bool = False
    val_fraction: float = 0.1  # validation carved from the training split only
    max_train: int | None = None  # cap on training images (None = all)
    max_test: int | None = None
    balanced_sample: bool = False  # caps take the same number of each class (fast mode) instead of keeping proportions
    patience: int = 4  # early stopping on validation macro-F1
    num_threads: int = 2  # CPU threads for torch
    seed: int = 0

    @classmethod
    def fast(cls) -> "FaceConfig":
        # a balanced sample of every class, about a minute on 2 CPU cores: enough to rise clearly above chance
        return cls(image_size=48, epochs=3, batch_size=32, max_train=2100, max_test=700, patience=3,
                   balanced_sample=True)


@dataclass
class MusicConfig:
    """Melody data: the folk corpus, EMOPIA and the piano-roll convention."""

    steps_per_bar: int = 16  # 4 steps per quarter note, 4/4 time (MIDINet, Magenta)
    bars_per_segment: int = 4  # a 4-bar segment is 64 steps
    low_pitch: int = 48  # melodies are transposed into C3..B5 so every piece shares one register
    high_pitch: int = 84
    max_songs: int | None = None  # cap on folk songs parsed (None = all)
    transpose_all_keys: bool = True  # augmentation: the 12 transpositions balance keys and quadrants
    seed: int = 0

    @property
    def steps_per_segment(self) -> int:
        return self.steps_per_bar * self.bars_per_segment

    @classmethod
    def fast(cls) -> "MusicConfig":
        return cls(max_songs=300, transpose_all_keys=False)


@dataclass
class PipelineConfig:
    """Image -> emotion -> melody."""

    bars: int = 16
    tempo_scale: float = 1.0
    detect_faces: bool = True
    center_crop_fallback: bool = False  # only when asked: a photo with no face is an error otherwise

    @classmethod
    def fast(cls) -> "PipelineConfig":
        return cls()


C = TypeVar("C")


def load(cls: type[C], **overrides) -> C:
    """The config of a stage: fast() under EMOLIB_FAST=1, else the defaults; overrides win."""
    base = cls.fast() if is_fast() else cls()  # type: ignore[attr-defined]
    return replace(base, **overrides)
