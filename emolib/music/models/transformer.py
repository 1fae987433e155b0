"""A compact emotion-conditioned transformer (in the spirit of EMOPIA's emotion-token transformer).

A minGPT-style decoder over the event tokens of :mod:`emolib.music.notes.tokens`: the emotion and key tokens come
first, then ``BAR IDX TOGO REF CHORD POS PITCH DUR ...``. Its context holds a whole 16-bar tune (block_size
tokens), and each bar carries its index in the tune and the earlier bar it restates or varies (REF), so while it
writes bar 13 it can attend to bar 1, knows where it is and which phrase returns: it learns from the corpus to
restate and vary a phrase and to close on a cadence, as folk-rnn (Sturm et al. 2016) and Music Transformer (Huang
et al. 2018) do. It is trained on the first 16 bars of each tune, in C, and learns only the tokens it chooses at
generation (notes and bar ends); the emotion, key, bar indices, references and chords are written in by us (at
generation the references are the form plan's, emolib.music.form.form_plan). A small grammar keeps the
output a valid monophonic melody in the register (positions move forward, notes never overlap). This module holds
the model (settings, network, how it writes a piece); how it learns is emolib.music.models.transformer_training.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import EmolibError
from ...files import checkpoints
from ..form import cadence_goal, ends_on, form_plan, varies, versions
from ..notes import tokens as tk
from ..notes.piece import Piece
from ..notes.roll import REGISTER, STEPS_PER_BAR
from .continuation import MelodyModel
from .sampling import draw, leap_weights


@dataclass
class TransformerConfig:
    """Model and training settings (defaults: the full CPU run, about ten minutes)."""

    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 512  # tokens of context: a whole 16-bar folk tune with its bar headers (99 % of them fit)
    dropout: float = 0.1  # some regularisation against learning the tunes by heart
    batch_size: int = 16  # small batches of long windows: a CPU run of hours, not days
    # steps of training (4,500: about 15 passes over the training tunes and their minor versions, about 75 minutes on
    # 2 cores); the best held-out step is kept, and the run's state is saved every 200 steps so it can resume
    steps: int = 4500
    lr: float = 1e-3  # AdamW, linear warm-up then cosine decay to lr * min_lr_ratio
    warmup: int = 200
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    transpose: tuple[int, int] = (0, 0)  # augmentation by transposition; none: every tune is learned in C
    # quadrant balance of the batches: weight per tune = (1 / tunes of its quadrant) ** balance; 1 balances fully,
    # 0 not at all
    balance: float = 0.75
    # also learn from every major tune moved into minor (emolib.music.data.modes): one tune in thirteen of the corpus
    # is minor; each moved tune counts modal_weight of a real one when batches are drawn
    minor_versions: bool = True
    modal_weight: float = 0.5
    # how much the notes of a bar that restates or varies an earlier one (its REF token names that bar) count in the
    # loss, against 1 for the others. The shipped model was trained on from this config's run for 1,500 steps at 10
    # (scripts/train_melody.py): weighted alike, it rarely came back to an earlier bar
    ref_weight: float = 1.0
    seed: int = 0

    @classmethod
    def fast(cls) -> "TransformerConfig":
        return cls(n_layer=2, n_head=2, n_embd=64, batch_size=8, steps=150, warmup=10)


class KVCache:
    """The keys and values of the tokens so far, for every layer, in buffers with room for a whole block: a new
    token's are written in place, where copying all the others onto them (torch.cat) took a third of each step.
    A cache is (buffers, length): tokens 0..length-1 are valid, and a shorter cache of the same buffers is the
    context as it was before (writing after it changes none of its tokens)."""

    def __init__(self, k: torch.Tensor, v: torch.Tensor, length: int = 0):
        self.k, self.v, self.length = k, v, length  # (layers, 1, heads, block_size, head size); 0..length-1 are read

    @classmethod
    def empty(cls, cfg: "TransformerConfig", like: torch.Tensor) -> "KVCache":
        """An empty cache for a model of this config, of the dtype and on the device of `like` (its weights)."""
        k = torch.empty((cfg.n_layer, 1, cfg.n_head, cfg.block_size, cfg.n_embd // cfg.n_head), dtype=like.dtype,
                        device=like.device)
        return cls(k, torch.empty_like(k))

    def add(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write a layer's keys and values of the new tokens after the cached ones; all of them so far."""
        end = self.length + k.shape[2]
        self.k[layer, :, :, self.length:end], self.v[layer, :, :, self.length:end] = k, v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]

    def advanced(self, tokens: int) -> "KVCache":
        """The same buffers, `tokens` more of them valid."""
        return KVCache(self.k, self.v, self.length + tokens)

    def copy(self) -> "KVCache":
        """Buffers of its own, so tokens written after another copy's length do not change this one."""
        return KVCache(self.k.clone(), self.v.clone(), self.length)


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.n_embd), nn.LayerNorm(cfg.n_embd)
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(), nn.Linear(4 * cfg.n_embd, cfg.n_embd),
                                 nn.Dropout(cfg.dropout))
        self.n_head, self.dropout = cfg.n_head, cfg.dropout

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        """With a cache (the keys and values of earlier tokens; this block's are its `layer`) x holds the newest
        tokens, which may attend to all of them and to each other up to themselves, and their keys and values are
        written into it; without one the causal mask hides later tokens.

        Written with torch.nn.functional on the block's own weights: at generation a call is one token, and going
        through each submodule's call took a seventh of it."""
        b, t, c = x.shape
        ln1, ln2, (fc, _, out, _) = self.ln1, self.ln2, self.mlp
        h = F.layer_norm(x, (c,), ln1.weight, ln1.bias, ln1.eps)
        q, k, v = F.linear(h, self.qkv.weight, self.qkv.bias).split(c, dim=2)
        q, k, v = (a.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for a in (q, k, v))
        mask = None
        if cache is not None:
            k, v = cache.add(layer, k, v)
            if t > 1:  # new token i sees the past and new tokens 0..i
                mask = torch.ones(t, k.shape[2], dtype=torch.bool).tril(k.shape[2] - t)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=cache is None,
                                           dropout_p=self.dropout if self.training else 0.0)
        x = x + F.linear(y.transpose(1, 2).reshape(b, t, c), self.proj.weight, self.proj.bias)
        h = F.gelu(F.linear(F.layer_norm(x, (c,), ln2.weight, ln2.bias, ln2.eps), fc.weight, fc.bias))
        return x + F.dropout(F.linear(h, out.weight, out.bias), self.dropout, self.training)


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
        """Next-token logits at every position of a batch of whole sequences (B, T) -> (B, T, vocabulary)."""
        x = self.drop(self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device)))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln(x))

    def step(self, idx: torch.Tensor, cache: KVCache | None = None) -> tuple[torch.Tensor, KVCache]:
        """(logits, cache) of one sequence (1, T) at generation: its tokens after the cached ones (a new cache when
        there is none); the keys and values of earlier tokens are kept, so each new token costs one position, not all."""
        cache = KVCache.empty(self.cfg, self.tok.weight) if cache is None else cache
        start = cache.length
        x = F.embedding(idx, self.tok.weight) + F.embedding(torch.arange(start, start + idx.shape[1]), self.pos.weight)
        for i, block in enumerate(self.blocks):
            x = block.forward(x, cache, i)  # (forward, not the module call: see Block.forward)
        x = F.layer_norm(x, (x.shape[-1],), self.ln.weight, self.ln.bias, self.ln.eps)
        return F.linear(x, self.head.weight), cache.advanced(idx.shape[1])


