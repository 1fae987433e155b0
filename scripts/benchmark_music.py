"""Judge a melody generator on issue 4's targets: 6 seeds x 4 emotions at 16 bars, from the MIDI files.

    python scripts/benchmark_music.py [--model gan|transformer] [--checkpoint PT] [--write]

--write records the summary beside the shipped checkpoint (<checkpoint>.json), which the README quotes.
"""
from __future__ import annotations

import argparse
import json
import tempfile

from emolib.music import benchmark
from emolib.pipeline import compose


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gan")
    ap.add_argument("--checkpoint")
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--out", help="folder for the MIDI files (default: a temporary folder)")
    ap.add_argument("--grid", type=int, help="GAN rhythmic grid in steps (default: each quadrant's; 1 = raw output)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = benchmark.run(lambda e, s: compose(emotion=e, seed=s, bars=args.bars, model=args.model,
                                                  checkpoint=args.checkpoint, grid=args.grid),
                             args.out or tmp, seeds=args.seeds, bars=args.bars)
    result = benchmark.summary(rows, args.bars)
    result["onsets_per_bar"] = {e: round(float(sum(r["onsets_per_bar"] for r in rows if r["emotion"] == e) / args.seeds), 2)
                                for e in sorted({r["emotion"] for r in rows})}
    result["grid"] = args.grid or "per quadrant"
    result["per_emotion"] = {e: {k: round(float(sum(r[k] for r in rows if r["emotion"] == e) / args.seeds), 3)
                                 for k in ("mode_match", "scale_consistency", "qualified_note_rate", "note_density")}
                             for e in sorted({r["emotion"] for r in rows})}
    print(json.dumps(result, indent=1))
    if args.write:
        from emolib.pipeline import checkpoint_path

        checkpoint_path(args.model, args.checkpoint).with_suffix(".json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
