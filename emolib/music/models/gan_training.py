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
from ...runs import History, Resume, run_key
from ..data.modes import learning_weight, with_minor_versions
from ..form import form_plan
from ..notes.melodic import reference_bars
from ..notes.piece import Piece, in_c
from ..notes.roll import STEPS_PER_BAR
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


@dataclass
class BarPairs:
    """Training bars: the bar, the previous bar, the reference bar (silent when none), condition, quadrant, weight."""

    cur: np.ndarray  # (n, 16) step classes
    prev: np.ndarray  # (n, 16)
    ref: np.ndarray  # (n, 16)
    y: np.ndarray  # (n, Y_DIM)
    quadrant: np.ndarray  # (n,) 0..3
    weight: np.ndarray  # (n,) how much each bar counts when batches are drawn (a moved tune's: modal_weight)

    def __len__(self) -> int:
        return len(self.cur)


def bar_pairs(pieces: list[Piece], max_bars: int = 32, *, modal_weight: float = 1.0,
              references: str = "alike") -> BarPairs:
    """Every bar of the first max_bars of each labelled piece (moved to C), with its previous and reference bars; the
    bars of a tune moved into minor (emolib.music.data.modes) count modal_weight of a real one's. references: which
    earlier bar a bar is given ("alike": one at least 2/3 alike, notes.melodic.reference_bars; "planned": the form
    plan's, as at generation, whatever the two bars hold)."""
    if references not in ("alike", "planned"):
        raise ValueError(f"references is 'alike' or 'planned', not {references!r}")
    cur, prev, ref, ys, qs, ws = [], [], [], [], [], []
    silent = np.full(STEPS_PER_BAR, REST, np.int64)
    for m in pieces:
        if m.quadrant is None:
            continue
        m = in_c(m)
        n = min(m.bars, max_bars)
        bars = roll_to_steps(m.roll[:n * STEPS_PER_BAR]).reshape(n, STEPS_PER_BAR)
        refs = reference_bars(m.roll[:n * STEPS_PER_BAR]) if references == "alike" else form_plan(n)
        for b, j in enumerate(refs):
            cur.append(bars[b])
            prev.append(bars[b - 1] if b else silent)
            ref.append(bars[j] if j is not None else silent)
            ys.append(condition(m.quadrant.name, m.mode, m.chord_at(b), b, m.bars, j is not None))
            qs.append(m.quadrant.number - 1)
            ws.append(learning_weight(m, modal_weight))
    if not cur:
        raise ValueError("no labelled pieces to train on")
    return BarPairs(np.stack(cur), np.stack(prev), np.stack(ref), np.stack(ys), np.array(qs), np.array(ws))


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


