"""The README's figures, rendered from the JSON the benchmark scripts wrote.

    python scripts/readme_tables.py           # lists the blocks that differ from their JSON
    python scripts/readme_tables.py --write   # rewrites them in README.md

Each block sits between `<!-- name -->` and `<!-- /name -->` in README.md and is made by one function below from one
stored result: the face classifier's test figures and sample faces (scripts/benchmark_classifier.py --write, kept in
emolib/assets/checkpoints/face_classifier.json), the melody targets and the critic (scripts/benchmark_music.py
--targets/--critic --write, figures/music_targets.json and music_critic.json) and speed (scripts/benchmark_speed.py
--write, figures/speed.json). tests/test_readme_tables.py checks that every block is what its JSON renders to, and
that each JSON was made from the checkpoints that ship.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def script(name: str):
    """A script of scripts/ imported as a module (the benchmark scripts own their tables' formatting)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored(path: Path) -> dict:
    if not path.is_file():
        raise SystemExit(f"error: {path.relative_to(ROOT)} is missing: run the script that writes it with --write")
    return json.loads(path.read_text())


def face_report() -> dict:
    return stored(ROOT / "emolib/assets/checkpoints/face_classifier.json")


def faces() -> str:
    return script("benchmark_classifier").readme_table(face_report()["benchmark"])


def sample_faces() -> str:
    return script("benchmark_classifier").samples_line(face_report()["benchmark"]["samples"])


def music_targets() -> str:
    from emolib.music.eval.benchmark import format_table

    result = stored(ROOT / "figures/music_targets.json")
    lines = [format_table(result["columns"]), ""]
    for source, met in result["meets"].items():
        missed = [k.replace("_", " ") for k, ok in met.items() if not ok]
        lines.append(f"- **{source}**: meets {len(met) - len(missed)} of {len(met)} targets"
                     + (f"; misses {', '.join(missed)}" if missed else ""))
    return "\n".join(lines)


def music_critic() -> str:
    from emolib.music.eval.benchmark import format_rows

    result = stored(ROOT / "figures/music_critic.json")
    verdicts = [f"{label.removesuffix(' vs real')} {r['accuracy']:.2f} "
                f"({'met' if r['accuracy'] <= result['target'] else 'missed'})"
                for label, r in result["rows"].items() if label.endswith(", default vs real")]
    return format_rows(result) + f"\n\nTarget: at most {result['target']:.2f} for each model's default output: " + \
        "; ".join(verdicts) + "."


def music_modal() -> str:
    result = stored(ROOT / "figures/music_modal.json")
    lines = ["| minor tunes, against real minor tunes of the training split | critic accuracy (0.5 = cannot tell) | spread |",
             "|---|---|---|"]
    lines += [f"| {label} | {r['accuracy']:.2f} | {r['spread']:.2f} |" for label, r in result["rows"].items()]
    heard = ", ".join(f"{name} {share:.0%}" for name, share in result["heard_minor"].items())
    return "\n".join(lines) + f"\n\nHeard minor at the tune's tonic: {heard} ({result['tunes_per_side']} tunes a side)."


def speed() -> str:
    return script("benchmark_speed").table(stored(ROOT / "figures/speed.json"))


BLOCKS = {"faces": faces, "sample_faces": sample_faces, "music_targets": music_targets, "music_critic": music_critic,
          "music_modal": music_modal, "speed": speed}


def blocks(text: str) -> dict[str, str]:
    """Each generated block of a README text, by name (without its markers)."""
    return {m.group(1): m.group(2).strip("\n") for m in re.finditer(r"<!-- (\w+) -->\n(.*?)<!-- /\1 -->", text, re.S)}


def rewrite(text: str, name: str, body: str) -> str:
    """The text with one block's content replaced."""
    pattern = re.compile(rf"(<!-- {name} -->\n).*?(<!-- /{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"error: README.md has no <!-- {name} --> ... <!-- /{name} --> block")
    return pattern.sub(lambda m: m.group(1) + body.strip("\n") + "\n" + m.group(2), text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="rewrite the blocks in README.md")
    args = ap.parse_args()
    text = README.read_text()
    have = blocks(text)
    stale = [name for name, render in BLOCKS.items() if have.get(name) != render().strip("\n")]
    if args.write:
        for name in stale:
            text = rewrite(text, name, BLOCKS[name]())
        README.write_text(text)
        print("rewritten:", ", ".join(stale) or "none (all blocks were current)")
    else:
        print("blocks that differ from their JSON:", ", ".join(stale) or "none")


if __name__ == "__main__":
    main()
