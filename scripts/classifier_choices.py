"""The classifier's settings, each chosen on validation faces only (the test split is never touched here).

    EMOLIB_DATA=/path/to/data python scripts/classifier_choices.py [--max-train 6000] [--epochs 3] [--write]
    EMOLIB_DATA=/path/to/data python scripts/classifier_choices.py --round 2 --max-train 12000 --epochs 4 --write

Same seed, same training sample (stratified), same budget for every variant; each changes one setting
of FaceConfig's defaults: resolution (64 vs 96 px), label smoothing, class weights, FER+ majority labels
instead of FER2013's, and a separate happy/sad/angry model against the seven-class one restricted to
those three classes. Mirrored-face averaging is judged on every run (with and without). --write saves
figures/02_choices.json, which notebook 02 plots and the README quotes.

Round 2 starts from what round 1 chose (FaceConfig's defaults) and tries what generalises beyond FER2013's
label noise: FER+'s ten-annotator vote distributions as soft targets (Barsoum et al. 2016), alone and
mixed half and half with FER2013's label, and stronger augmentation (blur, erased rectangles). --write saves
figures/02_choices_round2.json.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace


from emolib.config import ensure_dir, figures_dir
from emolib.emotion import HAPPY_SAD_ANGRY as THREE  # the three the targets also speak of
from emolib.faces.data.datasets import load_fer2013
from emolib.faces.metrics import scores_among
from emolib.faces.network import predict_proba
from emolib.faces.training import FaceConfig, fit_on_validation, training_splits

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


SHIPPED = {"image_size": 96, "label_smoothing": 0.0, "class_weight_power": 0.0, "flip_tta": True, "labels": "fer2013"}
VARIANTS_2 = {
    "shipped settings (96 px, FER2013 labels)": {},
    "FER+ vote distributions as soft targets": {"labels": "ferplus_soft", "soft_weight": 1.0},
    "FER+ votes mixed 50/50 with the FER2013 label": {"labels": "ferplus_soft", "soft_weight": 0.5},
    "blur and erasing augmentation": {"blur": 0.3, "erase": 0.3},
    "FER+ votes 50/50 + blur and erasing": {"labels": "ferplus_soft", "soft_weight": 0.5, "blur": 0.3, "erase": 0.3},
}
ROUNDS = {1: (START, VARIANTS, "02_choices.json"), 2: (SHIPPED, VARIANTS_2, "02_choices_round2.json")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data")
    ap.add_argument("--max-train", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--only", help="run just the variants whose name contains this")
    ap.add_argument("--round", type=int, choices=sorted(ROUNDS), default=1)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    start_settings, variants, out_name = ROUNDS[args.round]
    data = load_fer2013(args.data)
    base = replace(FaceConfig(), **start_settings, max_train=args.max_train, epochs=args.epochs, patience=args.epochs)
    runs = {}
    for name, change in variants.items():
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
        if args.write:  # after every variant, so an interrupted run keeps what it measured ("complete" says so)
            out = {"max_train": args.max_train, "epochs": args.epochs, "base": asdict(base), "runs": runs,
                   "complete": len(runs) == sum(not args.only or args.only in n for n in variants)}
            (ensure_dir(figures_dir()) / out_name).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
