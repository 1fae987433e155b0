"""The registry of the melody models emolib ships.

Both models answer one call (emolib.music.models.continuation.MelodyModel.generate); decoding settings are call
arguments with the same meaning and the same defaults for both (:mod:`emolib.music.models.sampling`); what
``compose`` passes by default is declared once, in :data:`MODELS`.

A registry instead of if/else by name (timm's ``create_model``): each :class:`ModelSpec` names its shipped
checkpoint, the module that loads it and the decoding ``compose`` uses with it; :func:`load` returns a
ready model, whatever the kind, with one return shape.
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from ...config import checkpoints_dir
from ...errors import BadInput, brief
from .continuation import MelodyModel


@dataclass(frozen=True)
class ModelSpec:
    """One shipped melody model: where its weights are, what loads them, how compose decodes it by default."""

    name: str
    checkpoint: str  # file name in emolib/assets/checkpoints
    module: str  # the module whose load(path) -> MelodyModel reads such a checkpoint
    summary: str
    decoding: dict = field(default_factory=dict)  # compose's default decoding (see MODELS)
    raw: dict = field(default_factory=dict)  # the decoding the model was trained for, every aid off (--raw)

    @property
    def path(self) -> Path:
        return checkpoints_dir() / self.checkpoint

    def default_decoding(self, *, raw: bool = False) -> dict:
        """The decoding compose uses for this model when the caller sets nothing; raw: every aid off."""
        return dict(self.raw if raw else self.decoding)


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model to the registry (a name may be registered once)."""
    if spec.name in MODELS:
        raise ValueError(f"a model named {spec.name!r} is already registered")
    MODELS[spec.name] = spec
    return spec


register(ModelSpec(
    "gan", "midinet_folk.pt", "emolib.music.models.gan",
    "MIDINet-style conditional GAN: one bar at a time, conditioned on the bar before and a reference bar",
    # each step drawn from the model's probabilities, as the discriminator saw them in training (drawn bars), within
    # the top 80 % (top_p) and with leaps beyond a fifth made less likely (leap_penalty); bar 8 and the last bar
    # re-ranked among up to 16 of the model's own versions, for a cadence (cadence_tries). Chosen on the
    # validation split with the critic: docs/experiments/melodies.md
    decoding={"top_p": 0.8, "leap_penalty": 1.0, "cadence_tries": 16},
    raw={}))  # drawing from the model's probabilities as they are, as in training
register(ModelSpec(
    "transformer", "transformer_folk.pt", "emolib.music.models.transformer",
    "emotion-token transformer (EMOPIA-style): one event token at a time, attending to the whole tune",
    # nucleus sampling, as in EMOPIA's and most music transformers' decoding, within the top 90 % (top_p; chosen on
    # the validation split with the critic: docs/experiments/melodies.md); cadence bars re-ranked as the GAN's, with
    # fewer tries: each try rewrites a whole bar token by token (scripts/benchmark_speed.py times the default)
    decoding={"top_p": 0.9, "cadence_tries": 4},
    raw={}))  # sampling from the model's probabilities as they are


# the model compose, the pipeline, the command line and the demo use when none is named: the one that wins notebook
# 04's comparison (the critic and the targets, scripts/benchmark_music.py on the test split); the other is one flag away
DEFAULT = "gan"


def spec(name: str) -> ModelSpec:
    """The registered model of that name, or a BadInput listing the choices."""
    if not isinstance(name, str) or name not in MODELS:
        raise BadInput(f"unknown model {brief(name)}: choose one of {', '.join(MODELS)}")
    return MODELS[name]


def checkpoint_path(name: str = DEFAULT, checkpoint: str | Path | None = None) -> Path:
    """The checkpoint a model composes with: the one given, else the shipped one."""
    if checkpoint is not None and (not isinstance(checkpoint, (str, Path)) or not str(checkpoint)):
        raise BadInput(f"checkpoint must be the path of a .pt file, got {brief(checkpoint)}")
    return Path(checkpoint) if checkpoint is not None else spec(name).path


def load(name: str = DEFAULT, checkpoint: str | Path | None = None) -> MelodyModel:
    """A ready model: the shipped one, or `checkpoint` read by the model's own loader (kept for the next call)."""
    return _load(spec(name).module, str(checkpoint_path(name, checkpoint)))


@functools.lru_cache(maxsize=4)
def _load(module: str, path: str) -> MelodyModel:
    return importlib.import_module(module).load(path)
