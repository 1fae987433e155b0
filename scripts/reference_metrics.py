"""Reference values of every music metric, per quadrant, on the folk corpus and (when present) EMOPIA.

    EMOLIB_DATA=/path/to/data python scripts/reference_metrics.py [--write]

Metrics are computed on each piece's melody line (EMOPIA: the skyline), the same way generated
melodies are judged. --write saves figures/reference_metrics.json, which the README's table quotes.
"""
from __future__ import annotations

import argparse
import json

from emolib.config import ensure_dir, figures_dir, load
from emolib.music.data.corpus import CorpusConfig
from emolib.music.eval.benchmark import melody_rows, reference_table
from emolib.music.data.corpus import load_folk

SHOWN = ("n", "pitch_class_entropy", "scale_consistency", "qualified_note_rate", "empty_beat_rate",
         "polyphony", "notes_per_beat", "groove_consistency", "minor_share")


def markdown(name: str, table: dict) -> str:
    lines = [f"**{name}**", "", "| quadrant | " + " | ".join(k.replace("_", " ") for k in SHOWN) + " |",
             "|---" * (len(SHOWN) + 1) + "|"]
    for q, t in table.items():
        cells = [str(int(t["n"][0])) if k == "n" else f"{t[k][0]:.2f}" + (f" ± {t[k][1]:.2f}" if k != "minor_share" else "")
                 for k in SHOWN]
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    result = {"folk": reference_table(melody_rows(load_folk(load(CorpusConfig))))}
    from emolib.music.data.emopia import emopia_available, load_emopia

    if emopia_available():
        result["emopia"] = reference_table(melody_rows(load_emopia()))
    else:
        print("EMOPIA not found (set EMOLIB_DATA): folk corpus only")
    for name, table in result.items():
        print(markdown(name, table), "\n")
    if args.write:
        (ensure_dir(figures_dir()) / "reference_metrics.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
