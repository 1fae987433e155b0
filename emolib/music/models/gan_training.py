"""How MIDINet learns (Yang, Chou & Yang 2017), bar by bar: the training bars with their previous and reference bars,
the losses, and the adversarial loop.

Training: one-sided label smoothing (real = 0.9), MIDINet's feature-matching terms (the mean bar and the mean
of D's first-layer features), plus ours, matched to the real bars': the histogram of intervals between
consecutive sounding steps (how melodies move), the pitch classes of each mode's bars (the scale) and the
transitions between rests, holds and onsets (how long notes last); the mean bar and the transitions are matched
emotion by emotion, so each emotion keeps its own density. A bar with a reference is also pulled towards it (a
cross-entropy with the reference's classes): D never sees the reference, so without this nothing would ask G to
vary it rather than ignore it. D sees real and generated bars in one batch (so its BatchNorm sees both) and G's
output after the same argmax used at generation, with straight-through gradients.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ...emotion import EMOTIONS
from ...runs import History
from ..notes.melodic import VARIATION, alike
from ..notes.piece import Piece, in_c
from ..notes.roll import STEPS_PER_BAR, TUNE_BARS
from ..notes.steps import HOLD, LOW, N_CLASSES, REST, one_hot, roll_to_steps
from .gan import Discriminator, GANConfig, GANModel, Generator, condition

# ---- the training bars ----------------------------------------------------------------------------------


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


# ---- the losses -----------------------------------------------------------------------------------------


@dataclass
class MidiNet:
    generator: Generator
    discriminator: Discriminator
    cfg: GANConfig
    history: History = field(default_factory=lambda: History("d_loss", "g_loss", "d_real", "d_fake", "feature_match",
                                                               seconds=0.0))


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


# ---- the loop -------------------------------------------------------------------------------------------


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
            hist.log(d_loss=d_loss.item(), g_loss=g_loss.item(), d_real=d_real.mean().item(),
                     d_fake=d_fake.mean().item(), feature_match=fm.item())
            bar.set_postfix(D=f"{d_loss.item():.2f}", G=f"{g_loss.item():.2f}",
                            Dx=f"{d_real.mean().item():.2f}", DGz=f"{d_fake.mean().item():.2f}")
    hist.seconds += time.perf_counter() - start
    G.eval()
    D.eval()
    return net


def save(model: GANModel | MidiNet, path: str | Path, *, provenance: str = "", metrics: dict | None = None) -> Path:
    """Generator weights (the discriminator is not needed to compose), config, history and provenance."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    G = model.net if isinstance(model, GANModel) else model.generator
    history = model.meta.get("history", {}) if isinstance(model, GANModel) else model.history.as_dict()
    torch.save({"generator": G.state_dict(), "config": asdict(model.cfg), "provenance": provenance,
                "history": history, "metrics": metrics or {}}, path)
    return path


def fit(pieces: list[Piece], cfg: GANConfig | None = None, *, progress: bool = True) -> GANModel:
    """Build MIDINet, train it on the labelled pieces' bars, and return the generator ready to compose."""
    from ...config import load as load_config

    cfg = cfg or load_config(GANConfig)
    net = train(build(cfg), bar_pairs(pieces, cfg.max_bars), progress=progress)
    return GANModel(net.generator.eval(), cfg, {"history": net.history.as_dict()})
