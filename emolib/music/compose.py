"""Composing for an emotion, as a list of small steps a student can call one by one and swap.

    prompt = choose_opening("scratch", emotion, rng)    # 1. the given bars (none from scratch), key and progression
    prompt = plan_chords(prompt, bars)                  # 2. the chord plan the model is conditioned on
    piece = model.generate(prompt, bars, seed=..., **decoding)   # 3. the model writes (decoding: its own choices)
    piece = snap(piece)                                 # 4. post-processing (none by default), recorded bar by bar
    midi = render(piece, "expressive")                  # 5. rendering: tempo, loudness, instruments (never the notes)

:func:`compose_music` runs exactly these steps (emolib.pipeline.compose runs it for a face); :data:`POST_STEPS` names the post-processing steps it can run. The
result, a :class:`Composition`, keeps the Piece, whose ``by`` and ``edits`` say who wrote each bar and what
changed it afterwards, and the settings that made it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..emotion import Quadrant, quadrant
from ..errors import BadInput, brief, flag
from .data.opening import choose_opening, describe
from .form import plan_chords
from .models import registry
from .models.sampling import DEFAULTS as DECODING_DEFAULTS
from .models.sampling import check as check_decoding
from .notes.piece import OPENING, Piece
from .notes.roll import TUNE_BARS
from .post import POST_STEPS
from .render.midi import RENDERINGS, render

MAX_BARS = 256  # about 15 minutes of music at the slowest tempo
MAX_SEED = 2**32 - 1

def check_bars(bars) -> int:
    """bars as an int in 1..MAX_BARS, or a BadInput that says so (True and 2.5 are not bar counts)."""
    if isinstance(bars, bool) or not isinstance(bars, (int, np.integer)) or not 1 <= int(bars) <= MAX_BARS:
        raise BadInput(f"bars must be a whole number from 1 to {MAX_BARS}, got {brief(bars)}")
    return int(bars)


def check_seed(seed) -> int:
    """A seed as an int in 0..2**32-1 (what numpy and torch both accept); None means 0."""
    if seed is None:
        return 0
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise BadInput(f"seed must be a whole number from 0 to {MAX_SEED}, got {brief(seed)}")
    return int(seed)


def check_emotion(emotion) -> Quadrant:
    """The quadrant of an emotion word (any case), a face label or a quadrant, or a BadInput listing the choices."""
    try:
        return quadrant(emotion)
    except ValueError:
        from ..emotion import EMOTIONS, FER_CLASSES

        raise BadInput(f"unknown emotion {brief(emotion)}", f"choose one of {', '.join(EMOTIONS)} (or a face label: "
                       f"{', '.join(FER_CLASSES)})") from None


def check_post(post) -> tuple[str, ...]:
    """Post-processing step names, in order, each one of POST_STEPS."""
    if isinstance(post, str) or not isinstance(post, (list, tuple)) or not all(isinstance(p, str) and p in POST_STEPS
                                                                             for p in post):
        raise BadInput(f"post must be a list of steps among {', '.join(POST_STEPS)}, got {brief(post)}")
    return tuple(post)


def decoding_settings(model: str, overrides: dict | None = None, *, raw: bool = False) -> dict:
    """The decoding a model composes with: its registered defaults (emolib.music.models.registry.MODELS; raw: the
    decoding it was trained for, every aid off) and the caller's."""
    if overrides is not None and not isinstance(overrides, dict):
        raise BadInput(f"decoding must be a dict of settings such as {{'temperature': 0.9}}, got {brief(overrides)}")
    return check_decoding({**registry.spec(model).default_decoding(raw=raw), **(overrides or {})})


