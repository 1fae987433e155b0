"""Training the face classifier: its settings (FaceConfig), the augmentation it sees, the loop (with warm-up + cosine
learning rate, validation each epoch, and its state kept so an interrupted run resumes), and a run scored once on
the official test split and saved with its report. The command line's train-classifier and notebook 02 use it."""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms.v2.functional import erase

from ..config import set_seed, torch_threads
from ..errors import DatasetNotFound
from ..runs import History, Resume, run_key, warmup_cosine
from .classifier import FaceClassifier
from .data.datasets import FaceData, balanced_cap, select_classes, stratified_cap, train_val_split
from .data.ferplus import ferplus_relabel, soft_targets
from .metrics import confusion_scores
from .network import build_model, normalize, predict_proba


@dataclass
class FaceConfig:
    """Face data and the EfficientNet emotion classifier (Lite0 from its ImageNet weights by default)."""

    # None = every class the dataset has: FER2013's seven, so neutral, surprised and afraid faces are
    # recognised as what they are and placed on the valence-arousal plane (emotion.VA_COORDINATES).
    classes: tuple[str, ...] | None = None
    image_size: int = 96  # FER's 48x48 faces upsampled, as ImageNet filters expect larger features (2.7x the
    # compute of 64 px; what each choice gave on validation: README, "What was tried", and figures/02_choices.json)
    init: str = "lite0"  # "lite0" (ImageNet, ships in a package), "imagenet" (online), "random"
    epochs: int = 7
    batch_size: int = 64
    lr: float = 2e-3  # AdamW peak learning rate, reached after a short warm-up
    min_lr_ratio: float = 0.05  # cosine schedule floors at 5% of the peak, never at zero
    weight_decay: float = 1e-4
    # Loss weight per class = (balanced weight) ** power: 1 balances the classes fully, 0 ignores the
    # imbalance (the choice that scored best on validation).
    class_weight_power: float = 0.0
    label_smoothing: float = 0.0
    # training labels: FER2013's own, "ferplus" (the FER+ majority vote) or "ferplus_soft" (each face's FER+
    # vote distribution over our classes as a soft target, mixed with its FER2013 label by soft_weight)
    labels: str = "fer2013"
    soft_weight: float = 1.0  # "ferplus_soft": target = soft_weight * votes + (1 - soft_weight) * FER2013 label
    blur: float = 0.0  # share of training faces given a random Gaussian blur
    erase: float = 0.0  # share of training faces with one random rectangle erased
    # Averaging each face with its mirror image: a fixed second view (not random augmentation) that doubles
    # inference time.
    flip_tta: bool = False
    val_fraction: float = 0.1  # validation carved from the training split only
    max_train: int | None = None  # cap on training images (None = all)
    max_test: int | None = None
    balanced_sample: bool = False  # caps take the same number of each class (fast mode) instead of keeping proportions
    patience: int = 4  # early stopping on validation macro-F1
    num_threads: int = 2  # CPU threads for torch
    seed: int = 0

    @classmethod
    def fast(cls) -> "FaceConfig":
        # a balanced sample of every class, about a minute on 2 CPU cores: enough to rise clearly above chance
        return cls(image_size=48, epochs=3, batch_size=32, max_train=2100, max_test=700, patience=3,
                   balanced_sample=True)


# ---- augmentation (training only; validation and test faces are never augmented) ----------


def augment(x: torch.Tensor, generator: torch.Generator, *, blur: float = 0.0, erase: float = 0.0) -> torch.Tensor:
    """Training-only augmentation on a normalised batch: flip, small affine, brightness/contrast; optionally
    a Gaussian blur on a share `blur` of the faces (webcam and old photos are soft) and one erased rectangle
    on a share `erase` of them (a hand, glasses, a shadow: no single region may decide)."""
    n = x.shape[0]
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    angle = (torch.rand(n, generator=generator) - 0.5) * math.radians(24)
    scale = 1.0 + (torch.rand(n, generator=generator) - 0.5) * 0.2
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 0.16
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    gain = 1.0 + (torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.4
    bias = (torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.4
    x = x * gain + bias
    if blur > 0:
        x = _random_blur(x, blur, generator)
    if erase > 0:
        x = _random_erase(x, erase, generator)
    return x


def _random_blur(x: torch.Tensor, share: float, generator: torch.Generator) -> torch.Tensor:
    """A Gaussian blur (sigma 0.3-1.0 px at 48 px, scaled with the size) on a random share of the batch."""
    n, size = x.shape[0], x.shape[-1]
    pick = torch.rand(n, generator=generator) < share
    if not pick.any():
        return x
    sigma = (0.3 + 0.7 * torch.rand(int(pick.sum()), generator=generator)) * size / 48
    radius = int(math.ceil(3 * sigma.max().item()))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t[None] / sigma[:, None]) ** 2)
    k = k / k.sum(1, keepdim=True)  # (m, taps): one separable kernel per blurred face
    sub = x[pick].transpose(0, 1)  # (1, m, H, W): faces as channels, each with its own kernel
    sub = F.conv2d(F.pad(sub, (radius, radius, 0, 0), mode="replicate"), k[:, None, None, :], groups=len(k))
    sub = F.conv2d(F.pad(sub, (0, 0, radius, radius), mode="replicate"), k[:, None, :, None], groups=len(k))
    out = x.clone()
    out[pick] = sub.transpose(0, 1)
    return out


