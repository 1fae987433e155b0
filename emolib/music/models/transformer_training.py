"""How the emotion-token transformer learns: its training tunes as tokens (the first 16 bars of each, in C), batches of
tunes of similar length drawn quadrant-balanced, the loss on the tokens it chooses at generation, and the loop
(AdamW, warm-up + cosine learning rate, the best held-out step kept)."""
from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import EmolibError
from ...runs import History, Resume, run_key, warmup_cosine
from ..notes import tokens as tk
from ..notes.chords import ALL_CHORDS, Chord
from ..data.modes import learning_weight, with_minor_versions
from ..notes.piece import Piece, in_c
from ..notes.roll import STEPS_PER_BAR, TUNE_BARS
from .transformer import EmotionTransformer, TransformerConfig, TransformerModel


@dataclass
class Tune:
    tokens: np.ndarray  # token ids: emotion, key, then the tune's first TUNE_BARS bars (EOS if it ends there)
    weight: float = 1.0  # how much it counts when batches are drawn (a major tune moved into minor: modal_weight)


def tokenize(melodies: list[Piece], *, modal_weight: float = 1.0) -> list[Tune]:
    """The first 16 bars of each labelled piece, moved to C, as tokens (with EOS when the tune ends within them); a
    tune moved into minor (emolib.music.data.modes) counts modal_weight of a real one."""
    out = []
    for m in melodies:
        if m.quadrant is None:
            continue
        m = in_c(m)
        chords = m.chords or [Chord(m.tonic, m.mode == "minor")]
        bars = min(m.bars, TUNE_BARS)
        ids = tk.roll_to_tokens(m.roll[:bars * STEPS_PER_BAR], chords, m.quadrant.number, (m.tonic, m.mode), m.bars)
        out.append(Tune(np.array(ids + ([tk.EOS] if m.bars <= TUNE_BARS else []), dtype=np.int64),
                        learning_weight(m, modal_weight)))
    if not out:
        raise ValueError("no labelled melodies to train on")
    return out


_CHORD_SHIFT = np.array([[ALL_CHORDS.index(Chord((c.root + k) % 12, c.minor)) for c in ALL_CHORDS] for k in range(12)])
_KEY_SHIFT = np.array([[tk.KEYS.index(((t + k) % 12, m)) for t, m in tk.KEYS] for k in range(12)])


def transpose_tokens(t: np.ndarray, k: int) -> np.ndarray:
    """Shift pitches by k semitones, and the key and chord roots with them."""
    t = t.copy()
    pitch = (t >= tk.PITCH0) & (t < tk.PITCH0 + 128)
    t[pitch] = np.clip(t[pitch] + k, tk.PITCH0, tk.PITCH0 + 127)
    chord = (t >= tk.CHORD0) & (t < tk.CHORD0 + len(ALL_CHORDS))
    t[chord] = tk.CHORD0 + _CHORD_SHIFT[k % 12][t[chord] - tk.CHORD0]
    key = (t >= tk.KEY0) & (t < tk.KEY0 + len(tk.KEYS))
    t[key] = tk.KEY0 + _KEY_SHIFT[k % 12][t[key] - tk.KEY0]
    return t


def batch(tunes: list[Tune], weights: np.ndarray, cfg: TransformerConfig, rng: np.random.Generator,
          idx: np.ndarray | None = None) -> torch.Tensor:
    """Whole tunes (their first 16 bars, cut at block_size + 1 tokens), each in a random key, padded to the longest
    in the batch (not to the block: most tunes are shorter, and padding costs as much as tokens)."""
    idx = rng.choice(len(tunes), size=cfg.batch_size, p=weights) if idx is None else idx
    picked = [tunes[i].tokens[:cfg.block_size + 1] for i in idx]
    rows = np.full((len(picked), max(len(w) for w in picked)), tk.PAD, dtype=np.int64)
    for r, window in enumerate(picked):
        rows[r, :len(window)] = transpose_tokens(window, int(rng.integers(cfg.transpose[0], cfg.transpose[1] + 1)))
    return torch.from_numpy(rows)


