"""Train and evaluate the face-emotion classifier end to end (used by the CLI, scripts and notebook 02)."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .classifier import FaceClassifier, FaceConfig, History, build_model, save_checkpoint, scores, train
from ..config import set_seed
from .data.datasets import FaceData, balanced_cap, select_classes, stratified_cap, train_val_split


@dataclass
class FaceRun:
    classifier: FaceClassifier
    history: History
    test: dict  # scores() on the dataset's own test split
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
        from ..errors import DatasetNotFound

        raise DatasetNotFound(f"too few faces to train on: {len(train_part)} for training and {len(val_part)} for "
                              f"validation{' (fewer than 2 of: ' + ', '.join(few) + ')' if few else ''}; give a "
                              "dataset with at least a few dozen faces of each class")
    return cfg, train_part, val_part, test_part


def _votes_of(data: FaceData, votes_path: str | Path | None) -> np.ndarray:
    """FER+'s ten votes of each face, found by its FER2013 row; one clear error when they cannot be found."""
    from ..errors import DatasetNotFound
    from .data.datasets import load_ferplus_votes

    fix = "train on FER2013's own labels: labels='fer2013' (--labels fer2013)"
    if data.rows is None or (data.rows < 0).any():
        raise DatasetNotFound("FER+ labels need each face's FER2013 row number (FER2013's csv, or files named "
                              f"<Usage>_<row>.png); or {fix}")
    try:
        votes = load_ferplus_votes(votes_path)
    except DatasetNotFound as exc:
        raise DatasetNotFound(f"{exc} Or {fix}.") from None
    if data.rows.max(initial=-1) >= len(votes):
        raise DatasetNotFound(f"FER+'s csv has {len(votes)} rows but FER2013 has a face in row {data.rows.max()}: "
                              f"the csv is incomplete; get the whole fer2013new.csv, or {fix}")
    return votes[data.rows]


def ferplus_relabel(data: FaceData, votes_path: str | Path | None = None) -> FaceData:
    """The same faces under their FER+ majority-vote labels; faces without one are left out."""
    from .data.datasets import ferplus_majority

    labels = ferplus_majority(_votes_of(data, votes_path), data.classes)
    keep = labels >= 0
    out = data.subset(keep)
    out.labels = labels[keep]
    return out


def soft_targets(data: FaceData, cfg: FaceConfig, votes_path: str | Path | None = None) -> np.ndarray | None:
    """(N, k) training targets for cfg.labels == "ferplus_soft": each face's FER+ votes over our classes
    (contempt, unknown and not-a-face dropped), mixed with its FER2013 one-hot label by cfg.soft_weight; a
    face with no usable vote keeps its one-hot label. None for the other label choices."""
    from .data.datasets import FERPLUS_COLUMNS, FERPLUS_TO_FER

    if cfg.labels != "ferplus_soft":
        return None
    votes = _votes_of(data, votes_path).astype(np.float64)
    k = len(data.classes)
    soft = np.zeros((len(data), k))
    for col, name in FERPLUS_TO_FER.items():
        if name in data.classes:
            soft[:, data.classes.index(name)] = votes[:, FERPLUS_COLUMNS.index(col)]
    hard = np.eye(k)[data.labels]
    total = soft.sum(1, keepdims=True)
    soft = np.where(total > 0, soft / np.maximum(total, 1e-9), hard)
    return (cfg.soft_weight * soft + (1 - cfg.soft_weight) * hard).astype(np.float32)


def fit_on_validation(data: FaceData, cfg: FaceConfig, *, progress: bool = True) -> tuple[FaceClassifier, History]:
    """Train and score on validation only (for choosing settings; the test split is not touched)."""
    set_seed(cfg.seed)
    cfg, train_part, val_part, _ = training_splits(data, cfg)
    model = build_model(len(cfg.classes), init=cfg.init, image_size=cfg.image_size)
    model, hist = train(model, train_part.images, train_part.labels, val_part.images, val_part.labels,
                        cfg, progress=progress, train_targets=soft_targets(train_part, cfg))
    return FaceClassifier(model, tuple(cfg.classes), cfg.image_size, flip_tta=cfg.flip_tta), hist


