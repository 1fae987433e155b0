"""The numbers the README quotes are the ones the scripts wrote: each table is the JSON's own formatting."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _stored(name: str) -> dict:
    path = ROOT / "figures" / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run the script that writes it with --write (README, where it is quoted)")
    return json.loads(path.read_text())


def test_the_readme_music_targets_table_is_music_targets_json():
    from emolib.music.benchmark import format_table

    stored = _stored("music_targets.json")
    assert stored["split"] == "test"
    assert format_table(stored["columns"]) in README, "rerun scripts/benchmark_music.py --targets and paste its table"


def test_the_readme_critic_table_is_music_critic_json():
    from emolib.music.critic import format_rows

    stored = _stored("music_critic.json")
    assert stored["split"] == "test"
    assert format_rows(stored) in README, "rerun scripts/benchmark_music.py --critic and paste its table"


def _shipped_report() -> dict:
    """The shipped classifier's report: its training history and the benchmark's figures."""
    return json.loads((ROOT / "emolib/assets/checkpoints/face_classifier.json").read_text())


def _script(name: str):
    """A script of scripts/ imported as a module (its table formatting is what the README must hold)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_the_readme_speed_table_is_speed_json():
    assert _script("benchmark_speed").table(_stored("speed.json")) in README, "rerun scripts/benchmark_speed.py --write and paste its table"


def test_the_readme_sample_face_figures_are_the_classifier_json():
    stored = _shipped_report()["benchmark"]["samples"]
    line = _script("benchmark_classifier").samples_line(stored)
    assert f"**{sum(f['predicted'] == f['expected'] for f in stored['faces'])} of 16**" in line  # all 16 were scored
    assert line in README, "rerun scripts/benchmark_classifier.py --write and paste its sample-face line"


@pytest.mark.parametrize("name", ["02_choices.json", "02_choices_round2.json"])
def test_the_readme_classifier_choices_are_the_choices_json(name):
    """Each row of the README's "What was tried" tables is a run scripts/classifier_choices.py recorded."""
    stored = _stored(name)
    assert stored.get("complete", True), f"{name} holds an interrupted run: rerun scripts/classifier_choices.py"
    for variant, r in stored["runs"].items():
        seven = "-" if r["val_acc"] is None else f"{r['val_acc_no_flip']:.3f} / {r['val_acc']:.3f}"
        assert f"| {variant} | {seven} | {r['val_acc_happy_sad_angry']:.3f} |" in README, variant
    assert f"{stored['max_train']:,} training faces, {stored['epochs']} epochs" in README


def test_the_readme_classifier_table_is_the_classifier_json():
    script = _script("benchmark_classifier")
    stored = _shipped_report()["benchmark"]
    assert script.readme_table(stored) in README, "rerun scripts/benchmark_classifier.py --write and paste its table"


def test_the_readme_validation_table_is_the_validation_json_and_the_shipped_view_is_its_choice():
    """The shipped checkpoint, its view and the rule's verdict are read from the validation faces only (the test
    split is not in it)."""
    import torch

    rows = _stored("02_validation.json")
    v = _script("validate_classifier")
    assert v.table(rows) in README, "rerun scripts/validate_classifier.py --write and paste its table"
    shipped = torch.load(ROOT / "emolib/assets/checkpoints/face_classifier.pt", weights_only=True)
    assert rows[0]["checkpoint"] == "emolib/assets/checkpoints/face_classifier.pt"
    assert rows[0].get("members") == shipped["metrics"].get("members")  # the first row is the checkpoint as shipped
    assert shipped["config"]["flip_tta"] == (v.better_view(rows[0]) == "mirrored")
    assert "which stays" in v.decision(rows)  # no candidate in the table beats it on validation
    round2 = _stored("02_round2_run.json")["history"]
    round1 = next(m for m in _shipped_report()["members"] if m["name"] == "face_classifier_round1.pt")["history"]
    assert max(round2["val_f1"]) <= max(round1["val_f1"])  # round 2's rule kept round 1's network on its own


def test_the_readme_figures_of_round_1s_network_alone_are_its_own_benchmark():
    """Round 1's network was scored alone (mirrored) while it was shipped; the ensemble's report keeps that benchmark."""
    alone = next(m for m in _shipped_report()["members"] if m["name"] == "face_classifier_round1.pt")["benchmark_alone"]
    a, h, f = (100 * alone[k]["accuracy"] for k in ("all", "happy_sad_angry", "ferplus_majority"))
    assert alone["flip_tta"] and f"round 1's network alone scored {a:.1f} % and {h:.1f} % reading each face with its mirror " \
        f"({f:.1f} % against FER+)" in " ".join(README.split())
