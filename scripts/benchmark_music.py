"""Judge the melody generators from the MIDI files they write.

    python scripts/benchmark_music.py [--model gan|transformer] [--checkpoint PT] [--write]
    python scripts/benchmark_music.py --listener [--seeds 8] [--checkpoint GAN.pt] [--write]

Default: issue 4's targets for one model (6 seeds x 4 emotions, expressive rendering); --write records
the summary beside the checkpoint (<checkpoint>.json), which the README quotes.

--listener: the melody figures a listener hears, for the GAN, the transformer and real folk tunes side
by side, over bars 5-16 (what a model wrote after the 4-bar opening), each piece written as a MIDI file
with the neutral rendering (tempo 100, velocity 80, piano alone, no rhythmic grid, no snapping to the
key) and read back: interval sizes, leaps, steps, range, restated bars, tonic endings, long notes at the
phrase ends (bars 8 and 16) against other bars, notes per bar of high- vs low-arousal pieces, the
melody's mode against the requested valence, the overlapping area with the real tunes' distributions
(Yang & Lerch 2018), and real tunes with shuffled intervals as a no-contour baseline. --write saves
figures/music_listener.json (the README's table and the tests read it). With --checkpoint the GAN
columns use that generator (how the README's retraining trials were measured; not with --write).
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from emolib.music import benchmark


def issue4(args) -> None:
    from emolib.music.compose import compose
    from emolib.music.models import checkpoint_path

    decoding = {"grid": args.grid} if args.grid else None
    with tempfile.TemporaryDirectory() as tmp:
        rows = benchmark.run(lambda e, s: compose(e, seed=s, bars=args.bars, model=args.model,
                                                  checkpoint=args.checkpoint, decoding=decoding),
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
        checkpoint_path(args.model, args.checkpoint).with_suffix(".json").write_text(json.dumps(result, indent=1))


def listener(args) -> None:
    from emolib.config import ensure_dir, figures_dir
    from emolib.music.corpus import load_folk

    real = [m for m in load_folk(progress=False) if m.bars >= 16]
    with tempfile.TemporaryDirectory() as tmp:
        result = benchmark.listener_table(real, Path(args.out or tmp), seeds=args.seeds, max_real=args.max_real,
                                          gan_checkpoint=args.checkpoint)
    print(benchmark.format_listener(result))
    if args.write:
        (ensure_dir(figures_dir()) / "music_listener.json").write_text(json.dumps(result, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listener", action="store_true", help="the listener's figures for GAN, transformer and real tunes")
    ap.add_argument("--model", default="gan")
    ap.add_argument("--checkpoint")
    ap.add_argument("--seeds", type=int, help="pieces per emotion (default 6; 8 with --listener)")
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--max-real", type=int, default=800, help="--listener: real tunes measured (a seeded sample)")
    ap.add_argument("--out", help="folder for the MIDI files (default: a temporary folder)")
    ap.add_argument("--grid", type=int, help="GAN rhythmic grid in steps (default: each quadrant's; 1 = raw output)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    if args.listener:
        if args.write and args.checkpoint:
            ap.error("--listener --write records the shipped models; measure another checkpoint without --write")
        args.seeds = args.seeds or 8
        listener(args)
    else:
        args.seeds = args.seeds or 6
        issue4(args)


if __name__ == "__main__":
    main()