def fit_and_evaluate(data: FaceData, cfg: FaceConfig, *, progress: bool = True,
                     resume_file: str | Path | None = None) -> FaceRun:
    """Carve validation from train, train, then score once on the official test split.
    resume_file: see classifier.train (the training command keeps it beside --out)."""
    set_seed(cfg.seed)
    cfg, train_part, val_part, test_part = training_splits(data, cfg)
    if len(test_part) == 0:
        from ..errors import DatasetNotFound

        raise DatasetNotFound("this dataset has no test split; lay it out as train/ and test/ folders")
    start = time.perf_counter()
    model = build_model(len(cfg.classes), init=cfg.init, image_size=cfg.image_size)
    model, hist = train(model, train_part.images, train_part.labels, val_part.images, val_part.labels,
                        cfg, progress=progress, train_targets=soft_targets(train_part, cfg), resume_file=resume_file)
    clf = FaceClassifier(model, tuple(cfg.classes), cfg.image_size, flip_tta=cfg.flip_tta)
    probs = clf.predict_proba(test_part.images)
    test = scores(test_part.labels, probs.argmax(1), tuple(cfg.classes))
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
                           report=dict(metrics, history=run.history.__dict__), force=force)


# ---- the training command: `python -m emolib train-classifier` and scripts/train_classifier.py -------------

PROVENANCE = "FER2013 official split (Training -> train/val; PublicTest+PrivateTest -> test), emolib train-classifier"


def add_arguments(ap) -> None:
    """The training command's options (shared by the emolib CLI and scripts/train_classifier.py)."""
    ap.add_argument("--data", help="FER2013 folder (default: $EMOLIB_DATA/fer2013)")
    ap.add_argument("--out", required=True, help="checkpoint to write (.pt; a .json report goes beside it). Each finished "
                    "epoch is kept in OUT.epoch: if the run is interrupted, the same command goes on from there")
    ap.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    ap.add_argument("--classes", help="comma-separated classes (default: all seven), e.g. happy,sad,angry")
    ap.add_argument("--init", choices=["lite0", "imagenet", "random"])
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--image-size", type=int)
    ap.add_argument("--max-train", type=int)
    ap.add_argument("--label-smoothing", type=float)
    ap.add_argument("--class-weight-power", type=float)
    ap.add_argument("--labels", choices=["fer2013", "ferplus", "ferplus_soft"])
    ap.add_argument("--soft-weight", type=float)
    ap.add_argument("--blur", type=float)
    ap.add_argument("--erase", type=float)
    ap.add_argument("--flip-tta", dest="flip_tta", action="store_true", default=None)
    ap.add_argument("--no-flip-tta", dest="flip_tta", action="store_false")


def resume_file(out: str | Path) -> Path:
    """Where the training command keeps its last finished epoch: beside --out, removed once --out is written."""
    out = Path(out)
    return out.with_name(out.name + ".epoch")


def run(args) -> Path:
    """Train with the command's options, score once on the official test split, save; returns the checkpoint."""
    from dataclasses import replace as _replace

    from ..config import load
    from ..files.writing import check_target
    from .data.datasets import load_fer2013

    check_target(args.out, args.force)  # refused before an hour of training, not after (the report too)
    check_target(Path(args.out).with_suffix(".json"), args.force)
    cfg = load(FaceConfig)
    if args.classes:
        cfg = _replace(cfg, classes=tuple(c.strip() for c in args.classes.split(",")))
    for key in ("init", "epochs", "image_size", "max_train", "label_smoothing", "class_weight_power", "labels",
                "soft_weight", "blur", "erase", "flip_tta"):
        if getattr(args, key) is not None:
            cfg = _replace(cfg, **{key: getattr(args, key)})
    resume = resume_file(args.out)
    result = fit_and_evaluate(load_fer2013(args.data), cfg, resume_file=resume)
    path = save_run(result, args.out, provenance=PROVENANCE, force=args.force)  # OUT.epoch stays if this fails
    resume.unlink(missing_ok=True)
    print(f"test accuracy {result.test['accuracy']:.4f} macro-F1 {result.test['macro_f1']:.4f} "
          f"({result.history.images_per_second:.0f} img/s, {result.seconds / 60:.1f} min) -> {path}")
    return path
