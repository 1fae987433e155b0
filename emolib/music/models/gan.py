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
pitch of the melody register (48-84). MIDINet's binary roll cannot tell a held note from a re-struck one; the
hold class can, so the GAN learns note lengths as well as pitches (:func:`roll_to_steps` and
:func:`steps_to_roll` convert, through emolib's one roll convention).

Training: one-sided label smoothing (real = 0.9), MIDINet's feature-matching terms (the mean bar and the mean
of D's first-layer features), plus two of ours, matched to the real bars': the histogram of intervals between
consecutive sounding steps (how melodies move) and the transitions between rests, holds and onsets (how long
notes last); the mean bar and the transitions are matched emotion by emotion, so each emotion keeps its own
density. A bar with a reference is also pulled towards it (a cross-entropy with the reference's classes): D
never sees the reference, so without this nothing would ask G to vary it rather than ignore it. D sees real and generated bars in one batch (so its BatchNorm sees both) and G's output after the
same argmax used at generation, with straight-through gradients. BatchNorm is in eval mode at generation.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...config import one_thread
from ...emotion import EMOTIONS
from ...errors import BadInput
from . import sampling as decoding
from ..notes.chords import Chord, chord_vector
from ..notes.melodic import VARIATION, alike
from ..notes.piece import REGISTER, Piece, from_c, in_c
from ..notes.roll import STEPS_PER_BAR, Note, notes_to_roll, roll_to_notes

LOW, HIGH = REGISTER
REST, HOLD = 0, 1  # step classes; the onset of pitch p is class 2 + p - LOW
N_CLASSES = 2 + HIGH - LOW + 1  # 39
TUNE_BARS = 16  # the form plan's period: the bar's place in the tune is its index modulo 16
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
    # feature matching one order up, on what G plays (after the argmax): the share of each melodic interval into
    # every onset (-24..+24 semitones, from the note before, across the bar line too), so G learns how melodies
    # move ...
    lambda_interval: float = 300.0
    # ... the share of each pitch class in major-key and in minor-key bars (all tunes are in C), so it keeps to
    # the scale of the mode asked for ...
    lambda_scale: float = 100.0
    # ... and the 3x3 transitions between rest, hold and onset from one step to the next, so it learns how long
    # notes last (a melody of single sixteenths has many onset -> onset transitions, a real one few)
    lambda_rhythm: float = 100.0
    # a bar with a reference bar: cross-entropy of G's output with the reference's classes (a variation, not a
    # copy: real bars share at least 2/3 of their notes with their reference, and z still varies the rest)
    lambda_reference: float = 0.5
    max_bars: int = 32  # bars of each tune to learn from (two 16-bar periods)
    transpose: tuple[int, int] = (0, 0)  # augmentation by transposition; none: every tune is learned in C
    balance: float = 0.5  # quadrant balance of the batches, as for the transformer (1 = fully balanced)
    seed: int = 0

    @classmethod
    def fast(cls) -> "GANConfig":
        return cls(gf=64, cf=16, df=32, fc=128, steps=150, batch_size=64)


# ---- bars as steps: rest, hold or the onset of a pitch -----------------------------------------------------

def roll_to_steps(roll: np.ndarray) -> np.ndarray:
    """A monophonic roll -> one class per step (REST, HOLD or 2 + pitch - LOW); pitches outside the register are
    moved into it by octaves. A re-struck pitch is held up to its next onset: the one-step gap the roll leaves
    before it is the roll's way of marking the new onset, not a rest (steps_to_roll puts it back)."""
    steps = np.full(len(roll), REST, dtype=np.int64)
    notes = roll_to_notes(roll)
    for i, n in enumerate(notes):
        p = n.pitch
        while p < LOW:
            p += 12
        while p > HIGH:
            p -= 12
        end = n.end
        if i + 1 < len(notes) and notes[i + 1].pitch == n.pitch and notes[i + 1].start == n.end + 1:
            end = n.end + 1
        steps[n.start] = 2 + p - LOW
        steps[n.start + 1:end] = HOLD
    return steps


def steps_to_roll(steps: np.ndarray, *, sounding: int | None = None) -> np.ndarray:
    """Step classes -> roll; a HOLD continues the note sounding (at the start: `sounding`, the previous bar's last
    pitch, a tie), and a HOLD with nothing sounding is a rest."""
    notes, current, start = [], sounding, 0
    for t, c in enumerate(list(steps) + [REST]):
        if c == HOLD and current is not None:
            continue
        if current is not None:
            notes.append(Note(current, start, t))
        current, start = (LOW + c - 2, t) if c >= 2 else (None, t)
    return notes_to_roll(notes, len(steps))


def last_sounding(steps: np.ndarray) -> int | None:
    """The pitch sounding at the last step (None for a rest)."""
    pitch = None
    for c in steps:
        pitch = LOW + c - 2 if c >= 2 else (pitch if c == HOLD else None)
    return pitch


def one_hot(steps: np.ndarray) -> np.ndarray:
    """(..., 16) classes -> (..., 16, N_CLASSES) float32."""
    return np.eye(N_CLASSES, dtype=np.float32)[steps]


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


def _shift_y(y: torch.Tensor, k: int) -> torch.Tensor:
    """The condition of a bar transposed by k semitones (the chord root moves)."""
    if k == 0:
        return y
    y = y.clone()
    e = len(EMOTIONS) + 1
    y[:, e:e + 12] = torch.roll(y[:, e:e + 12], k, dims=1)
    return y


def _shift_steps(x: torch.Tensor, k: int) -> torch.Tensor:
    """One-hot bars (B, 16, N_CLASSES) transposed by k semitones; onsets pushed out of the register wrap by an octave."""
    pitches = x[..., 2:]
    n = pitches.shape[-1]
    shifted = torch.roll(pitches, k, dims=-1)
    if k > 0:  # the top k pitches wrapped round to the bottom: an octave below where they went instead
        wrapped = shifted[..., :k].clone()
        shifted[..., :k] = 0
        shifted[..., n - 12:n - 12 + k] += wrapped
    elif k < 0:  # the bottom ones wrapped round to the top: an octave above where they went
        wrapped = shifted[..., k:].clone()
        shifted[..., k:] = 0
        shifted[..., 12 + k:12] += wrapped
    return torch.cat([x[..., :2], shifted], dim=-1)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Share of onsets two bars (step classes) have in common, same step and pitch, of the bar with more."""
    return alike({(t, c) for t, c in enumerate(a) if c >= 2}, {(t, c) for t, c in enumerate(b) if c >= 2})


def reference_bar(bars: np.ndarray, b: int) -> int | None:
    """The earlier bar (within bar b's 16-bar period) that bar b restates or varies most closely, or None."""
    start = b - b % TUNE_BARS
    best, best_sim = None, VARIATION
    for j in range(start, b):
        s = similarity(bars[b], bars[j])
        if s >= best_sim and not (j == b - 1 and s < 1.0):  # varying the previous bar is continuity, not form
            best, best_sim = j, s
    return best


@dataclass
class BarPairs:
    """Training bars: the bar, the previous bar, the reference bar (silent when none), condition, quadrant."""

    cur: np.ndarray  # (n, 16) step classes
    prev: np.ndarray  # (n, 16)
    ref: np.ndarray  # (n, 16)
    y: np.ndarray  # (n, Y_DIM)
    quadrant: np.ndarray  # (n,) 0..3

    def __len__(self) -> int:
        return len(self.cur)


def bar_pairs(pieces: list[Piece], max_bars: int = 32) -> BarPairs:
    """Every bar of the first max_bars of each labelled piece (moved to C), with its previous and reference bars."""
    cur, prev, ref, ys, qs = [], [], [], [], []
    silent = np.full(STEPS_PER_BAR, REST, np.int64)
    for m in pieces:
        if m.quadrant is None:
            continue
        m = in_c(m)
        n = min(m.bars, max_bars)
        bars = roll_to_steps(m.roll[:n * STEPS_PER_BAR]).reshape(n, STEPS_PER_BAR)
        for b in range(n):
            j = reference_bar(bars, b)
            cur.append(bars[b])
            prev.append(bars[b - 1] if b else silent)
            ref.append(bars[j] if j is not None else silent)
            ys.append(condition(m.quadrant.name, m.mode, m.chord_at(b), b, m.bars, j is not None))
            qs.append(m.quadrant.number - 1)
    if not cur:
        raise ValueError("no labelled pieces to train on")
    return BarPairs(np.stack(cur), np.stack(prev), np.stack(ref), np.stack(ys), np.array(qs))


# ---- the networks -----------------------------------------------------------------------------------------

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


@dataclass
class GANHistory:
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)  # mean D(x)
    d_fake: list[float] = field(default_factory=list)  # mean D(G(z))
    feature_match: list[float] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class MidiNet:
    generator: Generator
    discriminator: Discriminator
    cfg: GANConfig
    history: GANHistory = field(default_factory=GANHistory)


def build(cfg: GANConfig) -> MidiNet:
    torch.manual_seed(cfg.seed)
    return MidiNet(Generator(z_dim=cfg.z_dim, gf=cfg.gf, cf=cfg.cf, fc=cfg.fc), Discriminator(df=cfg.df, fc=cfg.fc), cfg)


def hard(probs: torch.Tensor) -> torch.Tensor:
    """The most likely class per step as a one-hot bar, with straight-through gradients."""
    one = F.one_hot(probs.argmax(-1), N_CLASSES).to(probs.dtype)
    return probs + (one - probs).detach()


def sounding(x: torch.Tensor) -> torch.Tensor:
    """(B, 16, pitches): which pitch sounds at each step of one-hot bars (an onset, or a hold of the pitch before)."""
    onsets, hold = x[..., 2:], x[..., HOLD:HOLD + 1]
    out = [onsets[:, 0]]
    for t in range(1, x.shape[1]):
        out.append(onsets[:, t] + hold[:, t] * out[-1])
    return torch.stack(out, 1)


MAX_INTERVAL = 24


def interval_histogram(x: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
    """(2 * MAX_INTERVAL + 1,) the share of each melodic interval (-24..+24 semitones) over a batch of bars: for every
    onset, the step from the pitch sounding just before it (in this bar, or at the end of the previous bar) to the
    new pitch. Differentiable in x (straight-through one-hot or soft bars)."""
    now = sounding(x)
    before = torch.cat([sounding(prev)[:, -1:], now[:, :-1]], dim=1)  # what sounds just before each step
    onsets = x[..., 2:]
    n = onsets.shape[2]
    out = []
    for d in range(-MAX_INTERVAL, MAX_INTERVAL + 1):
        if d >= 0:
            out.append((before[:, :, :n - d] * onsets[:, :, d:]).sum())
        else:
            out.append((before[:, :, -d:] * onsets[:, :, :n + d]).sum())
    hist = torch.stack(out)
    return hist / hist.sum().clamp(min=1e-6)


def scale_profile(x: torch.Tensor, minor: torch.Tensor) -> torch.Tensor:
    """(2, 12) the share of each pitch class among the onsets of major-key bars (row 0) and minor-key bars (row 1):
    every tune is in C, so this is the scale each mode's melodies use."""
    onsets = x[..., 2:].sum(1)  # (B, pitches)
    onsets = F.pad(onsets, (LOW % 12, (12 - (LOW + onsets.shape[1]) % 12) % 12))
    pcs = onsets.reshape(len(x), -1, 12).sum(1)  # (B, 12) counted from C
    rows = [(pcs * (1 - minor[:, None])).sum(0), (pcs * minor[:, None]).sum(0)]
    return torch.stack([r / r.sum().clamp(min=1e-6) for r in rows])


def rhythm_transitions(x: torch.Tensor) -> torch.Tensor:
    """(3, 3) mean transitions between rest, hold and onset from each step to the next, over a batch of bars."""
    kinds = torch.cat([x[..., :2], x[..., 2:].sum(-1, keepdim=True)], -1)  # (B, 16, 3)
    return torch.einsum("bti,btj->ij", kinds[:, :-1], kinds[:, 1:]) / (x.shape[0] * (x.shape[1] - 1))


def judge_together(D: Discriminator, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor):
    """D on real and fake bars in one batch, so its BatchNorm sees both (judged apart, each batch is normalised by
    its own statistics, which erases exactly the difference D should see). (D(real), D(fake), features, features)."""
    n = len(real)
    p, f = D(torch.cat([real, fake]), torch.cat([y, y]))
    return p[:n], p[n:], f[:n], f[n:]


def train(net: MidiNet, data: BarPairs, *, progress: bool = True, log_every: int = 50,
          judge=judge_together) -> MidiNet:
    """Adversarial training with label smoothing, feature matching and quadrant-balanced batches. `judge(D, real,
    fake, y)` is how D sees a step's bars: one batch by default (notebook 03 tries two)."""
    from tqdm.auto import tqdm

    cfg, G, D = net.cfg, net.generator, net.discriminator
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    counts = np.bincount(data.quadrant, minlength=4).astype(float)
    weights = (1.0 / np.maximum(counts[data.quadrant], 1)) ** cfg.balance
    weights /= weights.sum()
    cur, prev, ref = (torch.from_numpy(one_hot(a)) for a in (data.cur, data.prev, data.ref))
    ys = torch.from_numpy(data.y)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    G.train()
    D.train()
    hist, start = net.history, time.perf_counter()
    bar = tqdm(range(cfg.steps), desc="MIDINet", disable=not progress, mininterval=2.0)
    for step in bar:
        idx = torch.from_numpy(rng.choice(len(data), size=cfg.batch_size, p=weights))
        k = int(rng.integers(cfg.transpose[0], cfg.transpose[1] + 1))
        x, p_bar, r_bar = (_shift_steps(a[idx], k) for a in (cur, prev, ref))
        y = _shift_y(ys[idx], k)

        fake = hard(G(torch.randn(cfg.batch_size, cfg.z_dim, generator=gen), y, p_bar, r_bar))
        d_real, d_fake, _, _ = judge(D, x, fake.detach(), y)
        d_loss = F.binary_cross_entropy(d_real, torch.full_like(d_real, cfg.real_label)) + \
            F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        groups = [y[:, q] > 0 for q in range(len(EMOTIONS)) if (y[:, q] > 0).any()]  # the batch's emotions
        has_ref = y[:, -1] > 0
        for _ in range(cfg.g_steps):
            soft = G(torch.randn(cfg.batch_size, cfg.z_dim, generator=gen), y, p_bar, r_bar)
            fake = hard(soft)
            _, p_fake, f_real, f_fake = judge(D, x, fake, y)
            fm = F.mse_loss(f_fake.mean(0), f_real.detach().mean(0), reduction="sum") * cfg.lambda_feat
            for g in groups:  # per emotion: each keeps its own mean bar and note lengths
                fm = fm + cfg.lambda_mean * F.mse_loss(soft[g].mean(0), x[g].mean(0), reduction="sum") / len(groups)
                if cfg.lambda_rhythm:
                    fm = fm + cfg.lambda_rhythm * F.mse_loss(rhythm_transitions(fake[g]), rhythm_transitions(x[g]),
                                                             reduction="sum") / len(groups)
            if cfg.lambda_interval:
                fm = fm + cfg.lambda_interval * F.mse_loss(interval_histogram(fake, p_bar), interval_histogram(x, p_bar),
                                                           reduction="sum")
            if cfg.lambda_scale:
                minor = y[:, len(EMOTIONS)]
                fm = fm + cfg.lambda_scale * F.mse_loss(scale_profile(fake, minor), scale_profile(x, minor), reduction="sum")
            if cfg.lambda_reference and has_ref.any():
                fm = fm + cfg.lambda_reference * F.nll_loss(torch.log(soft[has_ref] + 1e-8).reshape(-1, N_CLASSES),
                                                            r_bar[has_ref].argmax(-1).reshape(-1))
            g_loss = F.binary_cross_entropy(p_fake, torch.ones_like(p_fake)) + fm
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()

        if step % max(1, log_every // 10) == 0 or step == cfg.steps - 1:
            hist.d_loss.append(d_loss.item())
            hist.g_loss.append(g_loss.item())
            hist.d_real.append(d_real.mean().item())
            hist.d_fake.append(d_fake.mean().item())
            hist.feature_match.append(fm.item())
            bar.set_postfix(D=f"{d_loss.item():.2f}", G=f"{g_loss.item():.2f}",
                            Dx=f"{d_real.mean().item():.2f}", DGz=f"{d_fake.mean().item():.2f}")
    hist.seconds += time.perf_counter() - start
    G.eval()
    D.eval()
    return net


# ---- composing ----------------------------------------------------------------------------------------------

def choose_bar(probs: np.ndarray, *, sounding_at_start: int | None, rng: np.random.Generator, temperature: float = 1.0,
               top_k: int | None = None, top_p: float | None = None, leap_penalty: float = 0.0,
               grid: int = 1) -> np.ndarray:
    """Step classes for one bar from the generator's per-step probabilities (16, N_CLASSES).

    At each step the classes that keep a valid melody are kept (a hold needs a sounding note; with a grid, onsets
    only on it) and one is chosen by temperature / top_k / top_p (top_k=1: the most likely, as D saw in training).
    When that is an onset, its pitch is chosen again among the pitches with the leap penalty's re-ranking: the
    penalty moves pitches, never whether and when a note starts."""
    out = np.zeros(STEPS_PER_BAR, np.int64)
    current, last = sounding_at_start, sounding_at_start
    for t, p in enumerate(probs):
        w = p.astype(np.float64).copy()
        if current is None:
            w[HOLD] = 0.0
        if t % grid:
            w[2:] = 0.0
        if w.sum() <= 0:
            w[HOLD if current is not None else REST] = 1.0
        c = decoding.sample_class(w, rng, temperature=temperature, top_k=top_k, top_p=top_p)
        if c >= 2 and last is not None and leap_penalty > 0:
            pitch_w = w[2:] * decoding.leap_weights(last, leap_penalty, HIGH + 1)[LOW:]
            c = 2 + decoding.sample_class(pitch_w, rng, temperature=temperature, top_k=top_k, top_p=top_p)
        out[t] = c
        if c >= 2:
            current = last = LOW + c - 2
        elif c == REST:
            current = None
    return out


def closes_on(bar: np.ndarray, goal: tuple[int, ...]) -> bool:
    """Whether a bar of step classes ends as a cadence on `goal` (decoding.ends_on, on its last note)."""
    onsets = np.nonzero(bar >= 2)[0]
    if not len(onsets):
        return False
    i = int(onsets[-1])
    held = bar[i + 1:] == HOLD
    length = 1 + (int(np.argmin(held)) if not held.all() else len(held))
    return decoding.ends_on(i, length, LOW + int(bar[i]) - 2, goal)


@dataclass
class GANModel:
    """The trained generator, ready to compose: emolib's MelodyModel interface (emolib.music.models.registry)."""

    net: Generator
    cfg: GANConfig
    meta: dict = field(default_factory=dict)  # provenance, history and metrics from the checkpoint
    name: str = "gan"

    @one_thread
    @torch.no_grad()
    def generate(self, prompt: Piece, bars: int = 16, *, seed: int = 0, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, leap_penalty: float = 0.0,
                 grid: int = 1, cadence_tries: int = 1) -> Piece:
        """Continue the prompt bar by bar to `bars` bars (from bar 1 when it has none), as MIDINet writes.

        Each bar is conditioned on the emotion, the key, its chord, its place in the tune, the bar before it
        and the reference bar the form plan names for it (emolib.music.form.form_plan); its noise comes from
        `seed`. Decoding (emolib.music.models.sampling): at each step the model's class probabilities, re-ranked by
        the leap penalty, chosen by temperature / top_k / top_p (top_k=1: the most likely, as MIDINet does);
        with cadence_tries > 1, up to that many versions of bar 8 and the last bar (each from new noise) and the
        first that closes on the cadence chord is kept.
        """
        from ..form import form_plan

        from ..form import cadence_goal

        settings = decoding.check(dict(temperature=temperature, top_k=top_k, top_p=top_p,
                                       leap_penalty=leap_penalty, grid=grid, cadence_tries=cadence_tries))
        tries = settings.pop("cadence_tries")
        G = self.net.eval()
        rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(int(seed))
        given = min(prompt.bars, bars)
        original, prompt = prompt, in_c(prompt)  # written in C, moved back to the prompt's key at the end
        steps = roll_to_steps(prompt.roll[:given * STEPS_PER_BAR]).reshape(given, STEPS_PER_BAR)
        written = [steps[b] for b in range(given)]
        plan = form_plan(bars)
        silent = np.full(STEPS_PER_BAR, REST, np.int64)
        emotion = prompt.quadrant.name
        for b in range(given, bars):
            ref = plan[b]
            prev = written[b - 1] if b else silent
            y = condition(emotion, prompt.mode, prompt.chord_at(b), b, bars, ref is not None)
            bars_in = [torch.from_numpy(one_hot(a))[None] for a in (prev, written[ref] if ref is not None else silent)]
            goal = cadence_goal(b, bars, 0)  # in C
            chosen = None
            for _ in range(tries if goal is not None else 1):  # cadence_tries: the model's versions of a cadence bar
                probs = G(torch.randn(1, G.z_dim, generator=gen), torch.from_numpy(y)[None], *bars_in)[0].numpy()
                bar = choose_bar(probs, sounding_at_start=last_sounding(prev) if b else None, rng=rng, **settings)
                if goal is None or closes_on(bar, goal):
                    chosen = bar
                    break
                chosen = bar if chosen is None else chosen  # none closes: the first version
            written.append(chosen)
        roll = steps_to_roll(np.concatenate(written)) if written else np.zeros((0, 128), np.uint8)
        piece = from_c(prompt.with_notes(roll, by=prompt.authors[:given] + (self.name,) * (bars - given),
                                         edits=prompt.changes[:given] + ((),) * (bars - given)), original.tonic)
        if given:  # the given bars are the prompt's notes exactly (their steps were only the model's input)
            piece.roll[:given * STEPS_PER_BAR] = original.roll[:given * STEPS_PER_BAR]
        return replace(piece, chords=original.chords)


def save(model: GANModel | MidiNet, path: str | Path, *, provenance: str = "", metrics: dict | None = None) -> Path:
    """Generator weights (the discriminator is not needed to compose), config, history and provenance."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    G = model.net if isinstance(model, GANModel) else model.generator
    history = model.meta.get("history", {}) if isinstance(model, GANModel) else asdict(model.history)
    torch.save({"generator": G.state_dict(), "config": asdict(model.cfg), "provenance": provenance,
                "history": history, "metrics": metrics or {}}, path)
    return path


GAN_LIMITS = {"z_dim": (1, 1024), "gf": (1, 1024), "cf": (1, 512), "df": (1, 1024), "fc": (1, 8192)}


def load(path: str | Path) -> GANModel:
    """A saved generator, ready to compose (weights_only: no arbitrary pickle; a bad file is one EmolibError line)."""
    from ...files import checkpoints as checkpoint

    ckpt = checkpoint.read(path, "GAN", ("generator", "config"), "train one with scripts/train_gan.py")
    cfg = checkpoint.config(GANConfig, ckpt["config"], path, "GAN", GAN_LIMITS, tuples=("transpose",))
    G = Generator(z_dim=cfg.z_dim, gf=cfg.gf, cf=cfg.cf, fc=cfg.fc)
    checkpoint.load_weights(G, ckpt["generator"], path, "GAN generator")
    return GANModel(G.eval(), cfg, {k: v for k, v in ckpt.items() if k not in ("generator", "config")})


def fit(pieces: list[Piece], cfg: GANConfig | None = None, *, progress: bool = True) -> GANModel:
    """Build MIDINet, train it on the labelled pieces' bars, and return the generator ready to compose."""
    from ...config import load as load_config

    cfg = cfg or load_config(GANConfig)
    net = train(build(cfg), bar_pairs(pieces, cfg.max_bars), progress=progress)
    return GANModel(net.generator.eval(), cfg, {"history": asdict(net.history)})
