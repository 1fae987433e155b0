"""MIDINet (Yang, Chou & Yang 2017), conditioned on emotion and chords, generating 4-bar segments.

- Generator: noise z and the condition y (emotion one-hot + one 13-d chord per bar) through two
  fully connected layers, reshaped to (128, 4, 1), then transposed convolutions along time
  4 -> 8 -> 16 -> 32 -> 64 steps and a last one across the 128 pitches; sigmoid output.
- Conditioner: a CNN over the previous 4-bar segment whose feature map at each time resolution is
  concatenated (with y) to the generator layer of the same resolution, as in MIDINet.
- Discriminator: two convolutions and two fully connected layers with y concatenated, sigmoid
  output. It never sees the previous segment.
- Training: one-sided label smoothing (real = 0.9), MIDINet's feature-matching terms (mean of the
  data and mean of the discriminator's first-layer features), two generator steps per
  discriminator step. BatchNorm layers are ordinary modules: eval mode at generation time.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import one_thread
from ..emotion import EMOTIONS, quadrant
from ..errors import BadInput
from . import decoding
from .chords import Chord, chord_vector
from .piece import REGISTER, Piece
from .roll import N_PITCHES, SEGMENT_STEPS, STEPS_PER_BAR, last_pitch

BARS = SEGMENT_STEPS // STEPS_PER_BAR  # 4 bars per segment
Y_DIM = len(EMOTIONS) + 13 * BARS  # emotion one-hot + one chord per bar


@dataclass
class GANConfig:
    """MIDINet hyper-parameters (defaults: the full CPU run, about half an hour)."""

    z_dim: int = 100  # as in MIDINet
    gf: int = 128  # generator channels
    cf: int = 32  # conditioner channels per resolution
    df: int = 64  # discriminator channels of its first convolution
    fc: int = 1024  # width of the fully connected layers
    batch_size: int = 64
    steps: int = 6000  # discriminator steps (each followed by g_steps generator steps)
    g_steps: int = 2  # MIDINet: update G twice per D update so D does not win outright
    lr: float = 2e-4  # Adam, as DCGAN and MIDINet
    beta1: float = 0.5
    real_label: float = 0.9  # one-sided label smoothing
    binarize: bool = True  # D judges G's output after the same top-1 + threshold as generation,
    # with straight-through gradients (binary neurons, Dong & Yang 2018); on soft output D wins at
    # once on softness alone
    instance_noise: float = 0.0  # std of Gaussian noise on D's inputs, annealed to 0 by 3/4 of training
    lambda_mean: float = 0.1  # feature matching on the data mean (MIDINet's lambda_1)
    lambda_feat: float = 1.0  # feature matching on D's first-layer features (MIDINet's lambda_2)
    # feature matching one order up: the histogram of intervals between consecutive steps (-24..+24
    # semitones, 0 = a held or repeated pitch) of what G plays (binarised), matched to the real segments',
    # so that G learns how real melodies move, not only which pitches they use; 0 turns it off (the
    # weights tried and what each gave are in the README's GAN section)
    lambda_interval: float = 300.0
    # the same, conditioned on the harmony: the pitch-class profile of what G plays relative to each bar's
    # chord root, over major-chord and over minor-chord bars, matched to the real segments' (so that G
    # plays a minor third over a minor chord); 0 turns it off (off: see the README for what it cost)
    lambda_chord: float = 0.0
    hop_bars: int = 2  # training segments start every 2 bars
    transpose: tuple[int, int] = (-5, 6)  # augmentation: every key from 5 down to 6 up
    seed: int = 0

    @classmethod
    def fast(cls) -> "GANConfig":
        return cls(gf=64, cf=16, df=32, fc=256, steps=120, batch_size=32)


def condition(emotion: str, chords: list[Chord]) -> np.ndarray:
    """y: emotion one-hot followed by one 13-d chord vector per bar of the segment."""
    y = np.zeros(Y_DIM, dtype=np.float32)
    y[EMOTIONS.index(quadrant(emotion).name)] = 1.0
    for i, chord in enumerate(chords[:BARS]):
        y[len(EMOTIONS) + 13 * i: len(EMOTIONS) + 13 * (i + 1)] = chord_vector(chord)
    return y


def _chords_for(piece: Piece, bar: int) -> list[Chord]:
    chords = piece.chords or [Chord(piece.tonic, piece.mode == "minor")]
    return [chords[min(b, len(chords) - 1)] for b in range(bar, bar + BARS)]


@dataclass
class SegmentPairs:
    """Training pairs: previous segment, current segment, condition and quadrant index."""

    prev: np.ndarray  # (n, 64, 128) uint8
    cur: np.ndarray  # (n, 64, 128) uint8
    y: np.ndarray  # (n, Y_DIM) float32
    quadrant: np.ndarray  # (n,) int

    def __len__(self) -> int:
        return len(self.cur)


def segment_pairs(melodies: list[Piece], hop_bars: int = 2) -> SegmentPairs:
    """Every (previous 4 bars, next 4 bars) pair; the first segment of a tune has a silent predecessor."""
    prev, cur, ys, qs = [], [], [], []
    for m in melodies:
        if m.quadrant is None:
            continue
        for bar in range(0, m.bars - BARS + 1, hop_bars):
            s = bar * STEPS_PER_BAR
            cur.append(m.roll[s:s + SEGMENT_STEPS])
            p = np.zeros((SEGMENT_STEPS, N_PITCHES), np.uint8)
            if bar > 0:
                a = max(0, s - SEGMENT_STEPS)
                p[SEGMENT_STEPS - (s - a):] = m.roll[a:s]
            prev.append(p)
            ys.append(condition(m.quadrant.name, _chords_for(m, bar)))
            qs.append(m.quadrant.number - 1)
    if not cur:
        raise ValueError("no labelled melody is long enough for a 4-bar segment")
    return SegmentPairs(np.stack(prev), np.stack(cur), np.stack(ys), np.array(qs))


def transpose_condition(y: torch.Tensor, k: int) -> torch.Tensor:
    """Shift the chord roots in y by k semitones (the emotion and minor flags stay)."""
    y = y.clone()
    for i in range(BARS):
        a = len(EMOTIONS) + 13 * i
        y[:, a:a + 12] = torch.roll(y[:, a:a + 12], k, dims=1)
    return y


def _yb(y: torch.Tensor, t: int) -> torch.Tensor:
    """The condition vector broadcast along time, to concatenate as channels (MIDINet's conv_cond_concat)."""
    return y[:, :, None].expand(-1, -1, t)


# MIDINet's convolutions span all 128 pitches at once (kernel width 128), so each is written here in
# its equivalent 1-D form, with pitches as channels and time as the only axis: a (k, 128) Conv2d is
# a Conv1d over 128 input channels, and a (2, 1) transposed Conv2d is a ConvTranspose1d. Same
# arithmetic, several times faster on a CPU.


class Conditioner(nn.Module):
    """Encodes the previous segment into feature maps at 64, 32, 16, 8 and 4 time steps."""

    def __init__(self, *, cf: int):
        super().__init__()
        self.h0 = nn.Sequential(nn.Conv1d(N_PITCHES, cf, 1), nn.BatchNorm1d(cf), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv1d(cf, cf, 2, stride=2), nn.BatchNorm1d(cf), nn.LeakyReLU(0.2))
            for _ in range(4))

    def forward(self, prev: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.h0(prev.transpose(1, 2))]  # (B, cf, 64)
        for layer in self.down:
            feats.append(layer(feats[-1]))  # 32, 16, 8, 4
        return feats


