"""An independent symbolic music-emotion classifier, trained on EMOPIA's human labels (official split).

It judges which quadrant a piece sounds like, from its MIDI file alone, so generated music can be
checked against listeners' labels rather than against the generator's own conditioning. Input: the
first 32 seconds in 0.25 s frames, with 22 channels per frame (velocity-weighted chroma, 8 octave
bands, onset count, onset loudness), which carries tempo, loudness, register and mode - the cues
the emotion literature names. Model: a small 1-D CNN with global pooling. Augmentation (training
only): random transposition (a chroma rotation) and a random time shift.

EMOPIA is CC BY-NC-SA 4.0, so this model is never shipped: it is trained in seconds where the data
is (cached under data/cache). For scale, EMOPIA's best symbolic classifier reached 0.684 on four
quadrants, 0.88 on arousal and 0.83 on valence.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import EmolibError

FPS = 4  # frames per second
FRAMES = 128  # 32 seconds
CHANNELS = 22  # 12 chroma + 8 octave bands + onsets + onset velocity


@dataclass
class JudgeConfig:
    epochs: int = 60
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-3
    dropout: float = 0.3
    width: int = 32  # channels of the first convolution (the second has twice as many)
    seed: int = 0

    @classmethod
    def fast(cls) -> "JudgeConfig":
        return cls(epochs=25)


def midi_frames(pm) -> np.ndarray:
    """(CHANNELS, FRAMES) float32 features of a pretty_midi object (all non-drum tracks)."""
    x = np.zeros((CHANNELS, FRAMES), np.float32)
    for inst in pm.instruments:
        if inst.is_drum:
            continue
        for n in inst.notes:
            a = int(n.start * FPS)
            if a >= FRAMES:
                continue
            b = min(FRAMES, max(a + 1, int(np.ceil(n.end * FPS))))
            v = n.velocity / 127.0
            x[n.pitch % 12, a:b] += v
            x[12 + min(7, max(0, n.pitch // 12 - 2)), a:b] += v
            x[20, a] += 1.0
            x[21, a] += v
    x[21] = np.divide(x[21], x[20], out=np.zeros(FRAMES, np.float32), where=x[20] > 0)
    x[:20] = np.log1p(x[:20])
    x[20] = np.log1p(x[20])
    return x


class Judge(nn.Module):
    def __init__(self, cfg: JudgeConfig):
        super().__init__()
        w = cfg.width
        self.net = nn.Sequential(
            nn.Conv1d(CHANNELS, w, 5, padding=2), nn.BatchNorm1d(w), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(w, 2 * w, 5, padding=2), nn.BatchNorm1d(2 * w), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(2 * w, 2 * w, 3, padding=1), nn.BatchNorm1d(2 * w), nn.ReLU())
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(4 * w, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net(x)
        return self.out(self.drop(torch.cat([h.mean(2), h.amax(2)], 1)))


def _augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = x.copy()
    x[:, :12] = np.roll(x[:, :12], int(rng.integers(12)), axis=1)
    shift = rng.integers(0, 8, size=len(x))
    for i, s in enumerate(shift):
        if s:
            x[i] = np.concatenate([x[i, :, s:], np.zeros_like(x[i, :, :s])], axis=1)
    return x


@dataclass
class JudgeReport:
    accuracy: float = 0.0  # four quadrants, EMOPIA's official test split
    arousal_accuracy: float = 0.0
    valence_accuracy: float = 0.0
    val_accuracy: list[float] = field(default_factory=list)
    n_train: int = 0
    n_test: int = 0


def quadrant_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """4-quadrant accuracy, and arousal (Q1,Q2 vs Q3,Q4) and valence (Q1,Q4 vs Q2,Q3) accuracy; labels 0..3 = Q1..Q4."""
    high = np.array([True, True, False, False])
    positive = np.array([True, False, False, True])
    return {"accuracy": float((y_true == y_pred).mean()),
            "arousal_accuracy": float((high[y_true] == high[y_pred]).mean()),
            "valence_accuracy": float((positive[y_true] == positive[y_pred]).mean())}


def fit(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
        cfg: JudgeConfig | None = None) -> tuple[Judge, JudgeReport]:
    """Train on the train split, keep the epoch best on val, report on test (labels 0..3 = Q1..Q4)."""
    from ...config import load

    cfg = cfg or load(JudgeConfig)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = Judge(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs, eta_min=cfg.lr * 0.05)
    (xtr, ytr), (xva, yva) = train, val
    report, best, best_state = JudgeReport(n_train=len(ytr), n_test=len(test[1])), -1.0, None
    for _ in range(cfg.epochs):
        model.train()
        for idx in np.array_split(rng.permutation(len(ytr)), max(1, len(ytr) // cfg.batch_size)):
            logits = model(torch.from_numpy(_augment(xtr[idx], rng)))
            loss = F.cross_entropy(logits, torch.from_numpy(ytr[idx]))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        acc = float((predict_proba(model, xva).argmax(1) == yva).mean())
        report.val_accuracy.append(acc)
        if acc > best:
            best, best_state = acc, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    for k, v in quadrant_scores(test[1], predict_proba(model, test[0]).argmax(1)).items():
        setattr(report, k, v)
    return model.eval(), report


@torch.no_grad()
def predict_proba(model: Judge, x: np.ndarray) -> np.ndarray:
    model.eval()
    return torch.softmax(model(torch.from_numpy(np.asarray(x, np.float32))), 1).numpy()


def emopia_features(root: str | Path | None = None, *, progress: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Features and labels (0..3) of EMOPIA's official train/val/test splits, cached after the first read."""
    import warnings

    import pretty_midi
    from tqdm.auto import tqdm

    from ...config import cache_dir, ensure_dir
    from ...errors import DatasetNotFound
    from ..data.emopia import EMOPIA_URL, emopia_root, quadrant_of, read_split

    root = emopia_root(root)
    splits = read_split(root) if (root / "midis").is_dir() else {}
    if not splits:
        raise DatasetNotFound(f"EMOPIA (with its split/*_clip.csv files) not found at {root}. Download it from "
                              f"{EMOPIA_URL} and set EMOLIB_DATA to the folder holding emopia/.")
    paths = sorted(p for p in (root / "midis").glob("Q*.mid") if p.stem in splits)
    key = hashlib.sha1("\n".join(p.name for p in paths).encode()).hexdigest()[:12]
    cache = cache_dir() / f"emopia_judge_{key}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            x, y, s = z["x"], z["y"], z["split"]
    else:
        xs, ys, ss, bad = [], [], [], []
        for p in tqdm(paths, desc="EMOPIA features", unit="clip", disable=not progress, mininterval=2.0):
            try:
                xs.append(midi_frames(pretty_midi.PrettyMIDI(str(p))))
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the loader
                bad.append(f"{p.name} ({exc})")
                continue
            ys.append(quadrant_of(p.stem) - 1)
            ss.append(splits[p.stem])
        if bad:
            warnings.warn(f"skipped {len(bad)} unreadable EMOPIA file(s): {', '.join(bad)}", stacklevel=2)
        x, y, s = np.stack(xs), np.array(ys, np.int64), np.array(ss)
        np.savez_compressed(ensure_dir(cache.parent) / cache.name, x=x, y=y, split=s)
    return {name: (x[s == name], y[s == name]) for name in ("train", "val", "test")}


