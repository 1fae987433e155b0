"""Train the face-emotion classifier on FER2013 (official split) and save it with its report.

    EMOLIB_DATA=/path/to/data python scripts/train_classifier.py --out runs/face_classifier.pt [--epochs 12 ...]

The same as `python -m emolib train-classifier` (the options are its options). Every choice is made on the validation
faces carved from the training split; the official test split is scored once, at the end. An interrupted run (Ctrl-C,
a closed laptop, a reboot) loses at most one epoch: rerun the same command and it goes on from the last epoch it
finished. Which networks the shipped classifier holds, and how each was made, is in the README's Faces section.
"""
from __future__ import annotations

import sys

from emolib.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["train-classifier", *sys.argv[1:]]))
