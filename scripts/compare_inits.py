"""Which start trains better: ImageNet-pretrained EfficientNet-Lite0 weights (offline) or random init?

    EMOLIB_DATA=/path/to/data python scripts/compare_inits.py [--inits lite0 random] [--seeds 0 1 2] [--max-train 6000] [--epochs 4] [--write]

Same data (FER2013 official split, all seven classes, a stratified cap on training images), same budget;
only the starting weights differ, and each start is trained with several seeds (the sample, the order
and the new head differ per seed), so a difference can be told from seed-to-seed noise. `imagenet` (efficientnet-pytorch's weights from the hub) can be added when
online. --write saves figures/02_init_comparison.json, which notebook 02 plots.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace

from emolib.config import ensure_dir, figures_dir, load
from emolib.faces.data import load_faces
from emolib.faces.training import FaceConfig, fit_and_evaluate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inits", nargs="+", default=["lite0", "random"])
    ap.add_argument("--max-train", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--image-size", type=int, default=48)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    data, name = load_faces()
    result = {"data": name, "max_train": args.max_train, "epochs": args.epochs, "image_size": args.image_size,
              "seeds": args.seeds, "runs": {}}
    for init in args.inits:
        result["runs"][init] = []
        for seed in args.seeds:
            cfg = replace(load(FaceConfig), init=init, max_train=args.max_train, epochs=args.epochs,
                          image_size=args.image_size, patience=args.epochs, seed=seed)
            run = fit_and_evaluate(data, cfg)
            result["runs"][init].append({"seed": seed, "test_accuracy": run.test["accuracy"],
                                         "test_macro_f1": run.test["macro_f1"], "val_acc": run.history.val_acc,
                                         "train_loss": run.history.train_loss, "val_loss": run.history.val_loss,
                                         "seconds": round(run.seconds)})
            print(f"{init} seed {seed}: test accuracy {run.test['accuracy']:.3f}, macro-F1 {run.test['macro_f1']:.3f}, "
                  f"val acc per epoch {[round(a, 3) for a in run.history.val_acc]}", flush=True)
    if args.write:
        (ensure_dir(figures_dir()) / "02_init_comparison.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
