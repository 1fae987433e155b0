"""Train the face-emotion classifier on FER2013 (official split) and save it with its report.

    EMOLIB_DATA=/path/to/data python scripts/train_classifier.py --out emolib/assets/checkpoints/face_classifier.pt

The same as `python -m emolib train-classifier` (emolib.faces.training.run). The shipped checkpoint holds three
networks made with it: round 1's (all seven FER2013 classes, the defaults of FaceConfig), the same settings with
`--epochs 12` (round 4), and round 2's settings, also for 12 epochs (`--labels ferplus_soft --soft-weight 0.5
--epochs 12`, round 6), joined by `scripts/ensemble_classifier.py`; then `scripts/validate_classifier.py --write
--keep-better-view` chose on validation faces to read one view of each face, and `scripts/choose_prior.py --write`
added angry's decision prior (round 7). Rerun these to reproduce the README's numbers (its rounds 1 to 7 give every
command). Every choice is made on the validation faces carved from the training split; the
official test split is scored once, at the end. An interrupted run (Ctrl-C, a closed laptop, a reboot)
loses at most one epoch: rerun the same command and it goes on from the last epoch it finished.
"""
from __future__ import annotations

import argparse

from emolib.errors import EmolibError
from emolib.faces.training import add_arguments, run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    try:
        run(ap.parse_args())
    except EmolibError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
