"""Accuracy, macro-F1 and latency of a face checkpoint on a dataset's official test split.

    EMOLIB_DATA=/path/to/data python scripts/benchmark_classifier.py [--data DIR] [--checkpoint PT] [--write]

--write records the result beside the shipped checkpoint (face_classifier.json), which the README
quotes and a test checks.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from emolib.faces.classifier import DEFAULT_CHECKPOINT, load_classifier, scores
from emolib.config import checkpoints_dir
from emolib.faces.datasets import load_fer2013, load_image_folder, select_classes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="FER2013 folder/csv or any <split>/<class>/ image folder (default: $EMOLIB_DATA/fer2013)")
    ap.add_argument("--checkpoint")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    clf = load_classifier(args.checkpoint)
    data = load_fer2013(args.data) if args.data is None or "fer" in Path(args.data).name.lower() else load_image_folder(args.data)
    test = select_classes(data, clf.classes).of_split("test")
    start = time.perf_counter()
    probs = clf.predict_proba(test.images)
    seconds = time.perf_counter() - start
    s = scores(test.labels, probs.argmax(1), clf.classes)
    result = {"test_accuracy_official": round(s["accuracy"], 4), "test_macro_f1": round(s["macro_f1"], 4),
              "n_test": len(test), "ms_per_image_batched": round(1000 * seconds / len(test), 2),
              "per_class": s["per_class"], "confusion": s["confusion"], "classes": list(clf.classes),
              "input_blur": clf.input_blur}
    print(json.dumps(result, indent=1))
    if args.write:  # keep what training recorded (history, provenance), update the measured figures
        path = (checkpoints_dir() / DEFAULT_CHECKPOINT).with_suffix(".json")
        old = json.loads(path.read_text()) if path.is_file() else {}
        path.write_text(json.dumps({**old, **result}, indent=1))


if __name__ == "__main__":
    main()