def train_on_emopia(root: str | Path | None = None, cfg: JudgeConfig | None = None,
                    *, progress: bool = True) -> tuple[Judge, JudgeReport]:
    """The judge, trained on EMOPIA's official split (cached under data/cache, never shipped)."""
    from ...config import cache_dir, ensure_dir, load
    from ...files import checkpoints as checkpoint

    cfg = cfg or load(JudgeConfig)
    data = emopia_features(root, progress=progress)
    tag = hashlib.sha1((repr(asdict(cfg)) + repr(len(data["train"][1]))).encode()).hexdigest()[:10]
    path = cache_dir() / f"emopia_judge_{tag}.pt"
    if path.is_file():  # a cached judge is read with the same checks as any checkpoint
        ckpt = checkpoint.read(path, "emotion judge", ("state_dict", "report"), "delete it to train the judge again")
        model = Judge(cfg)
        checkpoint.load_weights(model, ckpt["state_dict"], path, "emotion judge")
        report = ckpt["report"]
        if not isinstance(report, dict) or set(report) != {f.name for f in fields(JudgeReport)}:
            raise EmolibError(f"{path}: its report is not an emotion judge's; delete it to train the judge again")
        return model.eval(), JudgeReport(**report)
    model, report = fit(data["train"], data["val"], data["test"], cfg)
    torch.save({"state_dict": model.state_dict(), "report": asdict(report)}, ensure_dir(path.parent) / path.name)
    return model, report


def judge_midi(model: Judge, pms: list) -> np.ndarray:
    """Quadrant probabilities (n, 4; columns Q1..Q4) for pretty_midi objects."""
    return predict_proba(model, np.stack([midi_frames(pm) for pm in pms]))