def _random_erase(x: torch.Tensor, share: float, generator: torch.Generator) -> torch.Tensor:
    """One rectangle (2-20 % of the face) set to the mean grey on a random share of the batch (Zhong et al. 2020)."""
    n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
    out = x.clone()
    for i in torch.nonzero(torch.rand(n, generator=generator) < share).flatten().tolist():
        area = (0.02 + 0.18 * torch.rand(1, generator=generator).item()) * h * w
        aspect = math.exp((torch.rand(1, generator=generator).item() - 0.5) * 2 * math.log(3))
        eh, ew = min(h, max(1, round(math.sqrt(area * aspect)))), min(w, max(1, round(math.sqrt(area / aspect))))
        top = int(torch.randint(0, h - eh + 1, (1,), generator=generator))
        left = int(torch.randint(0, w - ew + 1, (1,), generator=generator))
        out[i] = erase(out[i], top, left, eh, ew, torch.zeros(()))  # 0 after normalisation = ImageNet's mean grey
    return out


# ---- the loop ------------------------------------------------------------------------------------------


def train(model: nn.Module, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
          cfg: FaceConfig, *, progress: bool = True, train_targets: np.ndarray | None = None,
          resume_file: str | Path | None = None) -> tuple[nn.Module, History]:
    """Train with augmentation, class-balanced loss and warm-up + cosine LR; keep the best epoch on val macro-F1.

    train_targets: (N, k) soft targets (each row a distribution, e.g. FER+'s annotator votes) used instead
    of the one-hot train_y in the loss; train_y still counts the classes and the training accuracy.
    resume_file: where the run keeps its state at the end of every epoch (emolib.runs.Resume); a run that finds one
    saved with the same settings and data goes on from there (an interrupted hour costs at most one epoch). The
    caller removes it once the result is saved.
    Runs on cfg.num_threads torch threads and gives the caller's setting back afterwards."""
    with torch_threads(cfg.num_threads):
        return _train(model, train_x, train_y, val_x, val_y, cfg, progress=progress, train_targets=train_targets,
                      resume_file=None if resume_file is None else Path(resume_file))


