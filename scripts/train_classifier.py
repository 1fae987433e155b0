"""Train the face-emotion classifier on FER2013 (official split) and save it with its report.

    EMOLIB_DATA=/path/to/data python scripts/train_classifier.py --out emolib/assets/checkpoints/face_classifier.pt

This is how the shipped checkpoint was made (all seven FER2013 classes, the defaults of FaceConfig);
rerun it to reproduce the README's numbers. Every choice is made on the validation faces carved from
the training split; the official test split is scored once, at the end.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

from emolib.config import FaceConfig, load
from emolib.output import check_output
from emolib.faces.datasets import load_fer2013
from emolib.faces.training import fit_and_evaluate, save_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="FER2013 folder (default: $EMOLIB_DATA/fer2013)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    ap.add_argument("--classes", help="comma-separated classes (default: all seven), e.g. happy,sad,angry")
    ap.add_argument("--init", choices=["lite0", "imagenet", "random"])
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--image-size", type=int)
    ap.add_argument("--max-train", type=int)
    ap.add_argument("--label-smoothing", type=float)
    ap.add_argument("--class-weight-power", type=float)
    ap.add_argument("--no-flip-tta", dest="flip_tta", action="store_false", default=None)
    args = ap.parse_args()
    check_output(args.out, args.force)
    cfg = load(FaceConfig)
    if args.classes:
        cfg = replace(cfg, classes=tuple(c.strip() for c in args.classes.split(",")))
    for key in ("init", "epochs", "image_size", "max_train", "label_smoothing", "class_weight_power", "flip_tta"):
        if getattr(args, key) is not None:
            cfg = replace(cfg, **{key: getattr(args, key)})
    run = fit_and_evaluate(load_fer2013(args.data), cfg)
    path = save_run(run, args.out, provenance="FER2013 official split (Training -> train/val; "
                                                  "PublicTest+PrivateTest -> test), scripts/train_classifier.py")
    print(f"test accuracy {run.test['accuracy']:.4f} macro-F1 {run.test['macro_f1']:.4f} "
          f"({run.history.images_per_second:.0f} img/s, {run.seconds / 60:.1f} min) -> {path}")


if __name__ == "__main__":
    main()
