"""Time the image-to-MIDI pipeline: a cold command-line call and warm in-process calls.

    python scripts/time_pipeline.py [--model gan|transformer] [--repeats 10] [--write]

Cold: `python -m emolib compose --image <sample face>` in a fresh process (imports, model loading,
face detection, classification, generation, MIDI writing). Warm: pipeline.compose on the sample
face after one call has loaded everything, as in the notebook demo. --write saves
figures/pipeline_timing.json, which the README quotes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emolib.config import figures_dir
from emolib.pipeline import SAMPLE_FACE, compose


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gan")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "emolib", "compose", "--image", str(SAMPLE_FACE), "--model", args.model,
                        "--out", str(Path(tmp) / "cold.mid")], check=True, capture_output=True)
        cold = time.perf_counter() - start
        compose(image=SAMPLE_FACE, model=args.model)  # load everything once
        warm = []
        for seed in range(args.repeats):
            start = time.perf_counter()
            r = compose(image=SAMPLE_FACE, seed=seed, model=args.model)
            r.midi.write(str(Path(tmp) / f"warm{seed}.mid"))
            warm.append(time.perf_counter() - start)
    result = {"model": args.model, "cold_cli_seconds": round(cold, 2),
              "warm_median_seconds": round(statistics.median(warm), 3), "warm_max_seconds": round(max(warm), 3),
              "repeats": args.repeats, "bars": 16}
    print(json.dumps(result, indent=1))
    if args.write:
        path = figures_dir() / "pipeline_timing.json"
        old = json.loads(path.read_text()) if path.is_file() else {}
        old[args.model] = result
        path.write_text(json.dumps(old, indent=1))


if __name__ == "__main__":
    main()
