"""Judge the melody generators from what a listener hears, against real tunes they never learned from.

    python scripts/benchmark_music.py --targets [--seeds 16] [--split test] [--write]
    python scripts/benchmark_music.py --critic  [--seeds 16] [--split test] [--repeats 10] [--write]
    python scripts/benchmark_music.py --modal   [--repeats 10] [--write]

--targets: the form and emotion figures of each model's default output (compose's defaults: from bar 1, the model's
registered decoding, no post-processing) and with every aid off (--raw), 16 seeds x 4 emotions, beside the real
tunes of the corpus's held-out split (the first 16 bars of each): restated or closely varied bars, half cadence
at bar 8, a long tonic at the end, the longest note, notes per bar inside the real 5th-95th percentile, the share
of sixteenths and of rests, notes in the key, the heard mode against the requested valence (major and minor
apart), notes per bar of high- against low-arousal pieces. Each piece is written with the neutral rendering
(tempo 100, velocity 80, piano alone) and read back, so the figures are what a listener gets. --write saves
figures/music_targets.json (the README's table; a test keeps it true to the shipped models).

--critic: a classifier two-sample test (emolib.music.eval.critic: logistic regression on 30 documented melodic
features, 5-fold cross-validation, repeated on --repeats random draws) of each model's pieces against real
tunes: the corpus's held-out split (the same mix of emotions as the generated pieces) and a second collection
no model learned from (Aird's Airs, bundled with music21); with the controls real vs real (the held-out split
against the validation split) and real tunes with shuffled intervals. 0.5 = a critic cannot tell them apart,
1.0 = it always can. It also checks that the tunes are the models' own: the share of pieces that share a run of 16 or 32
consecutive notes (intervals and rhythm, in any key) with a training tune, beside the same for real held-out
tunes (folk tunes share formulas). --write saves figures/music_critic.json.

--split val makes the same comparisons against the validation split: that is where choices are made (decoding
settings, which training run to ship); test is for the final figures only.

--modal: the minor versions of major tunes the models also learn from (emolib.music.data.modes), judged by the same
critic against real minor tunes; --write saves figures/music_modal.json.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from emolib.music.eval import benchmark


def _real(split: str):
    from emolib.music.data.corpus import load_folk

    return [m for m in load_folk(split=split, progress=False) if m.bars >= 16]


def _sources(args, progress: bool = True) -> dict[str, tuple[list[dict], list]]:
    """Rows and pieces of each model's default output and raw output (or one model, another checkpoint, other
    decoding settings: how choices are tried on the validation split)."""
    from emolib.music.compose import compose_music
    from emolib.music.models.registry import MODELS

    names = args.models.split(",") if args.models else list(MODELS)
    decoding = json.loads(args.decoding) if args.decoding else None
    out = {}
    for name in names:
        for label, raw in (("default", False), ("raw", True)):
            if decoding and raw:
                continue
            out[f"{name}, {label}"] = benchmark.generated_rows(
                compose_music, seeds=args.seeds, model=name, raw=raw, rendering="neutral", progress=progress,
                checkpoint=args.checkpoint if len(names) == 1 else None, decoding=decoding)
    return out


def targets(args) -> dict:
    real = _real(args.split)
    real_rows = benchmark.real_rows(real)
    columns = {f"real ({args.split} split)": benchmark.targets_summary(real_rows, real_rows)}
    for label, (rows, _) in _sources(args).items():
        columns[label] = benchmark.targets_summary(rows, real_rows)
    real_summary = columns[f"real ({args.split} split)"]
    decoding = json.loads(args.decoding) if args.decoding else None
    for label in list(columns)[1:]:  # how much the seed says: first bars of one prompt over 8 seeds, per emotion
        name, kind = label.split(", ")
        checkpoint = args.checkpoint if args.models and len(args.models.split(",")) == 1 else None
        columns[label]["distinct_first_bars_of_8"] = min(
            benchmark.distinct_first_bars(name, e, None if kind == "raw" else decoding, raw=kind == "raw",
                                          checkpoint=checkpoint) for e in ("happy", "angry", "sad", "calm"))
    met = {label: benchmark.meets(col, real_summary) for label, col in columns.items() if not label.startswith("real")}
    print(benchmark.format_table(columns))
    print(json.dumps(met, indent=1))
    return {"split": args.split, "seeds_per_emotion": args.seeds, "columns": columns, "meets": met,
            "targets": {k: list(v) for k, v in benchmark.FORM_TARGETS.items()}}


def critic(args) -> dict:
    from emolib.music.data.corpus import load_held_out
    from emolib.music.eval import copying
    from emolib.music.eval import critic as C
    from emolib.music.eval.critic import shuffled_intervals
    from emolib.music.eval.features import FEATURES, matrix

    real = _real(args.split)
    other = _real("val" if args.split == "test" else "train")
    aird = [m for m in load_held_out(progress=False) if m.bars >= 16]
    by_emotion = {e: [m for m in real if m.quadrant.name == e] for e in ("happy", "angry", "sad", "calm")}
    x_real = {e: matrix([benchmark.heard(m.roll[:256]) for m in ms]) for e, ms in by_emotion.items()}
    x_other = matrix([benchmark.heard(m.roll[:256]) for m in other])
    x_aird = matrix([benchmark.heard(m.roll[:256]) for m in aird])
    rng = np.random.default_rng(0)
    shuffled = matrix([benchmark.heard(shuffled_intervals(m.roll[:256], rng, from_bar=0)) for m in real])

    def matched(x_gen_by_emotion: dict[str, np.ndarray]) -> dict:
        """The test on equal numbers per emotion: as many of each as both sides have (at most seeds)."""
        a, b = [], []
        for e, xg in x_gen_by_emotion.items():
            n = min(len(xg), len(x_real[e]), args.seeds)
            a.append(xg[:n])
            b.append(x_real[e])
        return C.critic_matched(a, b, repeats=args.repeats)

    from emolib.music.data.corpus import load_folk

    train_index = copying.copy_index([m.roll[:256] for m in load_folk(split="train", progress=False)])
    rows, copies = {}, {f"real ({args.split} split)": copying.copying([m.roll[:256] for m in real], train_index)}
    for label, (feature_rows, pieces) in _sources(args).items():
        x = matrix([benchmark.heard(p.roll) for p in pieces])
        emotions = np.array([p.emotion for p in pieces])
        rows[f"{label} vs real"] = matched({e: x[emotions == e] for e in by_emotion})
        rows[f"{label} vs Aird's Airs"] = C.critic(x, x_aird, n=len(x), repeats=args.repeats)
        copies[label] = copying.copying([p.roll for p in pieces], train_index)
    all_real = np.concatenate(list(x_real.values()))
    rows["real vs real (another split)"] = C.critic(all_real, x_other, n=64, repeats=args.repeats)
    rows["real vs Aird's Airs"] = C.critic(all_real, x_aird, n=64, repeats=args.repeats)
    rows["real with shuffled intervals vs real"] = C.critic(shuffled, x_other, n=64, repeats=args.repeats)
    for label, r in rows.items():
        print(f"{label:45s} {r['accuracy']:.2f} ± {r['spread']:.2f} (n = {r['n']} + {r['n']})")
    for label, c in copies.items():
        print(f"{label:45s} shares 16+ notes with a training tune: {c['share_16_notes']:.0%}, 32+: {c['share_32_notes']:.0%}")
    return {"split": args.split, "seeds_per_emotion": args.seeds, "features": FEATURES, "rows": rows, "copying": copies,
            "target": 0.80, "real_tunes": {"split": len(real), "other split": len(other), "Aird's Airs": len(aird)}}


def modal(args) -> dict:
    """Major tunes moved into minor as the models learn them (emolib.music.data.modes: matched in style to real minor
    tunes) against real minor tunes of the training split, arousal by arousal: the critic should tell them apart no
    better than it tells two halves of the real minor tunes apart. Two contrasts: major tunes drawn at random and moved
    into minor, and the real major tunes as they are."""
    from emolib.music.data.corpus import load_folk
    from emolib.music.data.modes import in_minor, minor_versions
    from emolib.music.eval import critic as C
    from emolib.music.eval.features import matrix
    from emolib.music.notes.key import detect_key

    tunes = load_folk(split="train", progress=False)
    rng = np.random.default_rng(0)
    halves, matched_moved, random_moved, major = ([], []), [], [], []
    for arousal in (1, -1):
        minor = [m for m in tunes if m.mode == "minor" and m.quadrant.arousal == arousal]
        majors = [m for m in tunes if m.mode == "major" and m.quadrant.arousal == arousal]
        order = rng.permutation(len(minor))
        a, b = [minor[i] for i in order[:len(order) // 2]], [minor[i] for i in order[len(order) // 2:]]
        picked = [majors[i] for i in rng.choice(len(majors), len(a), replace=False)]
        halves[0].append(a)
        halves[1].append(b)
        matched_moved.append(minor_versions(a + majors, per_tune=1))  # matched to half a, judged against half b
        random_moved.append([in_minor(m) for m in picked])
        major.append(picked)

    def x(pieces):
        return matrix([benchmark.heard(m.roll[:256]) for m in pieces])

    real_b = [x(b) for b in halves[1]]
    rows = {label: C.critic_matched([x(g) for g in groups], real_b, repeats=args.repeats) for label, groups in (
        ("real minor vs real minor (two halves)", halves[0]),
        ("major moved into minor, matched in style (as trained) vs real minor", matched_moved),
        ("major moved into minor, drawn at random vs real minor", random_moved),
        ("real major vs real minor", major))}
    heard_minor = {name: float(np.mean([detect_key(benchmark.heard(m.roll[:256]), tonic=m.tonic)[1] == "minor"
                                        for group in groups for m in group]))
                   for name, groups in (("real minor", halves[0] + halves[1]), ("moved into minor", matched_moved))}
    for label, r in rows.items():
        print(f"{label:70s} {r['accuracy']:.2f} ± {r['spread']:.2f} (n = {r['n']} + {r['n']})")
    print("heard minor at the tune's tonic:", heard_minor)
    return {"rows": rows, "heard_minor": heard_minor, "tunes_per_side": sum(len(a) for a in halves[0])}


def shipped() -> dict:
    """What the figures were measured on: each shipped checkpoint's SHA-256 and the decoding compose uses with it
    (tests/test_readme_tables.py checks them against the files that ship)."""
    import hashlib

    from emolib.music.models.registry import MODELS, checkpoint_path

    return {name: {"sha256": hashlib.sha256(checkpoint_path(name).read_bytes()).hexdigest(),
                   "decoding": spec.default_decoding()} for name, spec in MODELS.items()}


def main() -> None:
    from emolib.config import ensure_dir, figures_dir

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--targets", action="store_true")
    what.add_argument("--critic", action="store_true")
    what.add_argument("--modal", action="store_true")
    ap.add_argument("--seeds", type=int, help="pieces per emotion (default 16)")
    ap.add_argument("--split", default="test", choices=["val", "test"], help="the real tunes compared with")
    ap.add_argument("--repeats", type=int, default=10, help="--critic: random draws the test is repeated on")
    ap.add_argument("--models", help="--targets/--critic: only these models (comma-separated)")
    ap.add_argument("--checkpoint", help="another checkpoint (with --models naming one model); not with --write")
    ap.add_argument("--decoding", help='--targets/--critic: decoding settings as JSON, e.g. \'{"temperature": 0.9}\'')
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    args.seeds = args.seeds or 16
    result = targets(args) if args.targets else critic(args) if args.critic else modal(args)
    if args.write:
        if args.split != "test" or args.checkpoint or args.decoding or args.models:
            ap.error("--write records the shipped models' final figures, on the test split")
        name = "music_targets.json" if args.targets else "music_critic.json" if args.critic else "music_modal.json"
        if not args.modal:
            result["shipped"] = shipped()
        (ensure_dir(figures_dir()) / name).write_text(json.dumps(result, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