def _train(model: nn.Module, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
           cfg: FaceConfig, *, progress: bool, train_targets: np.ndarray | None,
           resume_file: Path | None = None) -> tuple[nn.Module, History]:
    from tqdm.auto import tqdm

    gen = torch.Generator().manual_seed(cfg.seed)
    k = int(max(train_y.max(), val_y.max()) + 1)
    counts = np.bincount(train_y, minlength=k).astype(float)
    weight = torch.tensor((counts.sum() / (k * np.maximum(counts, 1))) ** cfg.class_weight_power,
                          dtype=torch.float32)  # imbalance: rare classes (disgust) count more
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train_y) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    hist = History("train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "val_acc_no_flip", "lr",
                   images_per_second=0.0, best_epoch=0)
    best_state, best_f1, step, seen, busy, first = None, -1.0, 0, 0, 0.0, 0
    parts = [np.ascontiguousarray(train_y).tobytes(), np.ascontiguousarray(val_y).tobytes()]  # the run's data
    if train_targets is not None:
        parts.append(np.ascontiguousarray(train_targets, dtype=np.float32).tobytes())
    resume = Resume(resume_file, run_key(cfg, parts)) if resume_file is not None else None
    saved = resume.load() if resume is not None else None
    if saved is not None:  # go on from the last finished epoch, with its weights, optimiser and random streams
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        gen.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        hist = History(**saved["history"])
        best_state, best_f1, step, seen, busy = (saved[k] for k in ("best_state", "best_f1", "step", "seen", "busy"))
        first = len(hist.val_f1)
        if progress:
            print(f"resuming after epoch {first} of {cfg.epochs} ({resume_file})", flush=True)
    classes = tuple(str(i) for i in range(k))
    for epoch in range(first, cfg.epochs):
        if epoch > 0 and hist.best_epoch != epoch and epoch - hist.best_epoch >= cfg.patience:
            break  # early stopping: validation has not improved for `patience` epochs
        model.train()
        order = torch.randperm(len(train_y), generator=gen).numpy()
        loss_sum = correct = 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress,
                   mininterval=2.0, leave=False)
        for b in bar:
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            t0 = time.perf_counter()
            x = augment(normalize(train_x[idx], cfg.image_size), gen, blur=cfg.blur, erase=cfg.erase)
            y = torch.as_tensor(train_y[idx])
            for group in opt.param_groups:
                group["lr"] = warmup_cosine(step, total, peak=cfg.lr, warmup=int(0.05 * total), floor=cfg.min_lr_ratio)
            logits = model(x)
            if train_targets is None:
                loss = F.cross_entropy(logits, y, weight=weight, label_smoothing=cfg.label_smoothing)
            else:
                loss = F.cross_entropy(logits, torch.as_tensor(train_targets[idx], dtype=torch.float32), weight=weight,
                                       label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            busy += time.perf_counter() - t0
            seen += len(idx)
            step += 1
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
            bar.set_postfix(loss=f"{loss.item():.3f}", img_s=f"{seen / busy:.0f}")
        probs = predict_proba(model, val_x, cfg.image_size, flip=cfg.flip_tta)
        plain = probs if not cfg.flip_tta else predict_proba(model, val_x, cfg.image_size)
        val_loss = float(F.nll_loss(torch.log(torch.as_tensor(probs) + 1e-9), torch.as_tensor(val_y)))
        s = confusion_scores(val_y, probs.argmax(1), classes)
        hist.log(train_loss=loss_sum / len(train_y), train_acc=correct / len(train_y), val_loss=val_loss,
                 val_acc=s["accuracy"], val_f1=s["macro_f1"], val_acc_no_flip=float((plain.argmax(1) == val_y).mean()),
                 lr=opt.param_groups[0]["lr"])
        if progress:
            print(f"epoch {epoch + 1}: train loss {hist.train_loss[-1]:.3f} acc {hist.train_acc[-1]:.3f} | "
                  f"val loss {val_loss:.3f} acc {s['accuracy']:.3f} macro-F1 {s['macro_f1']:.3f}", flush=True)
        if s["macro_f1"] > best_f1:
            best_f1, best_state, hist.best_epoch = s["macro_f1"], copy.deepcopy(model.state_dict()), epoch + 1
        if resume is not None:
            resume.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "generator": gen.get_state(),
                         "torch_rng": torch.get_rng_state(), "history": hist.as_dict(), "best_state": best_state,
                         "best_f1": best_f1, "step": step, "seen": seen, "busy": busy})
    hist.images_per_second = seen / max(busy, 1e-9)
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval(), hist


def save_checkpoint(model: nn.Module, path: str | Path, *, classes: tuple[str, ...], cfg: FaceConfig,
                    metrics: dict | None = None, half: bool = True, report: dict | None = None,
                    force: bool = False) -> Path:
    """Weights (float16 to keep the file small), classes, config and metrics; loadable with weights_only.
    report: also write it as JSON beside the checkpoint (path.json). Both files appear, or neither; an
    existing file is kept unless force."""
    from ..files.writing import write_files

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in model.state_dict().items()}
    ckpt = {"state_dict": state, "classes": list(classes), "config": asdict(cfg), "metrics": metrics or {}}
    files = [(path, lambda tmp: torch.save(ckpt, tmp))]
    if report is not None:
        files.append((path.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(report, indent=1))))
    write_files(files, force=force, shipped=True)  # a training script may replace a shipped network
    return path


# ---- a run: splits, training, the test split scored once, saved ----------------------------------------


@dataclass
class FaceRun:
    classifier: FaceClassifier
    history: History
    test: dict  # confusion_scores() on the dataset's own test split
    test_probs: np.ndarray
    test_data: FaceData
    seconds: float
    cfg: FaceConfig  # as used (classes filled in when they were None)