def drawn(probs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One class per step drawn from G's probabilities (the Gumbel-max trick), as a one-hot bar with straight-through
    gradients: D and the feature matching judge bars as the default decoding draws them."""
    gumbel = -torch.log(-torch.log(torch.rand(probs.shape, generator=generator).clamp(1e-10, 1 - 1e-10)))
    one = F.one_hot((torch.log(probs + 1e-10) + gumbel).argmax(-1), N_CLASSES).to(probs.dtype)
    return probs + (one - probs).detach()


def diversity(soft_a: torch.Tensor, soft_b: torch.Tensor, z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
    """Mode seeking (Mao et al. 2019): how far apart two noises' bars are, per how far apart the noises are."""
    return (soft_a - soft_b).abs().mean() / (z_a - z_b).abs().mean()


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


def train(net: MidiNet, data: BarPairs, *, progress: bool = True, log_every: int = 50, judge=judge_together,
          resume_file: str | Path | None = None, save_every: int = 500) -> MidiNet:
    """Adversarial training with label smoothing, feature matching, mode seeking and quadrant-balanced batches.
    `judge(D, real, fake, y)` is how D sees a step's bars: one batch by default (notebook 03 tries two).
    resume_file: where the run keeps its state every `save_every` steps (emolib.runs.Resume); the same run started
    again goes on from there, as if never stopped."""
    from tqdm.auto import tqdm

    cfg, G, D = net.cfg, net.generator, net.discriminator
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    totals = np.bincount(data.quadrant, weights=data.weight, minlength=4)
    weights = data.weight * (1.0 / np.maximum(totals[data.quadrant], 1e-9)) ** cfg.balance
    weights /= weights.sum()
    cur, prev, ref = (torch.from_numpy(one_hot(a)) for a in (data.cur, data.prev, data.ref))
    ys = torch.from_numpy(data.y)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    hist, first = net.history, 0
    resume = Resume(resume_file, run_key(cfg, (np.ascontiguousarray(a).tobytes() for a in (
        data.cur, data.prev, data.ref, data.y, data.weight)))) if resume_file is not None else None
    saved = resume.load() if resume is not None else None
    if saved is not None:  # go on from the last save, with its weights, optimisers and random streams
        G.load_state_dict(saved["generator"])
        D.load_state_dict(saved["discriminator"])
        opt_g.load_state_dict(saved["opt_g"])
        opt_d.load_state_dict(saved["opt_d"])
        gen.set_state(saved["gen"])
        rng.bit_generator.state = saved["rng"]
        net.history = hist = History(**saved["history"])
        first = saved["step"]
        if progress:
            print(f"resuming after step {first} of {cfg.steps} ({resume_file})", flush=True)
    G.train()
    D.train()
    start = time.perf_counter()
    bar = tqdm(range(first, cfg.steps), desc="MIDINet", disable=not progress, mininterval=2.0, initial=first,
               total=cfg.steps)
    for step in bar:
        idx = torch.from_numpy(rng.choice(len(data), size=cfg.batch_size, p=weights))
        k = int(rng.integers(cfg.transpose[0], cfg.transpose[1] + 1))
        x, p_bar, r_bar = (_shift_steps(a[idx], k) for a in (cur, prev, ref))
        y = _shift_y(ys[idx], k)

        fake = drawn(G(torch.randn(cfg.batch_size, cfg.z_dim, generator=gen), y, p_bar, r_bar), gen)
        d_real, d_fake, _, _ = judge(D, x, fake.detach(), y)
        d_loss = F.binary_cross_entropy(d_real, torch.full_like(d_real, cfg.real_label)) + \
            F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        groups = [y[:, q] > 0 for q in range(len(EMOTIONS)) if (y[:, q] > 0).any()]  # the batch's emotions
        has_ref = y[:, -1] > 0
        for _ in range(cfg.g_steps):
            z = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen)
            soft = G(z, y, p_bar, r_bar)
            fake = drawn(soft, gen)
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
            if cfg.lambda_diversity:
                z_b = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen)
                fm = fm + cfg.lambda_diversity / (diversity(soft, G(z_b, y, p_bar, r_bar), z, z_b) + 1e-5)
            g_loss = F.binary_cross_entropy(p_fake, torch.ones_like(p_fake)) + fm
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()

        if step % max(1, log_every // 10) == 0 or step == cfg.steps - 1:
            hist.log(d_loss=d_loss.item(), g_loss=g_loss.item(), d_real=d_real.mean().item(),
                     d_fake=d_fake.mean().item(), feature_match=fm.item())
            bar.set_postfix(D=f"{d_loss.item():.2f}", G=f"{g_loss.item():.2f}",
                            Dx=f"{d_real.mean().item():.2f}", DGz=f"{d_fake.mean().item():.2f}")
        if resume is not None and (step + 1) % save_every == 0 and step + 1 < cfg.steps:
            hist.seconds += time.perf_counter() - start
            start = time.perf_counter()
            resume.save({"generator": G.state_dict(), "discriminator": D.state_dict(), "opt_g": opt_g.state_dict(),
                         "opt_d": opt_d.state_dict(), "gen": gen.get_state(), "rng": rng.bit_generator.state,
                         "history": hist.as_dict(), "step": step + 1})
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


def fit(pieces: list[Piece], cfg: GANConfig | None = None, *, progress: bool = True,
        resume_file: str | Path | None = None) -> GANModel:
    """Build MIDINet, train it on the labelled pieces' bars (and, with cfg.minor_versions, those of every major one
    moved into minor), and return the generator ready to compose; resume_file: see train."""
    from ...config import load as load_config

    cfg = cfg or load_config(GANConfig)
    tunes = with_minor_versions(pieces) if cfg.minor_versions else pieces
    data = bar_pairs(tunes, cfg.max_bars, modal_weight=cfg.modal_weight, references=cfg.references)
    net = train(build(cfg), data, progress=progress, resume_file=resume_file)
    return GANModel(net.generator.eval(), cfg, {"history": net.history.as_dict()})
