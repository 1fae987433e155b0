"""The README's figures are data: each generated block is what its JSON renders to (scripts/readme_tables.py), and
each JSON was measured on what ships. No README sentence is checked; rewording the prose never fails a test."""
import hashlib
import json
from pathlib import Path

import pytest
from conftest import script

ROOT = Path(__file__).resolve().parents[1]


TABLES = script("readme_tables")


@pytest.mark.parametrize("name", list(TABLES.BLOCKS))
def test_each_readme_block_is_what_its_json_renders_to(name):
    have = TABLES.blocks((ROOT / "README.md").read_text())
    assert name in have, f"README.md lost its <!-- {name} --> block"
    assert have[name] == TABLES.BLOCKS[name]().strip("\n"), \
        f"the {name} block is not its JSON's: run python scripts/readme_tables.py --write"


def test_blocks_are_found_and_rewritten_between_their_markers():
    text = "intro\n<!-- speed -->\nold\n<!-- /speed -->\nafter <!-- other -->\nx\n<!-- /other -->\n"
    assert TABLES.blocks(text) == {"speed": "old", "other": "x"}
    new = TABLES.rewrite(text, "speed", "| a | b |\n")
    assert TABLES.blocks(new) == {"speed": "| a | b |", "other": "x"} and new.startswith("intro\n")
    with pytest.raises(SystemExit, match="no <!-- faces -->"):
        TABLES.rewrite(text, "faces", "y")


def _shipped_classifier() -> dict:
    import torch

    return torch.load(ROOT / "emolib/assets/checkpoints/face_classifier.pt", weights_only=True)


def test_the_face_figures_were_measured_on_the_shipped_classifier():
    """The benchmark in face_classifier.json read the shipped checkpoint as it is: its classes, its view, its prior,
    its networks (the regression test in test_faces.py scores the test split again when FER2013 is present)."""
    report = TABLES.face_report()
    bench, ckpt = report["benchmark"], _shipped_classifier()
    assert tuple(bench["classes"]) == tuple(ckpt["classes"])
    assert bench["flip_tta"] == ckpt["config"]["flip_tta"]
    assert (bench.get("decision_prior") or {}) == (ckpt.get("decision_prior") or {})
    assert [m["name"] for m in report["members"]] == [m["name"] for m in ckpt["members"]]
    assert bench["n_test"] == bench["all"]["n"] == 7178 and len(bench["samples"]["faces"]) == 16


def test_the_speed_figures_timed_the_shipped_classifier():
    speed, ckpt = json.loads((ROOT / "figures/speed.json").read_text()), _shipped_classifier()
    assert (speed["face_networks"], speed["face_flip_tta"]) == (len(ckpt.get("members", [None])), ckpt["config"]["flip_tta"]), \
        "the shipped classifier changed since speed.json was written: rerun scripts/benchmark_speed.py --write"


@pytest.mark.parametrize("name", ["music_targets.json", "music_critic.json"])
def test_the_music_figures_were_measured_on_the_shipped_models_and_their_decoding(name):
    from emolib.music.models.registry import MODELS, checkpoint_path

    stored = json.loads((ROOT / "figures" / name).read_text())
    assert stored["split"] == "test", "the README's music figures are the test split's"
    for model, spec in MODELS.items():
        then = stored["shipped"][model]
        assert then["sha256"] == hashlib.sha256(checkpoint_path(model).read_bytes()).hexdigest(), \
            f"{model}'s checkpoint changed since {name} was written: rerun scripts/benchmark_music.py --write"
        assert then["decoding"] == spec.default_decoding(), f"{model}'s default decoding changed since {name} was written"