def training_splits(data: FaceData, cfg: FaceConfig) -> tuple[FaceConfig, FaceData, FaceData, FaceData]:
    """(cfg with its classes filled in, train, validation, test): validation is carved from the training
    split only; with cfg.labels == "ferplus" the training faces take their FER+ majority label (faces with
    none are dropped) while validation and test keep the dataset's own labels, the ones we are judged on."""
    # by default the classes the dataset has faces of (a FER-format file of four expressions trains a 4-class model)
    present = tuple(c for i, c in enumerate(data.classes) if (data.labels == i).any())
    cfg = replace(cfg, classes=tuple(cfg.classes or present))
    data = select_classes(data, cfg.classes)
    train_part, val_part = train_val_split(data, cfg.val_fraction, seed=cfg.seed)
    if cfg.labels == "ferplus":
        train_part = ferplus_relabel(train_part)
    elif cfg.labels not in ("fer2013", "ferplus_soft"):
        raise ValueError(f"labels must be 'fer2013', 'ferplus' or 'ferplus_soft', got {cfg.labels!r}")
    cap = balanced_cap if cfg.balanced_sample else stratified_cap
    train_part = cap(train_part, cfg.max_train, seed=cfg.seed)
    val_part = cap(val_part, None if cfg.max_train is None else max(60, cfg.max_train // 5), cfg.seed)
    test_part = cap(data.of_split("test"), cfg.max_test, seed=cfg.seed)
    few = [c for i, c in enumerate(cfg.classes) if (train_part.labels == i).sum() < 2]
    if len(train_part) < 2 * len(cfg.classes) or len(val_part) == 0 or few:
        raise DatasetNotFound(f"too few faces to train on: {len(train_part)} for training and {len(val_part)} for "
                              f"validation{' (fewer than 2 of: ' + ', '.join(few) + ')' if few else ''}; give a "
                              "dataset with at least a few dozen faces of each class")
    return cfg, train_part, val_part, test_part


def training_targets(train_part: FaceData, cfg: FaceConfig) -> np.ndarray | None:
    """The soft targets of cfg.labels == "ferplus_soft" (FER+ votes mixed with FER2013's label), else None."""
    return soft_targets(train_part, cfg.soft_weight) if cfg.labels == "ferplus_soft" else None


def fit_on_validation(data: FaceData, cfg: FaceConfig, *, progress: bool = True) -> tuple[FaceClassifier, History]:
    """Train and score on validation only (for choosing settings; the test split is not touched)."""
    set_seed(cfg.seed)
    cfg, train_part, val_part, _ = training_splits(data, cfg)
    model = build_model(len(cfg.classes), init=cfg.init, image_size=cfg.image_size)
    model, hist = train(model, train_part.images, train_part.labels, val_part.images, val_part.labels,
                        cfg, progress=progress, train_targets=training_targets(train_part, cfg))
    return FaceClassifier(model, tuple(cfg.classes), cfg.image_size, flip_tta=cfg.flip_tta), hist


def fit_and_evaluate(data: FaceData, cfg: FaceConfig, *, progress: bool = True,
                     resume_file: str | Path | None = None) -> FaceRun:
    """Carve validation from train, train, then score once on the official test split.
    resume_file: see train (the training command keeps it beside --out)."""
    set_seed(cfg.seed)
    cfg, train_part, val_part, test_part = training_splits(data, cfg)
    if len(test_part) == 0:
        raise DatasetNotFound("this dataset has no test split; lay it out as train/ and test/ folders")
    start = time.perf_counter()
    model = build_model(len(cfg.classes), init=cfg.init, image_size=cfg.image_size)
    model, hist = train(model, train_part.images, train_part.labels, val_part.images, val_part.labels,
                        cfg, progress=progress, train_targets=training_targets(train_part, cfg), resume_file=resume_file)
    clf = FaceClassifier(model, tuple(cfg.classes), cfg.image_size, flip_tta=cfg.flip_tta)
    probs = clf.predict_proba(test_part.images)
    test = confusion_scores(test_part.labels, probs.argmax(1), tuple(cfg.classes))
    test["n_train"], test["n_val"], test["n_test"] = len(train_part), len(val_part), len(test_part)
    clf.metrics = test
    return FaceRun(clf, hist, test, probs, test_part, time.perf_counter() - start, cfg)


def save_run(run: FaceRun, path: str | Path, *, provenance: str, force: bool = False) -> Path:
    """Save the checkpoint plus a JSON report of the test scores and training history beside it (both, or
    neither; an existing file is kept unless force)."""
    cfg = run.cfg
    metrics = dict(run.test, provenance=provenance, best_epoch=run.history.best_epoch,
                   images_per_second=round(run.history.images_per_second, 1), train_seconds=round(run.seconds))
    return save_checkpoint(run.classifier.model, path, classes=run.classifier.classes, cfg=cfg, metrics=metrics,
                           report=dict(metrics, history=run.history.as_dict()), force=force)