def batches(tunes: list[Tune], weights: np.ndarray, cfg: TransformerConfig, rng: np.random.Generator, pool: int = 8):
    """Endless training batches, bucketed: `pool` batches' worth of tunes are drawn (quadrant-balanced), sorted by
    length and cut into batches, so each batch holds tunes of similar length and little padding (twice as fast)."""
    lengths = np.array([min(len(t.tokens), cfg.block_size + 1) for t in tunes])
    while True:
        idx = rng.choice(len(tunes), size=cfg.batch_size * pool, p=weights)
        idx = idx[np.argsort(lengths[idx], kind="stable")]
        for k in rng.permutation(pool):
            yield batch(tunes, weights, cfg, rng, idx[k * cfg.batch_size:(k + 1) * cfg.batch_size])


_GIVEN = torch.from_numpy(np.isin(tk.KINDS, tk.GIVEN))
_NAMES_A_BAR = torch.from_numpy((tk.KINDS == "REF") & (np.arange(len(tk.KINDS)) != tk.NO_REF))


def in_returning_bars(targets: torch.Tensor) -> torch.Tensor:
    """True at each target of a bar whose header names an earlier bar it restates or varies (REF_j, not REF_NONE);
    a BAR token, which ends the bar before it, counts with that bar."""
    is_bar = targets == tk.BAR
    bar = torch.cumsum(is_bar, dim=1) - is_bar.long()  # which bar each target belongs to
    named = torch.zeros(targets.shape[0], targets.shape[1] + 1).scatter_add_(1, bar, _NAMES_A_BAR[targets].float())
    return named.gather(1, bar) > 0


def loss_on_choices(logits: torch.Tensor, targets: torch.Tensor, ref_weight: float = 1.0) -> torch.Tensor:
    """Next-token cross-entropy on the tokens the model chooses at generation (notes, bar ends, the end): the
    emotion, key, bar-position, reference and chord tokens are written in by us, so predicting them is not its job.
    ref_weight: how much the choices in a bar that returns to an earlier one count against the others' 1 (a return
    is how a tune builds on a motif; 1 weighs every choice alike)."""
    chosen = targets.masked_fill(_GIVEN[targets], tk.PAD)
    if ref_weight == 1.0:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chosen.reshape(-1), ignore_index=tk.PAD)
    each = F.cross_entropy(logits.transpose(1, 2), chosen, ignore_index=tk.PAD, reduction="none")
    weight = (chosen != tk.PAD) * torch.where(in_returning_bars(targets), ref_weight, 1.0)
    return (each * weight).sum() / weight.sum()


def tune_weights(tunes: list[Tune], balance: float) -> np.ndarray:
    """Sampling weight per tune: its own weight times (1 / the weights of its quadrant) ** balance, normalised."""
    q = np.array([int(t.tokens[0]) for t in tunes])
    own = np.array([t.weight for t in tunes])
    counts = {k: own[q == k].sum() for k in set(q)}
    w = own * np.array([(1.0 / counts[k]) ** balance for k in q])
    return w / w.sum()


