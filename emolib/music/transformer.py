"""A compact emotion-conditioned transformer (in the spirit of EMOPIA's emotion-token transformer).

A minGPT-style decoder over the event tokens of :mod:`emolib.music.tokens`: the emotion token comes
first, then ``BAR CHORD POS PITCH DUR ...``. Trained on the same melodies as the GAN (folk corpus by
default, EMOPIA when given), with the same transposition augmentation. Generation continues a real
4-bar seed under the seed tune's chords, which we write in at every bar; a small grammar keeps the
output a valid monophonic melody (positions move forward, notes never overlap).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import one_thread
from . import decoding
from . import tokens as tk
from .chords import ALL_CHORDS, Chord
from .piece import REGISTER, Piece
from .roll import STEPS_PER_BAR


@dataclass
class TransformerConfig:
    """Model and training settings (defaults: the full CPU run, about ten minutes)."""

    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 192  # tokens of context: about 6 bars of a folk melody
    dropout: float = 0.1
    batch_size: int = 16  # small batches of long windows: a CPU run of minutes, not hours
    steps: int = 2500
    lr: float = 1e-3  # AdamW, linear warm-up then cosine decay to lr * min_lr_ratio
    warmup: int = 100
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    transpose: tuple[int, int] = (-5, 6)  # augmentation, as for the GAN
    seed: int = 0

    @classmethod
    def fast(cls) -> "TransformerConfig":
        return cls(n_layer=2, n_head=2, n_embd=64, block_size=128, batch_size=16, steps=150, warmup=10)


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.n_embd), nn.LayerNorm(cfg.n_embd)
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(), nn.Linear(4 * cfg.n_embd, cfg.n_embd),
                                 nn.Dropout(cfg.dropout))
        self.n_head, self.dropout = cfg.n_head, cfg.dropout

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None):
        """(output, (keys, values)). With `past` (the cached keys and values of earlier tokens) x is the one
        newest token, which may attend to all of them; without it the causal mask hides later tokens."""
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (a.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for a in (q, k, v))
        if past is not None:
            assert t == 1, "with a cache, feed one token at a time"
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=past is None,
                                           dropout_p=self.dropout if self.training else 0.0)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp(self.ln2(x)), (k, v)


class EmotionTransformer(nn.Module):
    """Next-token logits for event-token sequences that start with an emotion token."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(len(tk.VOCAB), cfg.n_embd)
        self.pos = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, len(tk.VOCAB), bias=False)
        self.head.weight = self.tok.weight  # weight tying, as in GPT-2 / nanoGPT
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:  # nanoGPT's initialisation: small normal weights, zero biases
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.step(idx)[0]

    def step(self, idx: torch.Tensor, cache: list | None = None) -> tuple[torch.Tensor, list]:
        """(logits, cache): the whole sequence without a cache, or one new token after the cached ones
        (the keys and values of earlier tokens are kept, so each new token costs one position, not all)."""
        start = 0 if cache is None else cache[0][0].shape[2]
        x = self.drop(self.tok(idx) + self.pos(torch.arange(start, start + idx.shape[1], device=idx.device)))
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if cache is None else cache[i])
            new_cache.append(kv)
        return self.head(self.ln(x)), new_cache


@dataclass
class Tune:
    tokens: np.ndarray  # token ids, emotion first
    bar_starts: np.ndarray  # index of every BAR token


def tokenize(melodies: list[Piece]) -> list[Tune]:
    out = []
    for m in melodies:
        if m.quadrant is None:
            continue
        chords = m.chords or [Chord(m.tonic, m.mode == "minor")]
        t = np.array(tk.roll_to_tokens(m.roll, chords, m.quadrant.number) + [tk.EOS], dtype=np.int64)
        out.append(Tune(t, np.flatnonzero(t == tk.BAR)))
    if not out:
        raise ValueError("no labelled melodies to train on")
    return out


_CHORD_SHIFT = np.array([[ALL_CHORDS.index(Chord((c.root + k) % 12, c.minor)) for c in ALL_CHORDS] for k in range(12)])


def transpose_tokens(t: np.ndarray, k: int) -> np.ndarray:
    """Shift pitches by k semitones and chord roots with them."""
    t = t.copy()
    pitch = (t >= tk.PITCH0) & (t < tk.PITCH0 + 128)
    t[pitch] = np.clip(t[pitch] + k, tk.PITCH0, tk.PITCH0 + 127)
    chord = (t >= tk.CHORD0) & (t < tk.CHORD0 + len(ALL_CHORDS))
    t[chord] = tk.CHORD0 + _CHORD_SHIFT[k % 12][t[chord] - tk.CHORD0]
    return t


def batch(tunes: list[Tune], weights: np.ndarray, cfg: TransformerConfig, rng: np.random.Generator) -> torch.Tensor:
    """Windows of block_size + 1 tokens: the emotion token, then the tune from a random bar on."""
    rows = np.full((cfg.batch_size, cfg.block_size + 1), tk.PAD, dtype=np.int64)
    for r, i in enumerate(rng.choice(len(tunes), size=cfg.batch_size, p=weights)):
        tune = tunes[i]
        start = tune.bar_starts[rng.integers(len(tune.bar_starts))]
        window = np.concatenate([tune.tokens[:1], tune.tokens[start:start + cfg.block_size]])
        rows[r, :len(window)] = transpose_tokens(window, int(rng.integers(cfg.transpose[0], cfg.transpose[1] + 1)))
    return torch.from_numpy(rows)


