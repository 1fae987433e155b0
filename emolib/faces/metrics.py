"""How well a classifier's decisions match the labels: accuracy, macro-F1, per-class precision, recall and F1, and the
confusion matrix, on all classes or among a few of them."""
from __future__ import annotations

import numpy as np


def confusion_scores(y_true: np.ndarray, y_pred: np.ndarray, classes: tuple[str, ...]) -> dict:
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
    """confusion_scores() on the faces whose label (an index, -1 = none) is one of `keep` (default: every class),
    deciding among `keep` alone; adds "n", the number of faces scored."""
    cols = [classes.index(c) for c in keep] if keep else list(range(len(classes)))
    mask = np.isin(labels, cols)
    remap = {c: i for i, c in enumerate(cols)}
    y_true = np.array([remap[v] for v in labels[mask]], dtype=np.int64)
    s = confusion_scores(y_true, probs[mask][:, cols].argmax(1), tuple(classes[c] for c in cols))
    s["n"] = int(mask.sum())
    return s


