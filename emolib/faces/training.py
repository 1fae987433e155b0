"""Train and evaluate the face-emotion classifier end to end (used by the CLI, scripts and notebook 02)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .classifier import FaceClassifier, History, build_model, save_checkpoint, scores, train
from ..config import FaceConfig, set_seed
from .datasets import FaceData, select_classes, stratified_cap, train_val_split


@dataclass
class FaceRun:
    classifier: FaceClassifier
    history: History
    test: dict  # scores() on the dataset's own test split
    test_probs: np.ndarray
    test_data: FaceData
    seconds: float
    cfg: FaceConfig  # as used (input_blur measured when it was None)


def fit_and_evaluate(data: FaceData, cfg: FaceConfig, *, progress: bool = True) -> FaceRun:
    """Select classes, carve validation from train, train, then score once on the official test split."""
    set_seed(cfg.seed)
    data = select_classes(data, cfg.classes)
    train_part, val_part = train_val_split(data, cfg.val_fraction, seed=cfg.seed)
    train_part = stratified_cap(train_part, cfg.max_train, seed=cfg.seed)
    val_part = stratified_cap(val_part, None if cfg.max_train is None else max(60, cfg.max_train // 5), cfg.seed)
    test_part = stratified_cap(data.of_split("test"), cfg.max_test, seed=cfg.seed)
    if len(test_part) == 0:
        raise ValueError("this dataset has no test split; lay it out as train/ and test/ folders")
    if cfg.input_blur is None:
        from dataclasses import replace

        from .datasets import matching_blur

        cfg = replace(cfg, input_blur=matching_blur(train_part.images, test_part.images))
    start = time.perf_counter()
    model = build_model(len(cfg.classes), init=cfg.init, image_size=cfg.image_size)
    model, hist = train(model, train_part.images, train_part.labels, val_part.images, val_part.labels,
                        cfg, progress=progress)
    clf = FaceClassifier(model, tuple(cfg.classes), cfg.image_size, input_blur=cfg.input_blur)
    probs = clf.predict_proba(test_part.images)
    test = scores(test_part.labels, probs.argmax(1), tuple(cfg.classes))
    test["n_train"], test["n_val"], test["n_test"] = len(train_part), len(val_part), len(test_part)
    clf.metrics = test
    return FaceRun(clf, hist, test, probs, test_part, time.perf_counter() - start, cfg)


def save_run(run: FaceRun, path: str | Path, *, provenance: str) -> Path:
    """Save the checkpoint plus a JSON report of the test scores and training history beside it."""
    cfg = run.cfg
    metrics = dict(run.test, provenance=provenance, best_epoch=run.history.best_epoch,
                   images_per_second=round(run.history.images_per_second, 1), train_seconds=round(run.seconds))
    path = save_checkpoint(run.classifier.model, path, classes=run.classifier.classes, cfg=cfg, metrics=metrics)
    report = dict(metrics, history=run.history.__dict__)
    path.with_suffix(".json").write_text(json.dumps(report, indent=1))
    return path
