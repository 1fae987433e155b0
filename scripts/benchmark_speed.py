"""How fast each stage runs on this machine: the timings the README quotes (tests never assert a time).

    python scripts/benchmark_speed.py [--repeats 10] [--against CHECKPOINT.pt] [--write]

Warm figures are medians over --repeats calls after one call has loaded everything (as in the notebook demo):
- face classification, batched (256 faces, passed INFERENCE_BATCH at a time), per face, with and without
  mirrored-face averaging; then one view at each number of faces per forward pass;
- 16 bars from each model with compose's default decoding (its own thread, as compose runs it);
- a happy 16-bar piece (about 29 s of two-track audio) rendered to audio;
- a whole image-to-MIDI call on the sample face (detection, classification, 16 bars, MIDI);
- cold: `python -m emolib compose --image <sample face>` in a fresh process.
Each figure also has its minimum and maximum; on a busy machine the maximum grows, the median much less.
--against CHECKPOINT.pt times another face classifier (one view) in turn with the shipped one's one view, and the
ratio of their times pair by pair (the median of the ratios, so not the ratio of the two medians, nor of the first
row's time, which is timed apart): a machine running slower than usual moves both alike, so the ratio carries to
another day's figures (round 9 timed its four networks against round 7's three this way).
--write saves figures/speed.json; the README shows table() of it (a test checks).
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

import numpy as np

from emolib.faces.network import INFERENCE_BATCH, predict_proba

SWEEP_REPEATS = 5  # calls per batch size in the sweep (seven sizes; the table's rows take --repeats calls each)


def _stats(seconds: list[float]) -> dict:
    return {"median": round(statistics.median(seconds), 4), "min": round(min(seconds), 4), "max": round(max(seconds), 4)}


def timed(fn, repeats: int) -> dict:
    """Median, min and max seconds of `repeats` calls of fn(i), after one warm-up call."""
    fn(-1)
    seconds = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        seconds.append(time.perf_counter() - start)
    return _stats(seconds)


def in_turn_seconds(calls: dict, repeats: int) -> dict[object, list[float]]:
    """Seconds of each call, the calls taking turns (one of each per round, after a warm-up round that is not
    counted), so a machine that slows down or speeds up meanwhile moves them alike; the i-th entries are a round."""
    seconds = {key: [] for key in calls}
    for round_ in range(repeats + 1):
        for key, fn in calls.items():
            start = time.perf_counter()
            fn()
            if round_:
                seconds[key].append(time.perf_counter() - start)
    return seconds


def in_turn(calls: dict, repeats: int) -> dict:
    """Median, min and max seconds of each call, the calls taking turns (in_turn_seconds)."""
    return {key: _stats(s) for key, s in in_turn_seconds(calls, repeats).items()}


def batch_sweep(clf, faces: np.ndarray, sizes=(4, 8, 16, 32, 64, 128, 256)) -> dict:
    """Median seconds to read `faces` (one view) at each batch size, the sizes taking turns."""
    calls = {b: (lambda b=b: predict_proba(clf.model, faces, clf.image_size, batch_size=b)) for b in sizes}
    return {b: t["median"] for b, t in in_turn(calls, SWEEP_REPEATS).items()}


# the budgets, on the median of warm calls: a face in 20 ms; 16 bars in 0.1 s from the GAN and 0.5 s from the transformer
BUDGETS = {"face_ms_per_face": 20.0, "gan_seconds_per_16_bars": 0.1, "transformer_seconds_per_16_bars": 0.5}


def table(out: dict) -> str:
    """Markdown of the measured figures (the README shows exactly this table)."""
    def t(key: str, unit: str = "s", scale: float = 1.0, digits: int = 3) -> str:
        r = out[key]
        budget = (f"; budget {BUDGETS[key]:g} {unit}: {'met' if r['median'] <= BUDGETS[key] else 'MISSED'}"
                  if key in BUDGETS else "")
        return (f"{scale * r['median']:.{digits}f} {unit} (min {scale * r['min']:.{digits}f}, "
                f"max {scale * r['max']:.{digits}f}{budget})")

    networks = out.get("face_networks", 1)  # an ensemble pays one pass per network
    what = f"face classification{f' ({networks} networks averaged)' if networks > 1 else ''}, batched, per face"
    shipped = out.get("face_flip_tta")  # older speed.json files do not say which view ships
    mark = {view: " (as shipped)" if shipped is not None and shipped == view else "" for view in (False, True)}
    rows = [(f"{what}, one view{mark[False]}", t("face_ms_per_face", "ms", digits=2)),
            (f"... with mirrored-face averaging{mark[True]}", t("face_ms_per_face_flip", "ms", digits=2))]
    if "face_ms_per_face_against" in out:
        rows += [(f"... one view, the shipped classifier's time over {out['against']}'s "
                  f"({out['against_networks']} networks), timed in turn",
                  f"{out['against_ratio']['median']:.2f}x (min {out['against_ratio']['min']:.2f}, max "
                  f"{out['against_ratio']['max']:.2f}; " + (f"in turn {out['face_ms_per_face_in_turn']['median']:.2f} ms per face "
                  f"against " if "face_ms_per_face_in_turn" in out else "") +  # older files kept only the other's time
                  f"{out['face_ms_per_face_against']['median']:.2f} ms per face for it)")]
    rows += [(f"16 bars from the {k.split('_')[0]} (compose's defaults, warm)", t(k)) for k in out
             if k.endswith("_seconds_per_16_bars")]
    rows += [(f"rendering a happy 16-bar piece ({out['render_happy_16_bars_audio_seconds']} s of audio) to sound",
              t("render_happy_16_bars_seconds")),
             ("image to MIDI (detection, classification, 16 bars, MIDI), warm", t("image_to_midi_seconds")),
             ("cold command line, `python -m emolib compose --image ...`", f"{out['cold_cli_seconds']:.2f} s")]
    lines = [f"| what (median of {out['repeats']} warm calls) | time |", "|---|---|"]
    sweep = out.get("face_ms_per_face_by_batch")
    after = ["", f"Faces per forward pass (one view, median of {out.get('sweep_repeats', 5)} calls, ms per face; emolib passed "
             f"{out.get('inference_batch')} at a time): "
             + ", ".join(f"{b}: {ms:.2f}" for b, ms in sweep.items()) + "."] if sweep else []
    return "\n".join(lines + [f"| {a} | {b} |" for a, b in rows] + after)


def main() -> None:
    from emolib.config import ensure_dir, figures_dir
    from emolib.faces.classifier import load_classifier
    from emolib.music.models import registry as models
    from emolib.music.render.audio import synthesize
    from emolib.music.compose import compose_music
    from emolib.pipeline import SAMPLE_FACE, compose as compose_face

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=10, help="calls timed per row (at least 1)")
    ap.add_argument("--against", type=Path, metavar="CHECKPOINT.pt",
                    help="also time this face classifier (one view) in turn with the shipped one, and their ratio")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1: each row is the median of that many timed calls")
    out = {"repeats": args.repeats}

    clf = load_classifier()
    out["face_networks"] = len(getattr(clf.model, "members", [clf.model]))
    out["inference_batch"] = INFERENCE_BATCH
    faces = np.random.default_rng(0).integers(0, 255, (256, 48, 48), dtype=np.uint8)
    out["face_flip_tta"] = clf.flip_tta  # the view the shipped classifier reads: its row is marked
    views = in_turn({flip: (lambda flip=flip: predict_proba(clf.model, faces, clf.image_size, flip=flip))
                     for flip in (False, True)}, args.repeats)  # the two views take turns
    for flip, t in views.items():
        out[f"face_ms_per_face{'_flip' if flip else ''}"] = {k: round(1000 * v / len(faces), 2) for k, v in t.items()}
    if args.against:
        other = load_classifier(args.against)
        pairs = in_turn_seconds({key: (lambda m=m: predict_proba(m.model, faces, m.image_size))
                                 for key, m in (("shipped", clf), ("other", other))}, args.repeats)
        out["against"] = args.against.name
        out["against_networks"] = len(getattr(other.model, "members", [other.model]))
        out["face_ms_per_face_against"] = {k: round(1000 * v / len(faces), 2) for k, v in _stats(pairs["other"]).items()}
        out["face_ms_per_face_in_turn"] = {k: round(1000 * v / len(faces), 2) for k, v in _stats(pairs["shipped"]).items()}
        out["against_members"] = list(other.metrics.get("members", [args.against.name]))  # which networks it holds
        out["against_ratio"] = _stats([a / b for a, b in zip(pairs["shipped"], pairs["other"])])
    out["sweep_repeats"] = SWEEP_REPEATS
    out["face_ms_per_face_by_batch"] = {  # why predict_proba passes INFERENCE_BATCH faces at a time: one view
        str(b): round(1000 * seconds / len(faces), 2) for b, seconds in batch_sweep(clf, faces).items()}

    for name in models.MODELS:
        out[f"{name}_seconds_per_16_bars"] = timed(lambda i: compose_music("happy", seed=max(i, 0), model=name), args.repeats)

    happy = compose_music("happy", seed=0).midi
    out["render_happy_16_bars_seconds"] = timed(lambda i: synthesize(happy), args.repeats)
    out["render_happy_16_bars_audio_seconds"] = round(happy.get_end_time(), 1)

    with tempfile.TemporaryDirectory() as tmp:
        out["image_to_midi_seconds"] = timed(
            lambda i: compose_face(image=SAMPLE_FACE, seed=max(i, 0)).midi.write(str(Path(tmp) / "warm.mid")), args.repeats)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "emolib", "compose", "--image", str(SAMPLE_FACE), "--out",
                        str(Path(tmp) / "cold.mid")], check=True, capture_output=True)
        out["cold_cli_seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps(out, indent=1))
    print(table(out))
    if args.write:
        (ensure_dir(figures_dir()) / "speed.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
