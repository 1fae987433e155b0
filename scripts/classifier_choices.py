"""The classifier's settings, each chosen on validation faces only (the test split is never touched here).

    EMOLIB_DATA=/path/to/data python scripts/classifier_choices.py [--max-train 6000] [--epochs 3] [--write]

Same seed, same training sample (stratified), same budget for every variant; each changes one setting
of FaceConfig's defaults: resolution (64 vs 96 px), label smoothing, class weights, FER+ majority labels
instead of FER2013's, and a separate happy/sad/angry model against the seven-class one restricted to
those three classes. Mirrored-face averaging is judged on every run (with and without). --write saves
figures/02_choices.json, which notebook 02 plots and the README quotes.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace


from emolib.config import FaceConfig, figures_dir
from emolib.faces.classifier import predict_proba, scores_among
from emolib.faces.datasets import load_fer2013
from emolib.faces.training import fit_on_validation, training_splits

THREE = ("happy", "sad", "angry")
# The settings we started from (the first full run); each variant changes one of them. FaceConfig's
# defaults are what these runs chose: 96 px, no label smoothing, no class weights.
START = {"image_size": 64, "label_smoothing": 0.1, "class_weight_power": 0.5, "flip_tta": True, "labels": "fer2013"}
VARIANTS = {  # name: the one setting it changes
    "start (64 px, smoothing 0.1, class weights^0.5)": {},
    "96 px": {"image_size": 96},
    "no label smoothing": {"label_smoothing": 0.0},
    "fully balanced class weights": {"class_weight_power": 1.0},
    "no class weights": {"class_weight_power": 0.0},
    "FER+ majority labels for training": {"labels": "ferplus"},
    "happy/sad/angry only": {"classes": THREE},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data")
    ap.add_argument("--max-train", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--only", help="run just the variants whose name contains this")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    data = load_fer2013(args.data)
    base = replace(FaceConfig(), **START, max_train=args.max_train, epochs=args.epochs, patience=args.epochs)
    runs = {}
    for name, change in VARIANTS.items():
        if args.only and args.only not in name:
            continue
        cfg = replace(base, **change)
        start = time.perf_counter()
        clf, hist = fit_on_validation(data, cfg, progress=False)
        cfg, _, val, _ = training_splits(data, cfg)
        with_flip = predict_proba(clf.model, val.images, clf.image_size, flip=True)
        plain = predict_proba(clf.model, val.images, clf.image_size)
        runs[name] = {"change": {k: list(v) if isinstance(v, tuple) else v for k, v in change.items()},
                      # seven-class accuracy: not defined for a model of fewer classes
                      "val_acc": float((with_flip.argmax(1) == val.labels).mean()) if len(cfg.classes) == 7 else None,
                      "val_acc_no_flip": float((plain.argmax(1) == val.labels).mean()) if len(cfg.classes) == 7 else None,
                      "val_acc_happy_sad_angry": scores_among(val.labels, with_flip, cfg.classes, THREE)["accuracy"],
                      "val_acc_curve": hist.val_acc, "minutes": round((time.perf_counter() - start) / 60, 1)}
        r = runs[name]
        seven = "-" if r["val_acc"] is None else f"{r['val_acc']:.3f} (no flip {r['val_acc_no_flip']:.3f})"
        print(f"{name:52s} val acc {seven} | happy/sad/angry {r['val_acc_happy_sad_angry']:.3f} | "
              f"{r['minutes']} min", flush=True)
    if args.write:
        out = {"max_train": args.max_train, "epochs": args.epochs, "base": asdict(base), "runs": runs}
        (figures_dir() / "02_choices.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
