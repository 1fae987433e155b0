"""MIDINet (Yang, Chou & Yang 2017), bar by bar: a conditional GAN that writes one bar at a time.

As in MIDINet, the generator writes a bar from noise z, a condition vector y and a *conditioner* CNN over an
earlier bar whose feature maps are concatenated to every generator layer; the discriminator judges a bar with
y and never sees the earlier bars. What we condition on:

- y: the emotion (4), the mode (major/minor), the bar's chord (MIDINet's 12 + 1), the bar's place in the tune
  (16) and how many bars are left after it (16: 0 in the last bar, so it learns how tunes end), and whether a
  reference bar is given (1). Every tune is moved to C to learn (as folk-rnn does; emolib.music.notes.piece.in_c), so
  the key is only its mode, chords are degrees of it, and a piece is moved back to its key after writing;
- the conditioner sees two bars: the previous bar (MIDINet's, for continuity) and a *reference bar*. In
  training the reference is the earlier bar of the same tune that the bar restates or varies (at least 2/3 of
  its notes alike), when there is one; at generation a form plan (:func:`emolib.music.form.form_plan`) names
  it, so the GAN writes its own variation of bar 1 at bars 5 and 13. Form comes from what it is conditioned
  on, never from pasting.

A bar is 16 steps; each step is one of 39 classes: a rest, a hold (the note sounding goes on) or the onset of a
pitch of the melody register (48-84): emolib.music.notes.steps. This module holds the model: its settings, its
networks, the condition vector, and how it writes a piece; how it learns is emolib.music.models.gan_training.
BatchNorm is in eval mode at generation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...emotion import EMOTIONS
from ...files import checkpoints
from ..form import cadence_goal, ends_on, form_plan, varies, versions
from ..notes.chords import Chord, chord_vector
from ..notes.piece import Piece
from ..notes.roll import N_PITCHES, STEPS_PER_BAR, TUNE_BARS
from ..notes.steps import HIGH, HOLD, LOW, N_CLASSES, REST, last_sounding, one_hot, roll_to_steps, steps_to_roll
from .continuation import MelodyModel
from .sampling import draw, leap_weights

Y_DIM = len(EMOTIONS) + 1 + 13 + 2 * TUNE_BARS + 1  # emotion, mode, chord, place in the tune, bars left, reference


@dataclass
class GANConfig:
    """MIDINet hyper-parameters (defaults: the full CPU run)."""

    z_dim: int = 100  # as in MIDINet
    gf: int = 128  # generator channels
    cf: int = 32  # conditioner channels per resolution (for each of the two bars it sees)
    df: int = 64  # discriminator channels of its first convolution
    fc: int = 512  # width of the fully connected layers
    batch_size: int = 128
    steps: int = 8000  # discriminator steps (each followed by g_steps generator steps)
    g_steps: int = 2  # MIDINet: update G twice per D update so D does not win outright
    lr: float = 2e-4  # Adam, as DCGAN and MIDINet
    beta1: float = 0.5
    real_label: float = 0.9  # one-sided label smoothing
    lambda_mean: float = 1.0  # feature matching on the mean bar (MIDINet's lambda_1)
    lambda_feat: float = 1.0  # feature matching on D's first-layer features (MIDINet's lambda_2)
    # feature matching one order up, on what G plays (a drawn bar): the share of each melodic interval into
    # every onset (-24..+24 semitones, from the note before, across the bar line too), so G learns how melodies
    # move ...
    lambda_interval: float = 300.0
    # ... the share of each pitch class in major-key and in minor-key bars (all tunes are in C), so it keeps to
    # the scale of the mode asked for ...
    lambda_scale: float = 100.0
    # ... and the 3x3 transitions between rest, hold and onset from one step to the next, so it learns how long
    # notes last (a melody of single sixteenths has many onset -> onset transitions, a real one few)
    lambda_rhythm: float = 100.0
    # a bar with a reference bar: cross-entropy of G's output with the reference's classes, a light pull so the
    # restated bars keep their reference's shape. Even at 0.15 (tried: 0.5) the generator copies its reference
    # note for note in about 3 of 4 planned bars, where real tunes copy in 1 of 4 (docs/experiments/melodies.md)
    lambda_reference: float = 0.15
    # which earlier bar a training bar is given as its reference: "alike" (one at least 2/3 alike; 68 % of them are
    # copies of it) or "planned" (the form plan's, bars 5-7 and 13-15 against 1-3, as at generation: it copies far
    # less, but the critic finds its tunes further from real ones; docs/experiments/melodies.md, sixth try)
    references: str = "alike"
    # mode seeking (Mao et al. 2019): two noises under one condition should give two bars, so z matters; the term is
    # lambda_diversity / (distance between the two outputs per distance between the two noises)
    lambda_diversity: float = 0.01
    max_bars: int = 32  # bars of each tune to learn from (two 16-bar periods)
    transpose: tuple[int, int] = (0, 0)  # augmentation by transposition; none: every tune is learned in C
    balance: float = 0.5  # quadrant balance of the batches, as for the transformer (1 = fully balanced)
    # also learn from every major tune moved into minor (emolib.music.data.modes), each bar counting modal_weight of
    # a real one when batches are drawn: one tune in thirteen of the corpus is minor
    minor_versions: bool = True
    modal_weight: float = 0.5
    seed: int = 0

    @classmethod
    def fast(cls) -> "GANConfig":
        return cls(gf=64, cf=16, df=32, fc=128, steps=150, batch_size=64)


def condition(emotion: str, mode: str, chord: Chord, bar: int, total_bars: int, has_reference: bool) -> np.ndarray:
    """y: emotion one-hot, minor flag, chord (MIDINet's 13, its root counted from C: the tune is in C), place in the
    tune (one-hot of bar % 16), bars left after this one (one-hot, at most 15), reference flag."""
    y = np.zeros(Y_DIM, dtype=np.float32)
    y[EMOTIONS.index(emotion)] = 1.0
    k = len(EMOTIONS)
    y[k] = float(mode == "minor")
    y[k + 1:k + 14] = chord_vector(chord)
    y[k + 14 + bar % TUNE_BARS] = 1.0
    y[k + 14 + TUNE_BARS + min(TUNE_BARS - 1, max(0, total_bars - 1 - bar))] = 1.0
    y[-1] = float(has_reference)
    return y


# ---- the networks ---------------------------------------------------------------------------------------


def _yb(y: torch.Tensor, t: int) -> torch.Tensor:
    """The condition vector broadcast along time, to concatenate as channels (MIDINet's conv_cond_concat)."""
    return y[:, :, None].expand(-1, -1, t)


class Conditioner(nn.Module):
    """Encodes the previous and the reference bar (stacked as channels) into feature maps at 16, 8, 4 and 2 steps."""

    def __init__(self, *, cf: int):
        super().__init__()
        self.h0 = nn.Sequential(nn.Conv1d(2 * N_CLASSES, 2 * cf, 1), nn.BatchNorm1d(2 * cf), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv1d(2 * cf, 2 * cf, 2, stride=2), nn.BatchNorm1d(2 * cf), nn.LeakyReLU(0.2))
            for _ in range(3))

    def forward(self, prev: torch.Tensor, ref: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.h0(torch.cat([prev, ref], 2).transpose(1, 2))]  # (B, 2cf, 16)
        for layer in self.down:
            feats.append(layer(feats[-1]))  # 8, 4, 2
        return feats


class Generator(nn.Module):
    """(z, y, previous bar, reference bar; bars (B, 16, N_CLASSES)) -> class probabilities per step (B, 16, N_CLASSES)."""

    def __init__(self, *, z_dim: int, gf: int, cf: int, fc: int):
        super().__init__()
        self.gf, self.z_dim = gf, z_dim
        self.conditioner = Conditioner(cf=cf)
        self.fc1 = nn.Sequential(nn.Linear(z_dim + Y_DIM, fc), nn.BatchNorm1d(fc), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(fc + Y_DIM, gf * 2), nn.BatchNorm1d(gf * 2), nn.ReLU())
        self.up = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose1d(gf + Y_DIM + 2 * cf, gf, 2, stride=2), nn.BatchNorm1d(gf), nn.ReLU())
            for _ in range(3))  # 2 -> 4 -> 8 -> 16 steps
        self.out = nn.Conv1d(gf + Y_DIM + 2 * cf, N_CLASSES, 1)

    def logits(self, z: torch.Tensor, y: torch.Tensor, prev: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        feats = self.conditioner(prev, ref)  # [16, 8, 4, 2]
        h = self.fc1(torch.cat([z, y], 1))
        h = self.fc2(torch.cat([h, y], 1)).view(-1, self.gf, 2)
        for layer, f in zip(self.up, feats[:0:-1]):  # conditioner features at 2, 4, 8 steps
            h = layer(torch.cat([h, _yb(y, h.shape[2]), f], 1))
        return self.out(torch.cat([h, _yb(y, h.shape[2]), feats[0]], 1)).transpose(1, 2)  # (B, 16, N_CLASSES)

    def forward(self, z: torch.Tensor, y: torch.Tensor, prev: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(z, y, prev, ref), dim=-1)


class Discriminator(nn.Module):
    """(bar (B, 16, N_CLASSES), y) -> (probability real, first-layer features); it sees no other bar."""

    def __init__(self, *, df: int, fc: int):
        super().__init__()
        self.h0 = nn.Conv1d(N_CLASSES, df, 2, stride=2)  # (B, df, 8)
        self.h1 = nn.Sequential(nn.Conv1d(df + Y_DIM, 2 * df, 2, stride=2), nn.BatchNorm1d(2 * df),
                                nn.LeakyReLU(0.2))  # (B, 2df, 4)
        self.fc1 = nn.Sequential(nn.Linear(2 * df * 4 + Y_DIM, fc), nn.BatchNorm1d(fc), nn.LeakyReLU(0.2))
        self.fc2 = nn.Linear(fc + Y_DIM, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h0 = F.leaky_relu(self.h0(x.transpose(1, 2)), 0.2)
        h = self.h1(torch.cat([h0, _yb(y, h0.shape[2])], 1)).flatten(1)
        h = self.fc1(torch.cat([h, y], 1))
        return torch.sigmoid(self.fc2(torch.cat([h, y], 1))).squeeze(1), h0


# ---- composing ------------------------------------------------------------------------------------------


def choose_bar(probs: np.ndarray, *, sounding_at_start: int | None, generator: torch.Generator,
               temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
               leap_penalty: float = 0.0, grid: int = 1) -> np.ndarray:
    """Step classes for one bar from the generator's per-step probabilities (16, N_CLASSES).

    At each step the classes that keep a valid melody are kept (a hold needs a sounding note; with a grid, onsets
    only on it). Then two choices, each drawn by temperature / top_k / top_p: what the step does (a rest, a hold or
    a new note: the three kinds' probabilities, a note's being the sum over its pitches), and, for a new note, its
    pitch, among the pitches re-ranked by the leap penalty (which moves pitches, never whether and when a note
    starts). Sampled as the model gives it (temperature 1, no top_k or top_p) this is drawing from its
    probabilities; greedy (top_k=1), a note wins when notes are likelier than a rest, however its probability is
    spread over the pitches."""
    how = dict(temperature=temperature, top_k=top_k, top_p=top_p)
    out = np.zeros(STEPS_PER_BAR, np.int64)
    current, last = sounding_at_start, sounding_at_start
    for t, p in enumerate(probs):
        w = p.astype(np.float64)  # a copy
        if current is None:
            w[HOLD] = 0.0
        if t % grid:
            w[2:] = 0.0
        if w.sum() <= 0:
            w[HOLD if current is not None else REST] = 1.0
        with np.errstate(divide="ignore"):  # log(0) = -inf: a choice ruled out
            c = draw(np.log([w[REST], w[HOLD], w[2:].sum()]), generator=generator, **how)
            if c == 2:  # a new note: which pitch
                pitch_w = w[2:] * leap_weights(last, leap_penalty, HIGH + 1)[LOW:]
                c = 2 + draw(np.log(pitch_w), generator=generator, **how)
        out[t] = c
        if c >= 2:
            current = last = LOW + c - 2
        elif c == REST:
            current = None
    return out


def closes_on(bar: np.ndarray, goal: tuple[int, ...]) -> bool:
    """Whether a bar of step classes ends as a cadence on `goal` (emolib.music.form.ends_on, on its last note)."""
    onsets = np.nonzero(bar >= 2)[0]
    if not len(onsets):
        return False
    i = int(onsets[-1])
    held = bar[i + 1:] == HOLD
    length = 1 + (int(np.argmin(held)) if not held.all() else len(held))
    return ends_on(i, length, LOW + int(bar[i]) - 2, goal)


@dataclass
class GANModel(MelodyModel):
    """The trained generator, ready to compose (emolib.music.models.continuation.MelodyModel's generate)."""

    net: Generator
    cfg: GANConfig
    meta: dict = field(default_factory=dict)  # provenance, history and metrics from the checkpoint
    name: str = "gan"

    def write(self, prompt: Piece, given: int, bars: int, *, seed: int, temperature: float, top_k: int | None,
              top_p: float | None, leap_penalty: float, grid: int, cadence_tries: int, variation_tries: int) -> np.ndarray:
        """Bar by bar, as MIDINet writes (from bar 1 when nothing is given). Each bar is conditioned on the emotion,
        the mode, its chord, its place in the tune, the bar before it and the reference bar the form plan names for
        it (emolib.music.form.form_plan); its noise comes from `seed`. Decoding: at each step the model's class
        probabilities, re-ranked by the leap penalty, drawn by temperature / top_k / top_p (top_k=1: the most
        likely, as MIDINet does). Re-ranking whole bars: with cadence_tries > 1, up to that many versions of bar 8
        and the last bar (each from new noise), and the first that closes on the cadence chord is kept; with
        variation_tries > 1 the same at the bars the plan has vary an earlier bar, for the first version that varies
        it (emolib.music.form.varies); else the first version."""
        G = self.net.eval()
        gen = torch.Generator().manual_seed(seed)
        steps = roll_to_steps(prompt.roll[:given * STEPS_PER_BAR]).reshape(given, STEPS_PER_BAR)
        written = [steps[b] for b in range(given)]
        plan = form_plan(bars)
        silent = np.full(STEPS_PER_BAR, REST, np.int64)
        for b in range(given, bars):
            ref = plan[b]
            prev = written[b - 1] if b else silent
            y = condition(prompt.quadrant.name, prompt.mode, prompt.chord_at(b), b, bars, ref is not None)
            bars_in = [torch.from_numpy(one_hot(a))[None] for a in (prev, written[ref] if ref is not None else silent)]
            goal = cadence_goal(b, bars, 0)  # in C
            tries = versions(b, bars, cadence_tries, variation_tries)
            chosen = None
            for _ in range(tries):  # the model's versions of the bar, each from new noise
                probs = G(torch.randn(1, G.z_dim, generator=gen), torch.from_numpy(y)[None], *bars_in)[0].numpy()
                bar = choose_bar(probs, sounding_at_start=last_sounding(prev) if b else None, generator=gen,
                                 temperature=temperature, top_k=top_k, top_p=top_p, leap_penalty=leap_penalty,
                                 grid=grid)
                if tries == 1 or (closes_on(bar, goal) if goal is not None
                                  else varies(steps_to_roll(np.concatenate(written + [bar])), b, ref)):
                    chosen = bar
                    break
                chosen = bar if chosen is None else chosen  # none does: the first version
            written.append(chosen)
        return steps_to_roll(np.concatenate(written)) if written else np.zeros((0, N_PITCHES), np.uint8)


GAN_LIMITS = {"z_dim": (1, 1024), "gf": (1, 1024), "cf": (1, 512), "df": (1, 1024), "fc": (1, 8192)}


def network_bytes(cfg: GANConfig) -> int:
    """About what the generator takes in memory: its float32 weights (a bar's pass is tiny beside them)."""
    width = cfg.gf + Y_DIM + 2 * cfg.cf  # what every upsampling layer reads
    weights = ((cfg.z_dim + Y_DIM) * cfg.fc + (cfg.fc + Y_DIM) * 2 * cfg.gf + 3 * width * cfg.gf * 2
               + width * N_CLASSES + 2 * N_CLASSES * 2 * cfg.cf + 3 * 4 * cfg.cf * cfg.cf * 2)
    return 4 * weights


def load(path: str | Path) -> GANModel:
    """A saved generator, ready to compose (weights_only: no arbitrary pickle; a bad file is one EmolibError line)."""
    ckpt = checkpoints.read(path, "GAN", ("generator", "config"), "train one with scripts/train_melody.py --model gan")
    cfg = checkpoints.config(GANConfig, ckpt["config"], path, "GAN", GAN_LIMITS, tuples=("transpose",))
    checkpoints.check_network(path, "GAN", ckpt["generator"], {
        "fc1.0.weight": (cfg.fc, cfg.z_dim + Y_DIM), "fc2.0.weight": (2 * cfg.gf, cfg.fc + Y_DIM),
        "conditioner.h0.0.weight": (2 * cfg.cf, 2 * N_CLASSES, 1)}, network_bytes(cfg))
    G = Generator(z_dim=cfg.z_dim, gf=cfg.gf, cf=cfg.cf, fc=cfg.fc)
    checkpoints.load_weights(G, ckpt["generator"], path, "GAN generator")
    return GANModel(G.eval(), cfg, {k: v for k, v in ckpt.items() if k not in ("generator", "config")})