def train(melodies: list[Piece], cfg: TransformerConfig | None = None, *, val: list[Piece] | None = None,
          progress: bool = True, resume_file: str | Path | None = None, save_every: int = 200,
          init: dict[str, torch.Tensor] | None = None) -> tuple[EmotionTransformer, History]:
    """Next-token training on whole 16-bar tunes (and, with cfg.minor_versions, every major one moved into minor)
    with quadrant-balanced batches, AdamW and warm-up + cosine; the step with the best held-out loss is kept.

    resume_file: where the run keeps its state every `save_every` steps (emolib.runs.Resume); the same run started
    again goes on from there, as if never stopped (a run spread over sessions loses at most those steps).
    init: weights to start from instead of random ones (a saved model trained on, with its own schedule)."""
    from tqdm.auto import tqdm

    from ...config import load

    cfg = cfg or load(TransformerConfig)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    tunes = tokenize(with_minor_versions(melodies) if cfg.minor_versions else melodies, modal_weight=cfg.modal_weight)
    val_tunes = tokenize(val) if val else None
    weights = tune_weights(tunes, cfg.balance)
    model = EmotionTransformer(cfg)
    if init is not None:
        try:
            model.load_state_dict({k: v.float() for k, v in init.items()})
        except RuntimeError:
            raise EmolibError("the weights to start from are not of this config's shape",
                              "give the model's settings (n_layer, n_head, n_embd, block_size) as they were") from None
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    hist, first, best = History("loss", "val_loss", best_step=0, seconds=0.0), 0, None
    data = [t.tokens.tobytes() + np.float64(t.weight).tobytes() for t in tunes + (val_tunes or [])]
    start_from = [v.numpy().tobytes() for v in (init or {}).values()]  # a run from other weights is another run
    resume = Resume(resume_file, run_key(cfg, data + start_from)) if resume_file is not None else None
    saved = resume.load() if resume is not None else None
    if saved is not None:  # go on from the last save, with its weights, optimiser and random streams
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        rng.bit_generator.state = saved["rng"]
        torch.set_rng_state(saved["torch_rng"])
        hist, first, best = History(**saved["history"]), saved["step"], saved["best"]
        if progress:
            print(f"resuming after step {first} of {cfg.steps} ({resume_file})", flush=True)
    start = time.perf_counter()
    bar = tqdm(range(first, cfg.steps), desc="transformer", disable=not progress, mininterval=2.0,
               initial=first, total=cfg.steps)
    stream = batches(tunes, weights, cfg, rng)  # pools of 8 batches: saves fall between pools, so a resume is exact
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = warmup_cosine(step, cfg.steps, peak=cfg.lr, warmup=cfg.warmup, floor=cfg.min_lr_ratio)
        model.train()
        xy = next(stream)
        logits = model(xy[:, :-1])
        loss = loss_on_choices(logits, xy[:, 1:], cfg.ref_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        hist.log(loss=loss.item())
        if val_tunes and (step % max(1, cfg.steps // 40) == 0 or step == cfg.steps - 1):
            hist.log(val_loss=evaluate(model, val_tunes, cfg))
            if hist.val_loss[-1] <= min(hist.val_loss):  # keep the weights of the best held-out loss
                best, hist.best_step = copy.deepcopy(model.state_dict()), step
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if resume is not None and (step + 1) % save_every == 0 and step + 1 < cfg.steps:
            hist.seconds += time.perf_counter() - start
            start = time.perf_counter()
            resume.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": rng.bit_generator.state,
                         "torch_rng": torch.get_rng_state(), "history": hist.as_dict(), "step": step + 1, "best": best})
    hist.seconds += time.perf_counter() - start
    if best is not None:
        model.load_state_dict(best)
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
        losses.append(loss_on_choices(logits, xy[:, 1:], cfg.ref_weight).item())
    return float(np.mean(losses))


def fit(pieces: list[Piece], cfg: TransformerConfig | None = None, *, val: list[Piece] | None = None,
        progress: bool = True, resume_file: str | Path | None = None,
        init: dict[str, torch.Tensor] | None = None) -> TransformerModel:
    """Train the transformer on the labelled pieces and return it ready to compose (its history in meta);
    resume_file, init: see train."""
    net, history = train(pieces, cfg, val=val, progress=progress, resume_file=resume_file, init=init)
    return TransformerModel(net, {"history": history.as_dict()})


def save(model: TransformerModel | EmotionTransformer, path: str | Path, *, history: History | None = None,
         provenance: str = "") -> Path:
    """Weights (half precision: the file stays small), config, history and provenance."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = model.net if isinstance(model, TransformerModel) else model
    hist = history.as_dict() if history else (model.meta.get("history", {}) if isinstance(model, TransformerModel) else {})
    torch.save({"state_dict": {k: v.half() for k, v in net.state_dict().items()}, "config": asdict(net.cfg),
                "history": hist, "provenance": provenance}, path)
    return path