# ---- composing ------------------------------------------------------------------------------------------


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
class TransformerModel(MelodyModel):
    """The trained transformer, ready to compose (emolib.music.models.continuation.MelodyModel's generate)."""

    net: EmotionTransformer
    meta: dict = field(default_factory=dict)  # provenance and history from the checkpoint
    name: str = "transformer"

    @property
    def cfg(self) -> TransformerConfig:
        return self.net.cfg

    def write(self, prompt: Piece, given: int, bars: int, *, seed: int, temperature: float, top_k: int | None,
              top_p: float | None, leap_penalty: float, grid: int, cadence_tries: int, variation_tries: int) -> np.ndarray:
        """One event token at a time under the prompt's chords (we write the chord token in at every bar); a prompt
        of no bars starts from the emotion and key tokens alone. Decoding: the next token is drawn after temperature,
        top_k and top_p, among the tokens that keep a valid monophonic melody in the register; the leap penalty
        lowers the probability of each pitch token by its leap beyond a fourth from the previous note; with grid > 1
        positions and durations are whole cells of `grid` steps; with cadence_tries > 1, bar 8 and the last bar are
        written up to that many times from the same context and the first version that closes on the cadence chord
        is kept (else the first); with variation_tries > 1 the same at the bars the plan has vary an earlier bar, for
        the first version that varies it (emolib.music.form.varies)."""
        settings = dict(temperature=temperature, top_k=top_k, top_p=top_p)
        model, cfg = self.net, self.net.cfg
        model.eval()
        gen = torch.Generator().manual_seed(seed)
        chords = [prompt.chord_at(b) for b in range(bars)]
        plan = form_plan(bars)  # the earlier bar each new bar should restate or vary, written in as its REF token
        seq = tk.roll_to_tokens(prompt.roll[:given * STEPS_PER_BAR], chords, prompt.quadrant.number,
                                (prompt.tonic, prompt.mode), bars)
        last_note = [i for i in range(len(seq)) if tk.kind(seq[i]) == "POS"]
        free_at, last_pitch = 0, None
        if last_note:
            i = last_note[-1]
            start = (seq[:i].count(tk.BAR) - 1) * STEPS_PER_BAR + seq[i] - tk.POS0
            free_at = start + seq[i + 2] - tk.DUR0 + 1
            last_pitch = seq[i + 1] - tk.PITCH0
        state = {"bar": given - 1, "free_at": free_at, "last": "DUR"}
        cache, cached = None, 0  # attention keys/values of the context so far, and how many of seq's tokens they cover
        # cadence_tries, variation_tries: the context where a re-ranked bar starts, its first version, versions so far
        start_of_bar = first_version = None
        tried = tries = 0

        def keeps(seq: list[int], bar: int) -> bool:  # whether a re-ranked bar, just written, does what it should
            goal = cadence_goal(bar, bars, 0)
            if goal is not None:
                return closes(seq[start_of_bar[0]:], goal)
            return varies(tk.tokens_to_roll(seq, bars), bar, plan[bar])

        while True:
            if cache is None or cache.length + len(seq) - cached > cfg.block_size:
                # (re)start the context: the emotion and key tokens, then the latest tokens from a bar line, filling
                # at most 3/4 of the block so that the next few bars fit before the cache must be rebuilt (a whole
                # 16-bar tune fits: this happens only for longer pieces)
                tail = seq[2:][-(3 * cfg.block_size // 4):]
                cut = tail.index(tk.BAR) if tk.BAR in tail and len(seq) > 3 * cfg.block_size // 4 else 0
                logits, cache = model.step(torch.tensor([seq[:2] + tail[cut:]]))
            else:  # the tokens since the last call (a bar header we wrote in: five at once) after the cached ones
                logits, cache = model.step(torch.tensor([seq[cached:]]), cache)
            cached = len(seq)
            logits = logits[0, -1]
            if state["last"] == "POS" and leap_penalty > 0 and last_pitch is not None:
                logits = logits.clone()
                logits[tk.PITCH0:tk.PITCH0 + 128] += torch.from_numpy(np.log(leap_weights(last_pitch, leap_penalty))).float()
            t = draw(logits, allowed=_allowed(state, grid), generator=gen, **settings)
            if t == tk.BAR and start_of_bar is not None:  # a re-ranked bar is written: keep it, or write it again
                tried += 1
                here = (list(seq), dict(state), last_pitch, cache, cached)
                if keeps(seq, state["bar"]):
                    start_of_bar = first_version = None
                elif tried < tries:
                    first_version = first_version or (*here[:3], here[3].copy(), here[4])  # later tries write over it
                    n, s0, last_pitch, cache, cached = start_of_bar  # back to where the bar started
                    seq, state = seq[:n], dict(s0)
                    continue
                else:
                    seq, state, last_pitch, cache, cached = first_version or here
                    start_of_bar = first_version = None
            if t == tk.BAR:
                state["bar"] += 1
                if state["bar"] >= bars:
                    break
                seq += tk.bar_header(state["bar"], chords[state["bar"]], bars, plan[state["bar"]])
                state["last"] = "CHORD"
                tries = versions(state["bar"], bars, cadence_tries, variation_tries)
                if tries > 1:
                    start_of_bar, tried = (len(seq), dict(state), last_pitch, cache, cached), 0
                continue
            seq.append(t)
            state["last"] = tk.kind(t)
            if state["last"] == "PITCH":
                last_pitch = t - tk.PITCH0
            elif state["last"] == "DUR":
                start = state["bar"] * STEPS_PER_BAR + seq[-3] - tk.POS0
                state["free_at"] = start + t - tk.DUR0 + 1
        return tk.tokens_to_roll(seq, bars)


def closes(bar_tokens: list[int], goal: tuple[int, ...]) -> bool:
    """Whether a bar's note tokens (POS PITCH DUR ...) end as a cadence on `goal` (emolib.music.form.ends_on)."""
    at = [i for i, t in enumerate(bar_tokens) if tk.kind(t) == "POS" and i + 2 < len(bar_tokens)]
    if not at:
        return False
    i = at[-1]
    return ends_on(bar_tokens[i] - tk.POS0, bar_tokens[i + 2] - tk.DUR0 + 1, bar_tokens[i + 1] - tk.PITCH0, goal)


TRANSFORMER_LIMITS = {"n_layer": (1, 48), "n_head": (1, 64), "n_embd": (8, 4096), "block_size": (8, 8192)}


def network_bytes(cfg: TransformerConfig) -> int:
    """About what the network takes in memory: its float32 weights, and a full pass over its block (the attention
    scores of every head, the activations of every layer)."""
    e, b, layers = cfg.n_embd, cfg.block_size, cfg.n_layer
    weights = (len(tk.VOCAB) + b) * e + layers * (12 * e * e + 13 * e)
    return 4 * (weights + b * b * cfg.n_head + 16 * b * e * layers)
LEGACY_DECODING = ("pitch_range", "temperature", "top_p")  # older checkpoints stored decoding; it is an argument now


def load(path: str | Path) -> TransformerModel:
    """A saved transformer, ready to compose (weights_only: no arbitrary pickle; a bad file is one EmolibError line)."""
    ckpt = checkpoints.read(path, "transformer", ("state_dict", "config"), "train one with scripts/train_melody.py --model transformer")
    raw = {k: v for k, v in ckpt["config"].items() if k not in LEGACY_DECODING} if isinstance(ckpt["config"], dict) \
        else ckpt["config"]
    cfg = checkpoints.config(TransformerConfig, raw, path, "transformer", TRANSFORMER_LIMITS, tuples=("transpose",))
    if cfg.n_embd % cfg.n_head:
        raise EmolibError(f"{path}: its transformer config has n_embd={cfg.n_embd} not divisible by n_head={cfg.n_head}")
    vocab, e, last = len(tk.VOCAB), cfg.n_embd, cfg.n_layer - 1
    checkpoints.check_network(path, "transformer", ckpt["state_dict"], {
        "tok.weight": (vocab, e), "pos.weight": (cfg.block_size, e), f"blocks.{last}.qkv.weight": (3 * e, e)},
        network_bytes(cfg))
    model = EmotionTransformer(cfg)
    checkpoints.load_weights(model, ckpt["state_dict"], path, "transformer")
    return TransformerModel(model.eval(), {k: v for k, v in ckpt.items() if k not in ("state_dict", "config")})
