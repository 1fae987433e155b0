"""The decision prior: b added to a class's log-probability after the networks, chosen by scripts/choose_prior.py."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from emolib.errors import EmolibError
from emolib.faces.classifier import load_classifier
from emolib.faces.network import build_model, predict_proba
from emolib.faces.prior import apply_prior
from emolib.faces.training import FaceConfig, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def _script():
    spec = importlib.util.spec_from_file_location("choose_prior", ROOT / "scripts" / "choose_prior.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_a_prior_multiplies_one_class_by_e_to_the_b_and_renormalises():
    probs = np.array([[0.30, 0.10, 0.05, 0.05, 0.35, 0.05, 0.10], [0.90, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01]])
    assert apply_prior(probs, CLASSES, {}) is probs  # no prior: the networks' answer as it is
    moved = apply_prior(probs, CLASSES, {"angry": math.log(2)})
    assert np.allclose(moved.sum(1), 1)
    assert np.allclose(moved[:, 0] / moved[:, 4], 2 * probs[:, 0] / probs[:, 4])  # angry's odds against sad doubled
    assert np.allclose(moved[:, 1:] / moved[:, [4]], probs[:, 1:] / probs[:, [4]])  # the others keep their ratios
    assert probs[0].argmax() == 4 and moved[0].argmax() == 0  # a face nearly angry now reads as angry
    assert np.allclose(apply_prior(moved, CLASSES, {"angry": -math.log(2)}), probs)  # -b undoes b
    assert apply_prior(probs.astype(np.float32), CLASSES, {"angry": 0.1}).dtype == np.float32  # as predict_proba returns
    with pytest.raises(ValueError, match="'rage', which is not one of"):
        apply_prior(probs, CLASSES, {"rage": 0.1})


def _checkpoint(path: Path, **config) -> Path:
    torch.manual_seed(1)
    net = build_model(len(CLASSES), init="lite0", image_size=48, load_weights=False).eval()
    save_checkpoint(net, path, classes=CLASSES, cfg=FaceConfig(image_size=48))
    ckpt = torch.load(path, weights_only=True)
    ckpt["config"].update(config)
    torch.save(ckpt, path)
    return path


def test_the_classifier_applies_the_prior_its_checkpoint_stores_after_the_networks(tmp_path):
    faces = np.random.default_rng(0).integers(0, 255, (5, 48, 48), dtype=np.uint8)
    plain = load_classifier(_checkpoint(tmp_path / "plain.pt"))
    moved = load_classifier(_checkpoint(tmp_path / "moved.pt", decision_prior={"angry": 0.7}))
    assert plain.decision_prior == {} and moved.decision_prior == {"angry": 0.7}
    networks = predict_proba(moved.model, faces, 48)  # the networks' answer, without the prior
    assert np.allclose(networks, plain.predict_proba(faces), atol=1e-6)
    assert np.allclose(moved.predict_proba(faces), apply_prior(networks, CLASSES, {"angry": 0.7}), atol=1e-6)
    assert (moved.predict_proba(faces)[:, 0] > networks[:, 0]).all()


@pytest.mark.parametrize("prior", [{"rage": 0.2}, {"angry": "0.2"}, {"angry": float("nan")}, {"angry": 9.0}, [0.2], {"angry": True}])
def test_a_damaged_prior_is_one_clear_error(tmp_path, prior):
    with pytest.raises(EmolibError, match="decision_prior .* is not a map of class names to numbers") as err:
        load_classifier(_checkpoint(tmp_path / "bad.pt", decision_prior=prior))
    assert "ensemble_classifier.py --force" in err.value.hint  # the fix named does not need the damaged file


def _row(b: float, accuracy: float, macro_f1: float, three: float, angry: float, sad: float = 0.8) -> dict:
    return {"b": b, "accuracy": accuracy, "macro_f1": macro_f1, "happy_sad_angry": three,
            "recall": {"happy": 0.9, "sad": sad, "angry": angry}}


def test_the_rule_picks_the_highest_lowest_recall_within_the_tolerance_and_keeps_it_only_for_a_real_gain():
    s = _script()
    rows = [_row(0.0, 0.700, 0.690, 0.850, 0.70), _row(0.05, 0.698, 0.688, 0.849, 0.74),
            _row(0.10, 0.696, 0.686, 0.848, 0.74),  # the same lowest recall as 0.05: the smaller b wins
            _row(0.15, 0.694, 0.690, 0.850, 0.78)]  # accuracy 0.006 below b = 0: over the tolerance
    assert s.choose(rows)["b"] == 0.05
    rows[3]["accuracy"] = 0.695  # exactly the tolerance below: admissible
    assert s.choose(rows)["b"] == 0.15
    rows[3]["recall"]["sad"] = 0.705  # sad now the lowest: 0.705 against 0.70 is no gain of 0.01
    rows[1]["recall"]["angry"] = rows[2]["recall"]["angry"] = 0.705
    assert s.choose(rows) is None
    rows[3]["recall"]["sad"] = 0.71  # exactly MIN_GAIN over b = 0's lowest recall: kept
    assert s.choose(rows)["b"] == 0.15
    with pytest.raises(ValueError, match="start at b = 0"):
        s.choose(rows[1:])


def test_the_grid_scores_the_same_faces_with_each_b():
    s = _script()
    probs = np.array([[0.45, 0.0, 0.0, 0.05, 0.5, 0.0, 0.0], [0.1, 0.0, 0.0, 0.1, 0.8, 0.0, 0.0],
                      [0.6, 0.0, 0.0, 0.1, 0.3, 0.0, 0.0]])
    labels = np.array([0, 4, 0])  # angry, sad, angry
    rows = s.score_grid(probs, labels, CLASSES, "angry", grid=(0.0, 0.5))
    assert [r["recall"]["angry"] for r in rows] == [0.5, 1.0]  # the first face turns angry at b = 0.5
    assert [r["accuracy"] for r in rows] == pytest.approx([2 / 3, 1.0])
    result = {"towards": "angry", "grid": rows, "pick": 0.5}
    lines = s.table(result).splitlines()[2:]
    assert lines[0].startswith("| 0.00 |") and lines[0].endswith("| yes |")  # b = 0 is always within the tolerance
    assert lines[1].startswith("| 0.50 (**the pick**) |") and lines[1].endswith("| yes |")  # everything rose
    assert "lowest happy/sad/angry validation recall" in s.verdict(result)
    rows[1]["accuracy"] = rows[0]["accuracy"] - 0.006
    line = s.table(dict(result, pick=None)).splitlines()[3]
    assert line.startswith("| 0.50 | 0.661 |") and line.endswith("| no |")  # over the tolerance, and no pick marked
    assert "the networks' own decision stays" in s.verdict(dict(result, pick=None))


def test_storing_a_setting_says_whether_the_checkpoint_changed_and_leaves_it_untouched_when_not(tmp_path):
    from conftest import script

    vc = script("validate_classifier")
    path = _checkpoint(tmp_path / "c.pt")
    assert vc.store_setting(path, "decision_prior", {"angry": 0.15}) is True
    assert load_classifier(path).decision_prior == {"angry": 0.15}
    before = path.read_bytes()
    assert vc.store_setting(path, "decision_prior", {"angry": 0.15}) is False  # choose_prior then says "unchanged"
    assert path.read_bytes() == before
