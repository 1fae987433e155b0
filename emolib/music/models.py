"""The melody models behind one interface, and the registry of the ones emolib ships.

Both models answer the same call, in the style of nanoGPT's ``model.generate(idx, max_new_tokens,
temperature=1.0, top_k=None)``: ``model.generate(prompt, bars, seed=..., temperature=..., top_k=..., ...)``
continues a :class:`~emolib.music.piece.Piece` (the given opening bars, possibly none, with the chord plan
for every bar) to `bars` bars and returns the longer Piece, whose new bars are marked as the model's.
Decoding settings are call arguments with the same meaning and the same defaults for both models
(:mod:`emolib.music.decoding`); what ``compose`` passes by default is declared once, in :data:`MODELS`.

A registry instead of if/else by name (timm's ``create_model``): each :class:`ModelSpec` names its shipped
checkpoint, the module that loads it and the decoding ``compose`` uses with it; :func:`load` returns a
ready model, whatever the kind, with one return shape.
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ..config import checkpoints_dir
from ..errors import BadInput
from .piece import Piece


class MelodyModel(Protocol):
    """What both melody models are to the rest of emolib."""

    name: str  # "gan" or "transformer": what a Piece's bars say wrote them
    meta: dict  # the checkpoint's provenance, history and metrics (never its weights)

    def generate(self, prompt: Piece, bars: int = 16, *, seed: int = 0, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, leap_penalty: float = 0.0,
                 grid: int = 1) -> Piece:
        """Continue `prompt` to `bars` bars under its chords and emotion; the same seed gives the same notes."""
        ...


@dataclass(frozen=True)
class ModelSpec:
    """One shipped melody model: where its weights are, what loads them, how compose decodes it by default."""

    name: str
    checkpoint: str  # file name in emolib/assets/checkpoints
    module: str  # the module whose load(path) -> MelodyModel reads such a checkpoint
    summary: str
    decoding: dict = field(default_factory=dict)  # compose's default decoding (see MODELS)
    grid_by_emotion: dict[str, int] = field(default_factory=dict)  # compose's default grid, per emotion

    @property
    def path(self) -> Path:
        return checkpoints_dir() / self.checkpoint

    def decoding_for(self, emotion: str) -> dict:
        """The decoding compose uses for this model and emotion when the caller sets nothing."""
        out = dict(self.decoding)
        if emotion in self.grid_by_emotion:
            out["grid"] = self.grid_by_emotion[emotion]
        return out


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model to the registry (a name may be registered once)."""
    if spec.name in MODELS:
        raise ValueError(f"a model named {spec.name!r} is already registered")
    MODELS[spec.name] = spec
    return spec


register(ModelSpec(
    "gan", "midinet_folk.pt", "emolib.music.gan",
    "MIDINet-style conditional GAN: 4-bar segments, each conditioned on the one before",
    # the most likely pitch at each sounding step (MIDINet's decoding), with the leap penalty as a re-ranking
    decoding={"top_k": 1, "leap_penalty": 0.3},
    # a rhythmic grid per quadrant: eighths for high arousal, quarters for low
    grid_by_emotion={"happy": 2, "angry": 2, "sad": 4, "calm": 4}))
register(ModelSpec(
    "transformer", "transformer_folk.pt", "emolib.music.transformer",
    "emotion-token transformer (EMOPIA-style): one event token at a time, attending to the tune so far",
    decoding={"top_p": 0.95}))  # nucleus sampling, as in EMOPIA's and most music transformers' decoding


def spec(name: str) -> ModelSpec:
    """The registered model of that name, or a BadInput listing the choices."""
    if not isinstance(name, str) or name not in MODELS:
        raise BadInput(f"unknown model {name!r}: choose one of {', '.join(MODELS)}")
    return MODELS[name]


def checkpoint_path(name: str = "gan", checkpoint: str | Path | None = None) -> Path:
    """The checkpoint a model composes with: the one given, else the shipped one."""
    if checkpoint is not None and (not isinstance(checkpoint, (str, Path)) or not str(checkpoint)):
        raise BadInput(f"checkpoint must be the path of a .pt file, got {checkpoint!r}")
    return Path(checkpoint) if checkpoint is not None else spec(name).path


def load(name: str = "gan", checkpoint: str | Path | None = None) -> MelodyModel:
    """A ready model: the shipped one, or `checkpoint` read by the model's own loader (kept for the next call)."""
    return _load(spec(name).module, str(checkpoint_path(name, checkpoint)))


@functools.lru_cache(maxsize=4)
def _load(module: str, path: str) -> MelodyModel:
    return importlib.import_module(module).load(path)


def seed_generators(seed: int) -> tuple[np.random.Generator, "object"]:
    """(numpy, torch) random generators for one generation call, both from `seed`: same seed, same notes."""
    import torch

    return np.random.default_rng(seed), torch.Generator().manual_seed(int(seed))