class Generator(nn.Module):
    """(z, y, previous segment (B, 64, 128)) -> note probabilities (B, 64, 128)."""

    def __init__(self, *, z_dim: int, gf: int, cf: int, fc: int):
        super().__init__()
        self.gf, self.z_dim = gf, z_dim
        self.conditioner = Conditioner(cf=cf)
        self.fc1 = nn.Sequential(nn.Linear(z_dim + Y_DIM, fc), nn.BatchNorm1d(fc), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(fc + Y_DIM, gf * 4), nn.BatchNorm1d(gf * 4), nn.ReLU())
        self.up = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose1d(gf + Y_DIM + cf, gf, 2, stride=2), nn.BatchNorm1d(gf), nn.ReLU())
            for _ in range(4))  # 4 -> 8 -> 16 -> 32 -> 64 steps
        self.out = nn.Conv1d(gf + Y_DIM + cf, N_PITCHES, 1)  # MIDINet's (1, 128) transposed convolution

    def forward(self, z: torch.Tensor, y: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        feats = self.conditioner(prev)  # [64, 32, 16, 8, 4]
        h = self.fc1(torch.cat([z, y], 1))
        h = self.fc2(torch.cat([h, y], 1)).view(-1, self.gf, 4)
        for layer, f in zip(self.up, feats[:0:-1]):  # conditioner features at 4, 8, 16, 32 steps
            h = layer(torch.cat([h, _yb(y, h.shape[2]), f], 1))
        h = self.out(torch.cat([h, _yb(y, h.shape[2]), feats[0]], 1))  # (B, 128, 64)
        return torch.sigmoid(h).transpose(1, 2)


class Discriminator(nn.Module):
    """(segment (B, 64, 128), y) -> (probability real, first-layer features); no previous segment."""

    def __init__(self, *, df: int, fc: int):
        super().__init__()
        self.h0 = nn.Conv1d(N_PITCHES, df, 2, stride=2)  # MIDINet's (2, 128) convolution: (B, df, 32)
        self.h1 = nn.Sequential(nn.Conv1d(df + Y_DIM, 2 * df, 4, stride=2), nn.BatchNorm1d(2 * df),
                                nn.LeakyReLU(0.2))  # (B, 2df, 15)
        self.fc1 = nn.Sequential(nn.Linear(2 * df * 15 + Y_DIM, fc), nn.BatchNorm1d(fc), nn.LeakyReLU(0.2))
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


def binarize(probs: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Top-1 pitch per step if above threshold, else silence; gradients pass straight through."""
    top = probs.max(dim=2, keepdim=True).values
    hard = ((probs == top) & (top >= threshold)).float()
    return probs + (hard - probs).detach()


MAX_INTERVAL = 24


def interval_histogram(roll: torch.Tensor) -> torch.Tensor:
    """(2 * MAX_INTERVAL + 1,) mean over a batch of sum_p roll[t, p] * roll[t + 1, p + d], for d = -24..24:
    how often a step moves by d semitones to the next (for soft rolls, the expected count)."""
    a, b = roll[:, :-1, :], roll[:, 1:, :]
    out = []
    for d in range(-MAX_INTERVAL, MAX_INTERVAL + 1):
        if d >= 0:
            out.append((a[:, :, :N_PITCHES - d] * b[:, :, d:]).sum(dim=(1, 2)))
        else:
            out.append((a[:, :, -d:] * b[:, :, :N_PITCHES + d]).sum(dim=(1, 2)))
    return torch.stack(out, dim=1).mean(0) / roll.shape[1]


def chord_profile(roll: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(2, 12): the share of each pitch class, counted from the bar's chord root (0 = root, 3 = minor third,
    4 = major third, 7 = fifth), of what a batch plays over its major-chord bars (row 0) and minor-chord bars (row 1)."""
    n = roll.shape[0]
    per_bar = roll.reshape(n, BARS, -1, N_PITCHES).sum(2)  # (n, bars, 128) steps sounding per pitch
    per_bar = F.pad(per_bar, (0, 12 - N_PITCHES % 12))
    pc = per_bar.reshape(n, BARS, -1, 12).sum(2)  # (n, bars, 12) per pitch class
    chords = y[:, len(EMOTIONS):len(EMOTIONS) + 13 * BARS].reshape(n, BARS, 13)
    root = chords[..., :12].argmax(-1, keepdim=True)
    rel = pc.gather(-1, (torch.arange(12) + root) % 12)  # rel[..., k] = pitch class k semitones above the root
    minor = chords[..., 12:13]
    rows = [(rel * (1 - minor)).sum((0, 1)), (rel * minor).sum((0, 1))]
    return torch.stack([r / r.sum().clamp(min=1e-6) for r in rows])


def _judge(D: Discriminator, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor, noise: float = 0.0):
    """D on real and fake segments in one batch, so its BatchNorm sees both.

    Passed separately, each batch is normalised by its own statistics, which erases exactly the
    difference D should see: D(x) and D(G(z)) then stay equal, at chance. Returns
    (D(real), D(fake), real features, fake features).
    """
    n = len(real)
    both = torch.cat([real, fake])
    if noise > 0:
        both = both + noise * torch.randn_like(both)
    p, f = D(both, torch.cat([y, y]))
    return p[:n], p[n:], f[:n], f[n:]


def train(net: MidiNet, data: SegmentPairs, *, progress: bool = True, log_every: int = 50) -> MidiNet:
    """Adversarial training with label smoothing, feature matching and quadrant-balanced batches."""
    from tqdm.auto import tqdm

    cfg, G, D = net.cfg, net.generator, net.discriminator
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    counts = np.bincount(data.quadrant, minlength=4).astype(float)
    weights = 1.0 / np.maximum(counts[data.quadrant], 1)  # each quadrant equally likely per batch
    weights /= weights.sum()
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    G.train()
    D.train()
    hist, start = net.history, time.perf_counter()
    bar = tqdm(range(cfg.steps), desc="MIDINet", disable=not progress, mininterval=2.0)
    for step in bar:
        idx = rng.choice(len(data), size=cfg.batch_size, p=weights)
        k = int(rng.integers(cfg.transpose[0], cfg.transpose[1] + 1))
        x = torch.from_numpy(np.roll(data.cur[idx], k, axis=2)).float()  # rolls stay far from the edges
        prev = torch.from_numpy(np.roll(data.prev[idx], k, axis=2)).float()
        y = transpose_condition(torch.from_numpy(data.y[idx]), k)

        noise = cfg.instance_noise * max(0.0, 1.0 - step / (0.75 * cfg.steps))
        z = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen)
        fake = G(z, y, prev)
        if cfg.binarize:
            fake = binarize(fake)
        d_real, d_fake, _, _ = _judge(D, x, fake.detach(), y, noise)
        d_loss = F.binary_cross_entropy(d_real, torch.full_like(d_real, cfg.real_label)) + \
            F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        for _ in range(cfg.g_steps):
            z = torch.randn(cfg.batch_size, cfg.z_dim, generator=gen)
            soft = G(z, y, prev)
            fake = binarize(soft) if cfg.binarize else soft
            _, p_fake, f_real, f_fake = _judge(D, x, fake, y, noise)
            fm = F.mse_loss(soft.mean(0), x.mean(0), reduction="sum") * cfg.lambda_mean + \
                F.mse_loss(f_fake.mean(0), f_real.detach().mean(0), reduction="sum") * cfg.lambda_feat
            if cfg.lambda_interval:
                fm = fm + cfg.lambda_interval * F.mse_loss(interval_histogram(fake), interval_histogram(x),
                                                           reduction="sum")  # on what is played (binarised)
            if cfg.lambda_chord:
                fm = fm + cfg.lambda_chord * F.mse_loss(chord_profile(fake, y), chord_profile(x, y), reduction="sum")
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


@torch.no_grad()
def sample_segment(G: Generator, y: np.ndarray, prev: np.ndarray, generator: torch.Generator) -> np.ndarray:
    """Note probabilities (64, 128) for one segment, with BatchNorm in eval mode as in training's running stats."""
    G.eval()
    z = torch.randn(1, G.z_dim, generator=generator)
    out = G(z, torch.from_numpy(y)[None], torch.from_numpy(prev).float()[None])
    return out[0].numpy()


@dataclass
class GANModel:
    """The trained generator, ready to compose: emolib's MelodyModel interface (emolib.music.models)."""

    net: Generator
    cfg: GANConfig
    meta: dict = field(default_factory=dict)  # provenance, history and metrics from the checkpoint
    threshold: float = 0.5  # a step sounds when its most likely pitch reaches this (so silence is possible)
    name: str = "gan"

    @one_thread
    def generate(self, prompt: Piece, bars: int = 16, *, seed: int = 0, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, leap_penalty: float = 0.0,
                 grid: int = 1) -> Piece:
        """Continue the prompt's 4-bar opening segment by segment to `bars` bars (MIDINet); a prompt of no bars
        starts from noise after a silent previous segment (MIDINet's first bar; training saw every tune's
        opening that way).

        Each new segment is conditioned on the emotion, the chords of its own bars and the previous segment.
        Pitches outside the melody register (where training data never goes) get zero probability. Decoding
        (emolib.music.decoding): a step sounds when its most likely pitch reaches `threshold`; its pitch is
        chosen by temperature / top_k / top_p after the leap penalty's re-ranking (top_k=1: the most likely);
        with grid > 1 the probabilities are averaged over cells of `grid` steps, so notes start on that grid.
        """
        settings = decoding.check(dict(temperature=temperature, top_k=top_k, top_p=top_p,
                                       leap_penalty=leap_penalty, grid=grid))
        grid = settings.pop("grid")
        if prompt.bars not in (0, BARS):
            raise BadInput(f"the GAN continues a {BARS}-bar opening (or none), got {prompt.bars} bars")
        emotion = prompt.quadrant.name
        rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(int(seed))
        lo, hi = REGISTER
        out = [prompt.roll.astype(np.uint8) if prompt.bars else np.zeros((SEGMENT_STEPS, N_PITCHES), np.uint8)]
        for i in range(1 if prompt.bars else 0, -(-bars // BARS)):
            bar = i * BARS
            y = condition(emotion, [prompt.chord_at(bar + j) for j in range(BARS)])
            probs = sample_segment(self.net, y, out[-1], gen)
            probs[:, :lo] = 0.0
            probs[:, hi + 1:] = 0.0
            if grid > 1:
                probs = decoding.cells(probs, grid)
            notes = decoding.choose_steps(probs, last=last_pitch(out[-1]), rng=rng, threshold=self.threshold, **settings)
            out.append(np.repeat(notes, grid, axis=0) if grid > 1 else notes)
        roll = np.concatenate(out if prompt.bars else out[1:])[:bars * STEPS_PER_BAR]
        given = min(prompt.bars, bars)
        return prompt.with_notes(roll, by=prompt.authors[:given] + (self.name,) * (bars - given),
                                 edits=prompt.changes[:given] + ((),) * (bars - given))


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
    from .. import checkpoint

    ckpt = checkpoint.read(path, "GAN", ("generator", "config"), "train one with scripts/train_gan.py")
    cfg = checkpoint.config(GANConfig, ckpt["config"], path, "GAN", GAN_LIMITS, tuples=("transpose",))
    G = Generator(z_dim=cfg.z_dim, gf=cfg.gf, cf=cfg.cf, fc=cfg.fc)
    checkpoint.load_weights(G, ckpt["generator"], path, "GAN generator")
    return GANModel(G.eval(), cfg, {k: v for k, v in ckpt.items() if k not in ("generator", "config")})


def fit(pieces: list[Piece], cfg: GANConfig | None = None, *, progress: bool = True) -> GANModel:
    """Build MIDINet, train it on the labelled pieces' segment pairs, and return the generator ready to compose."""
    from ..config import load as load_config

    cfg = cfg or load_config(GANConfig)
    net = train(build(cfg), segment_pairs(pieces, cfg.hop_bars), progress=progress)
    return GANModel(net.generator.eval(), cfg, {"history": asdict(net.history)})