@dataclass
class Composition:
    """A composed piece with everything that made it; ``piece.by`` / ``piece.edits`` say who wrote each bar."""

    piece: Piece
    midi: Any  # pretty_midi.PrettyMIDI, as rendered
    model: str  # the model that wrote the piece's new bars
    decoding: dict  # the decoding settings it wrote them with
    post: tuple[str, ...]  # the post-processing steps run after it, in order
    rendering: str  # "expressive" or "neutral"
    opening: str  # where the given bars came from: "opening bank: <tune>", "from scratch", "your MIDI: <file>"
    classification: Any = None  # the face's Classification (emolib.pipeline) when a face chose the emotion
    seed: int = 0
    extras: dict = field(default_factory=dict)

    @property
    def quadrant(self) -> Quadrant:
        return self.piece.quadrant

    @property
    def emotion(self) -> str:
        """The music quadrant's name (happy, angry, sad, calm)."""
        return self.piece.quadrant.name

    @property
    def roll(self) -> np.ndarray:
        return self.piece.roll

    @property
    def chords(self) -> list:
        return self.piece.chords

    @property
    def tonic(self) -> int:
        return self.piece.tonic

    @property
    def mode(self) -> str:
        return self.piece.mode

    @property
    def opening_bars(self) -> int:
        """How many bars at the start were given, not written by the model."""
        return sum(1 for who in self.piece.authors if who == OPENING)

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        """The face box (x, y, w, h) in the image, when the emotion came from a face."""
        return self.classification.box if self.classification else None

    @property
    def probabilities(self) -> dict[str, float] | None:
        return self.classification.probabilities if self.classification else None

    def audio(self, *, separate_process: bool = False):
        """(waveform, sample rate) of the rendered MIDI (emolib.music.render.audio; separate_process: stoppable at once)."""
        from .render.audio import synthesize

        return synthesize(self.midi, separate_process=separate_process)

    def summary(self) -> str:
        """One line: the emotion and key, who wrote which bars, the decoding, the post-processing, the rendering."""
        settings = ", ".join(f"{k} {v}" for k, v in self.decoding.items() if v != DECODING_DEFAULTS.get(k))
        post = ", ".join(self.post) or "none"
        return (f"{self.emotion} ({self.mode}), {self.piece.bars} bars: {self.piece.describe()}; "
                f"decoding: {settings or 'sampled as the model gives it'}; post-processing: {post}; "
                f"{self.rendering} rendering")


def compose_music(emotion: str | Quadrant, *, model: str = registry.DEFAULT, bars: int = TUNE_BARS, seed: int | None = 0,
                  opening="scratch", checkpoint=None, decoding: dict | None = None, raw: bool = False, post=(),
                  form: bool = True, rendering: str = "expressive") -> Composition:
    """A melody with harmony for an emotion, step by step (see the module docstring). By default every note is the
    model's: it writes from bar 1, chosen from its own probabilities, and nothing is changed afterwards.

    model: a name in emolib.music.models.registry.MODELS; checkpoint: another checkpoint of that kind.
    opening: "scratch" (the model writes every bar), "bank" (a real tune's first 4 bars from the opening bank,
    continued by the model) or a MIDI file's path or bytes (its first 4 bars). decoding: settings that override the model's
    registered ones (emolib.music.models.sampling); raw: start from the decoding the model was trained for, every aid
    off. form: the cadence chords (V at bar 8, V-I at the end) in the chord plan the model is conditioned on.
    post: post-processing steps (POST_STEPS: "form" pastes the form plan's bars and cadence notes, "snap" moves
    notes into the key), none by default. rendering: "expressive" or "neutral" (only how the notes are played).
    """
    q = emotion if isinstance(emotion, Quadrant) else check_emotion(emotion)
    bars, seed, raw, form = check_bars(bars), check_seed(seed), flag(raw, "raw"), flag(form, "form")
    settings = decoding_settings(model, decoding, raw=raw)
    post = check_post(post)
    if not isinstance(rendering, str) or rendering not in RENDERINGS:
        raise BadInput(f"rendering must be one of {', '.join(map(repr, RENDERINGS))}, got {brief(rendering)}")
    prompt = choose_opening(opening, q, np.random.default_rng(seed))  # 1. the opening (a bad file fails before any model)
    prompt = plan_chords(prompt, bars, cadences=form)  # 2. the chord plan
    net = registry.load(model, checkpoint)
    piece = net.generate(prompt, bars, seed=seed, **settings)  # 3. the model writes
    for step in post:  # 4. post-processing
        piece = POST_STEPS[step](piece)
    midi = render(piece, rendering)  # 5. rendering
    return Composition(piece, midi, model, settings, post, rendering, describe(prompt), seed=seed)
