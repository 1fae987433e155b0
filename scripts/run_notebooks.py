"""Execute the notebooks and store clean outputs: what a reader on GitHub sees.

    python scripts/run_notebooks.py [notebooks/02_emotion_classifier.ipynb ...] [--timeout 1200]

Each notebook is executed in place (fast mode unless EMOLIB_FAST is set otherwise), then its stored
outputs are cleaned: progress bars keep only their final line, audio players over 150 kB are
dropped (run the cell to listen), widget views keep their text form and
no widget state is stored, and no output shows this machine's folders. tests/test_notebooks.py checks
the stored notebooks for exactly these things.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDGET = "application/vnd.jupyter.widget-view+json"
MAX_AUDIO_CHARS = 150_000  # embedded audio players above this are dropped (megabytes of base64 nobody can play on GitHub)


def final_lines(text: str) -> str:
    """Keep what a terminal would show: within each line, only the text after its last carriage return."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def clean(nb, machine_paths: list[str]) -> None:
    """Clean a notebook's stored outputs in place (see the module docstring)."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = final_lines(out["text"])
                if not out["text"].strip():
                    continue
            data = out.get("data", {})
            if "<audio" in data.get("text/html", "") and len(data["text/html"]) > MAX_AUDIO_CHARS:
                out["data"] = data = {"text/plain": "[audio player: run this cell to listen]"}
            if WIDGET in data:
                data.pop(WIDGET)
                if not data or set(data) == {"text/plain"} and re.search(r"\d+%\|", data.get("text/plain", "")):
                    continue  # a progress-bar widget: its final state is printed by the code itself
            for key, value in list(data.items()):
                if isinstance(value, str) and key.startswith("text"):
                    data[key] = _strip(value, machine_paths)
            if "text" in out:
                out["text"] = _strip(out["text"], machine_paths)
            kept.append(out)
        cell["outputs"] = kept


def _strip(text: str, machine_paths: list[str]) -> str:
    for path in machine_paths:
        text = text.replace(path + os.sep, "").replace(path, ".")
    return text


def main() -> None:
    import nbformat
    from nbclient import NotebookClient

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--timeout", type=int, default=1200)
    ap.add_argument("--clean-only", action="store_true", help="clean the stored outputs without executing")
    args = ap.parse_args()
    paths = [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:  # before running any: a typo found after an hour of notebooks is an hour lost
        ap.error(f"no such notebook: {', '.join(missing)} (they are in {ROOT / 'notebooks'})")
    os.environ.setdefault("EMOLIB_FAST", "1")
    machine = [str(ROOT), str(ROOT.parent), str(Path.home())]
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        nb = nbformat.read(path, as_version=4)
        if not args.clean_only:
            NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        clean(nb, machine)
        nbformat.write(nb, path)
        print(f"  {path.name}: {path.stat().st_size / 1e3:.0f} kB", flush=True)


if __name__ == "__main__":
    sys.exit(main())