@dataclass
class TransformerHistory:
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


def train(melodies: list[Piece], cfg: TransformerConfig | None = None, *, val: list[Melody] | None = None,
          progress: bool = True) -> tuple[EmotionTransformer, TransformerHistory]:
    """Next-token training with quadrant-balanced batches, AdamW and a warm-up + cosine schedule."""
    from tqdm.auto import tqdm

    from ..config import load

    cfg = cfg or load(TransformerConfig)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    tunes = tokenize(melodies)
    val_tunes = tokenize(val) if val else None
    q = np.array([int(t.tokens[0]) for t in tunes])
    counts = {k: (q == k).sum() for k in set(q)}
    weights = np.array([1.0 / counts[k] for k in q])
    weights /= weights.sum()
    model = EmotionTransformer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    hist, start = TransformerHistory(), time.perf_counter()
    bar = tqdm(range(cfg.steps), desc="transformer", disable=not progress, mininterval=2.0)
    for step in bar:
        lr = cfg.lr * (step + 1) / cfg.warmup if step < cfg.warmup else cfg.lr * (
            cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        xy = batch(tunes, weights, cfg, rng)
        logits = model(xy[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), xy[:, 1:].reshape(-1), ignore_index=tk.PAD)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        hist.loss.append(loss.item())
        if val_tunes and (step % max(1, cfg.steps // 20) == 0 or step == cfg.steps - 1):
            hist.val_loss.append(evaluate(model, val_tunes, cfg))
        bar.set_postfix(loss=f"{loss.item():.3f}")
    hist.seconds = time.perf_counter() - start
    return model.eval(), hist


@torch.no_grad()
def evaluate(model: EmotionTransformer, tunes: list[Tune], cfg: TransformerConfig, batches: int = 4) -> float:
    """Mean next-token loss on held-out tunes (fixed windows, no augmentation)."""
    model.eval()
    rng = np.random.default_rng(1234)
    weights = np.full(len(tunes), 1.0 / len(tunes))
    fixed = TransformerConfig(**{**asdict(cfg), "transpose": (0, 0)})
    losses = []
    for _ in range(batches):
        xy = batch(tunes, weights, fixed, rng)
        logits = model(xy[:, :-1])
        losses.append(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), xy[:, 1:].reshape(-1), ignore_index=tk.PAD).item())
    return float(np.mean(losses))


def _allowed(state: dict, grid: int = 1) -> np.ndarray:
    """Mask of the tokens that keep the sequence a valid monophonic melody in the register (and on the grid)."""
    mask = np.zeros(len(tk.VOCAB), bool)
    last = state["last"]
    if last == "POS":
        lo, hi = REGISTER
        mask[tk.PITCH0 + lo:tk.PITCH0 + hi + 1] = True
    elif last == "PITCH":
        mask[tk.DUR0 + grid - 1:tk.DUR0 + tk.MAX_DUR:grid] = True
    else:  # after CHORD or DUR: the next note in this bar, or the next bar
        first = max(0, state["free_at"] - state["bar"] * STEPS_PER_BAR)
        first = -(-first // grid) * grid
        mask[tk.POS0 + first:tk.POS0 + STEPS_PER_BAR:grid] = True
        mask[tk.BAR] = True
    return mask


@dataclass
class TransformerModel:
    """The trained transformer, ready to compose: emolib's MelodyModel interface (emolib.music.models)."""

    net: EmotionTransformer
    meta: dict = field(default_factory=dict)  # provenance and history from the checkpoint
    name: str = "transformer"

    @property
    def cfg(self) -> TransformerConfig:
        return self.net.cfg

    @one_thread
    @torch.no_grad()
    def generate(self, prompt: Piece, bars: int = 16, *, seed: int = 0, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, leap_penalty: float = 0.0,
                 grid: int = 1) -> Piece:
        """Continue the prompt's bars to `bars` bars, one event token at a time, under the prompt's chords (we
        write the chord token in at every bar); a prompt of no bars starts from the emotion token alone.

        Decoding (emolib.music.decoding): the next token is drawn after temperature, top_k and top_p, among
        the tokens that keep a valid monophonic melody in the register; the leap penalty lowers the
        probability of each pitch token by its leap beyond a fourth from the previous note; with grid > 1
        positions and durations are whole cells of `grid` steps.
        """
        settings = decoding.check(dict(temperature=temperature, top_k=top_k, top_p=top_p,
                                       leap_penalty=leap_penalty, grid=grid))
        grid, leap_penalty = settings.pop("grid"), settings.pop("leap_penalty")
        model, cfg = self.net, self.net.cfg
        model.eval()
        gen = torch.Generator().manual_seed(int(seed))
        chords = [prompt.chord_at(b) for b in range(bars)]
        seed_bars = min(prompt.bars, bars)
        seq = tk.roll_to_tokens(prompt.roll[:seed_bars * STEPS_PER_BAR], chords, prompt.quadrant.number)
        last_note = [i for i in range(len(seq)) if tk.kind(seq[i]) == "POS"]
        free_at, last_pitch = 0, None
        if last_note:
            i = last_note[-1]
            start = (seq[:i].count(tk.BAR) - 1) * STEPS_PER_BAR + seq[i] - tk.POS0
            free_at = start + seq[i + 2] - tk.DUR0 + 1
            last_pitch = seq[i + 1] - tk.PITCH0
        state = {"bar": seed_bars - 1, "free_at": free_at, "last": "DUR"}
        cache, cached = None, 0  # attention keys/values of the context so far, and how many of seq's tokens they cover
        while True:
            if cache is None or cache[0][0].shape[2] + len(seq) - cached > cfg.block_size:
                # (re)start the context: the emotion token, then the latest tokens from a bar line, filling at most
                # 3/4 of the block so that the next few bars fit before the cache must be rebuilt
                tail = seq[1:][-(3 * cfg.block_size // 4):]
                cut = tail.index(tk.BAR) if tk.BAR in tail and len(seq) > 3 * cfg.block_size // 4 else 0
                logits, cache = model.step(torch.tensor([seq[:1] + tail[cut:]]))
            else:
                for t in seq[cached:]:
                    logits, cache = model.step(torch.tensor([[t]]), cache)
            cached = len(seq)
            logits = logits[0, -1]
            if state["last"] == "POS" and leap_penalty > 0 and last_pitch is not None:
                logits = logits.clone()
                logits[tk.PITCH0:tk.PITCH0 + 128] += torch.from_numpy(
                    np.log(decoding.leap_weights(last_pitch, leap_penalty))).float()
            t = decoding.sample_token(logits, _allowed(state, grid), generator=gen, **settings)
            if t == tk.BAR:
                state["bar"] += 1
                if state["bar"] >= bars:
                    break
                seq += [tk.BAR, tk.chord_token(chords[state["bar"]])]
                state["last"] = "CHORD"
                continue
            seq.append(t)
            state["last"] = tk.kind(t)
            if state["last"] == "PITCH":
                last_pitch = t - tk.PITCH0
            elif state["last"] == "DUR":
                start = state["bar"] * STEPS_PER_BAR + seq[-3] - tk.POS0
                state["free_at"] = start + t - tk.DUR0 + 1
        roll = tk.tokens_to_roll(seq, bars)
        return prompt.with_notes(roll, by=prompt.authors[:seed_bars] + (self.name,) * (bars - seed_bars),
                                 edits=prompt.changes[:seed_bars] + ((),) * (bars - seed_bars))


def fit(pieces: list[Piece], cfg: TransformerConfig | None = None, *, val: list[Piece] | None = None,
        progress: bool = True) -> TransformerModel:
    """Train the transformer on the labelled pieces and return it ready to compose (its history in meta)."""
    net, history = train(pieces, cfg, val=val, progress=progress)
    return TransformerModel(net, {"history": asdict(history)})


def save(model: TransformerModel | EmotionTransformer, path: str | Path, *, history: TransformerHistory | None = None,
         provenance: str = "") -> Path:
    """Weights (half precision: the file stays small), config, history and provenance."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = model.net if isinstance(model, TransformerModel) else model
    hist = asdict(history) if history else (model.meta.get("history", {}) if isinstance(model, TransformerModel) else {})
    torch.save({"state_dict": {k: v.half() for k, v in net.state_dict().items()}, "config": asdict(net.cfg),
                "history": hist, "provenance": provenance}, path)
    return path


TRANSFORMER_LIMITS = {"n_layer": (1, 48), "n_head": (1, 64), "n_embd": (8, 4096), "block_size": (8, 8192)}
LEGACY_DECODING = ("pitch_range", "temperature", "top_p")  # older checkpoints stored decoding; it is an argument now


def load(path: str | Path) -> TransformerModel:
    """A saved transformer, ready to compose (weights_only: no arbitrary pickle; a bad file is one EmolibError line)."""
    from .. import checkpoint
    from ..errors import EmolibError

    ckpt = checkpoint.read(path, "transformer", ("state_dict", "config"), "train one with scripts/train_transformer.py")
    raw = {k: v for k, v in ckpt["config"].items() if k not in LEGACY_DECODING} if isinstance(ckpt["config"], dict) \
        else ckpt["config"]
    cfg = checkpoint.config(TransformerConfig, raw, path, "transformer", TRANSFORMER_LIMITS, tuples=("transpose",))
    if cfg.n_embd % cfg.n_head:
        raise EmolibError(f"{path}: its transformer config has n_embd={cfg.n_embd} not divisible by n_head={cfg.n_head}")
    model = EmotionTransformer(cfg)
    checkpoint.load_weights(model, ckpt["state_dict"], path, "transformer")
    return TransformerModel(model.eval(), {k: v for k, v in ckpt.items() if k not in ("state_dict", "config")})
