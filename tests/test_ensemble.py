"""An ensemble checkpoint: several networks averaged, written by emolib.faces.ensemble.combine."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from emolib.errors import EmolibError
from emolib.faces.classifier import load_classifier
from emolib.faces.ensemble import combine, split
from emolib.faces.network import Ensemble, build_model, predict_proba
from emolib.faces.training import FaceConfig, save_checkpoint

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def _network(path, weights_seed: int, **cfg) -> "torch.nn.Module":
    """A Lite0-shaped network with random weights of its own, saved as the training command saves one."""
    torch.manual_seed(weights_seed)
    net = build_model(len(cfg.get("classes", CLASSES)), init="lite0", image_size=48, load_weights=False).eval()
    save_checkpoint(net, path, classes=cfg.pop("classes", CLASSES), cfg=FaceConfig(image_size=48, **cfg))
    return net


def _faces(n: int = 6) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (n, 48, 48), dtype=np.uint8)


@pytest.mark.parametrize("flip", [False, True])
def test_an_ensemble_reads_the_mean_of_its_networks_probabilities(tmp_path, flip):
    _network(tmp_path / "a.pt", 1)
    _network(tmp_path / "b.pt", 2, labels="ferplus_soft", epochs=10)  # other training, same validation faces
    combine([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "ab.pt", flip_tta=flip)
    a, b = load_classifier(tmp_path / "a.pt"), load_classifier(tmp_path / "b.pt")
    ab = load_classifier(tmp_path / "ab.pt")
    assert isinstance(ab.model, Ensemble) and ab.flip_tta is flip and ab.classes == CLASSES
    faces = _faces()
    mean = (predict_proba(a.model, faces, 48, flip=flip) + predict_proba(b.model, faces, 48, flip=flip)) / 2
    got = ab.predict_proba(faces)
    assert np.allclose(got, mean, atol=1e-5) and np.allclose(got.sum(1), 1, atol=1e-5)
    assert not np.allclose(predict_proba(a.model, faces, 48), predict_proba(b.model, faces, 48), atol=1e-3)  # two answers
    x = torch.rand(2, 1, 48, 48)
    with torch.no_grad():
        members = (torch.softmax(a.model(x), 1) + torch.softmax(b.model(x), 1)) / 2
        assert torch.allclose(torch.softmax(ab.model(x), 1), members, atol=1e-6)  # softmax(model(x)) is the mean
    assert ab.predict_proba(faces[:0]).shape == (0, len(CLASSES))
    assert ab.metrics["members"] == ["a.pt", "b.pt"]


def test_combine_refuses_members_that_kept_other_validation_faces_or_read_otherwise(tmp_path):
    _network(tmp_path / "a.pt", 1)
    _network(tmp_path / "seed.pt", 2, seed=7)
    _network(tmp_path / "few.pt", 3, max_train=1000)
    _network(tmp_path / "balanced.pt", 5, balanced_sample=True)
    _network(tmp_path / "three.pt", 4, classes=("happy", "sad", "angry"))
    for other, what in (("seed.pt", "seed"), ("few.pt", "max_train"), ("balanced.pt", "balanced_sample"),
                        ("three.pt", "classes")):
        with pytest.raises(EmolibError, match=f"differs from .*a.pt in .*{what}"):
            combine([tmp_path / "a.pt", tmp_path / other], tmp_path / "x.pt")
    with pytest.raises(EmolibError, match="at least two"):
        combine([tmp_path / "a.pt"], tmp_path / "x.pt")
    with pytest.raises(EmolibError, match="named twice"):
        combine([tmp_path / "a.pt", tmp_path / "a.pt"], tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists() and not (tmp_path / "x.json").exists()


def test_combine_overwrites_nothing_and_takes_no_ensemble_as_a_member(tmp_path):
    _network(tmp_path / "a.pt", 1)
    _network(tmp_path / "b.pt", 2)
    combine([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "ab.pt")
    before = (tmp_path / "ab.pt").read_bytes()
    with pytest.raises(EmolibError, match="exists"):
        combine([tmp_path / "b.pt", tmp_path / "a.pt"], tmp_path / "ab.pt")
    assert (tmp_path / "ab.pt").read_bytes() == before
    with pytest.raises(EmolibError, match="already an ensemble"):
        combine([tmp_path / "ab.pt", tmp_path / "a.pt"], tmp_path / "abc.pt")
    with pytest.raises(EmolibError):  # an output may not be one of the networks it is made from
        combine([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "a.pt", force=True)
    assert load_classifier(tmp_path / "a.pt").model is not None  # still the network it was


@pytest.mark.parametrize("damage, expected", [
    ("one member", "list of 2-8 networks"),
    ("other size", "another image size"),
    ("nan", "NaN or infinite"),
    ("no weights", "not a table of tensors"),
])
def test_a_damaged_ensemble_is_one_clear_error(tmp_path, damage, expected):
    _network(tmp_path / "a.pt", 1)
    _network(tmp_path / "b.pt", 2)
    combine([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "ab.pt")
    ck = torch.load(tmp_path / "ab.pt", weights_only=True)
    member = ck["members"][1]
    if damage == "one member":
        ck["members"] = ck["members"][:1]
    elif damage == "other size":
        member["config"] = dict(member["config"], image_size=64)
    elif damage == "nan":
        member["state_dict"] = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
                                for k, v in member["state_dict"].items()}
    else:
        member["state_dict"] = None
    torch.save(ck, tmp_path / "bad.pt")
    with pytest.raises(EmolibError, match=expected) as err:
        load_classifier(tmp_path / "bad.pt")
    assert "\n" not in str(err.value)


def _row(name: str, networks: int, one: float, mirrored: float) -> dict:
    view = lambda f1: {"accuracy": f1, "macro_f1": f1, "happy_sad_angry": f1, "recall": dict.fromkeys(("happy", "sad", "angry"), f1)}
    return {"checkpoint": name, "networks": networks, "one_view": view(one), "mirrored": view(mirrored)}


def test_the_validation_rule_only_counts_views_within_the_per_face_budget():
    from conftest import script as _script

    v = _script("validate_classifier")
    single, pair, trio = _row("a.pt", 1, 0.66, 0.67), _row("ab.pt", 2, 0.68, 0.66), _row("abc.pt", 3, 0.68, 0.70)
    assert v.MAX_PASSES == 4  # 20 ms: four passes of one network (the Speed table)
    assert v.affordable_views(single) == ["one_view", "mirrored"] and v.better_view(single) == "mirrored"
    assert v.affordable_views(pair) == ["one_view", "mirrored"] and v.better_view(pair) == "one_view"
    assert v.affordable_views(trio) == ["one_view"] and v.better_view(trio) == "one_view"  # 6 passes: over the budget
    assert "abc.pt (one view): validation macro-F1 0.680 against the shipped model's 0.670 -> it replaces" in v.decision([single, trio])
    assert "which stays" in v.decision([single, _row("c.pt", 3, 0.67, 0.75)])  # a tie does not replace
    line = dict(single, labels="fer2013", soft_weight=0.0, best_epoch=7, epochs=7, n=10,
                paired={"only_mirrored_right": 1, "only_one_view_right": 0, "sign_test_p": 1.0})
    table = v.table([line,
                     dict(trio, members=["a.pt", "b.pt", "c.pt"], n=10,
                          paired={"only_mirrored_right": 1, "only_one_view_right": 0, "sign_test_p": 1.0})])
    assert "| abc.pt (ensemble: a.pt + b.pt + c.pt) | mirrored (over the budget) | 0.700 |" in table
    five = _row("a-e.pt", 5, 0.9, 0.9)  # more networks than the budget holds: no view fits, not a candidate
    assert v.better_view(five) is None and "no candidate fits" in v.decision([single, five])
    right = [{"one_view": np.array([1, 1, 0, 0], bool), "mirrored": np.array([1, 1, 1, 0], bool)},
             {"one_view": np.array([0, 1, 1, 1], bool), "mirrored": np.array([0, 0, 0, 0], bool)}]
    rows = [dict(single), dict(pair)]
    v.against_shipped(rows, right)  # the shipped model mirrored against the pair's one view, face by face
    assert rows[1]["against_shipped"] == {"shipped_view": "mirrored", "view": "one_view", "only_shipped_right": 1,
                                          "only_candidate_right": 1, "sign_test_p": 1.0}
    assert "| shipped (fer2013, epoch 7 of 7) | mirrored | 0.670 |" in table
    augmented = dict(pair, checkpoint="aug.pt", networks=1, labels="fer2013", soft_weight=1.0, blur=0.3, erase=0.3,
                     best_epoch=6, epochs=7, n=10, paired={"only_mirrored_right": 0, "only_one_view_right": 0,
                                                           "sign_test_p": 1.0})
    assert "| aug.pt (fer2013, blur 0.3, erase 0.3, epoch 6 of 7) | one view | 0.680 |" in v.table([line, augmented])


def _whole(calls: list[int], faces: int = 5) -> int:
    """How many of the recorded scoring calls scored all the faces (a cache read's spot check scores a few)."""
    return sum(n == faces for n in calls)


def test_validation_probabilities_are_cached_by_network_and_faces(tmp_path, monkeypatch):
    from conftest import script as _script

    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    v = _script("validate_classifier")
    _network(tmp_path / "a.pt", 1)
    clf, faces = load_classifier(tmp_path / "a.pt"), _faces(5)
    plain, mirror = v.probabilities(clf, faces, "faces1")
    assert np.allclose(plain, predict_proba(clf.model, faces, 48)) and np.allclose((plain + mirror) / 2,
                                                                                   predict_proba(clf.model, faces, 48, flip=True), atol=1e-5)
    scored = []  # faces per call: a cache read scores only a few faces afresh to check them (remembered's spot check)
    monkeypatch.setattr(v, "predict_proba", lambda *a, **k: scored.append(len(a[1])) or predict_proba(*a, **k))
    again = v.probabilities(clf, faces, "faces1")
    assert not _whole(scored) and scored and np.array_equal(again[0], plain)  # read from the cache, spot-checked
    v.probabilities(clf, faces, "faces2")  # other validation faces: scored
    assert _whole(scored) == 2
    (cache,) = [p for p in (tmp_path / "cache" / "validation").iterdir() if "faces1" in p.name]
    cache.write_bytes(cache.read_bytes()[:100])  # a file cut short (a full disk, a killed run)
    assert np.allclose(v.probabilities(clf, faces, "faces1")[0], plain) and _whole(scored) == 4
    np.savez(cache, plain=np.full_like(plain, np.nan), mirror=mirror)  # damaged numbers: scored again
    assert np.allclose(v.probabilities(clf, faces, "faces1")[0], plain) and _whole(scored) == 6
    monkeypatch.setattr("emolib.faces.remembered.CODE", "changed")  # other code: scored again
    v.probabilities(clf, faces, "faces1")
    assert _whole(scored) == 8


def test_an_ensembles_validation_probabilities_reuse_its_networks_scored_alone(tmp_path, monkeypatch):
    """Each network is cached by itself (weights, architecture, input size): an ensemble of networks already scored
    alone scores nothing new, and reads exactly what its Ensemble module computes."""
    from conftest import script as _script

    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    v = _script("validate_classifier")
    _network(tmp_path / "a.pt", 1)
    _network(tmp_path / "b.pt", 2)
    combine([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "ab.pt")
    faces = _faces(5)
    for name in ("a.pt", "b.pt"):
        v.probabilities(load_classifier(tmp_path / name), faces, "faces1")
    scored = []
    monkeypatch.setattr(v, "predict_proba", lambda *a, **k: scored.append(len(a[1])) or predict_proba(*a, **k))
    ab = load_classifier(tmp_path / "ab.pt")
    plain, mirror = v.probabilities(ab, faces, "faces1")
    assert not _whole(scored)  # both networks were in the cache (only spot-checked)
    assert np.array_equal(plain, predict_proba(ab.model, faces, 48))  # bit for bit, as the ensemble reads them
    assert np.allclose((plain + mirror) / 2, predict_proba(ab.model, faces, 48, flip=True), atol=1e-6)
    assert len(list((tmp_path / "cache" / "validation").iterdir())) == 2  # one file per network, none per ensemble
    from dataclasses import replace

    v.probabilities(replace(ab, image_size=64), faces, "faces1")  # the same weights reading larger faces: scored
    assert _whole(scored) == 4


def test_probabilities_of_a_split_are_computed_once_per_classifier_and_faces(tmp_path, monkeypatch):
    """emolib.faces.remembered.probabilities_of: what FaceClassifier.predict_proba gives, kept; the same networks
    with another decision prior or view, or other faces, are scored afresh."""
    from dataclasses import replace

    from emolib.faces import classifier as fc
    from emolib.faces.data.datasets import FaceData
    from emolib.faces.remembered import probabilities_of

    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    _network(tmp_path / "a.pt", 1)
    clf, images = load_classifier(tmp_path / "a.pt"), _faces(5)
    data = FaceData(images, np.zeros(5, int), CLASSES, np.array(["test"] * 5), np.arange(5))
    probs, fresh = probabilities_of(data, clf)
    assert fresh and np.allclose(probs, clf.predict_proba(images))
    calls = []
    monkeypatch.setattr(fc, "predict_proba", lambda *a, **k: calls.append(len(a[1])) or predict_proba(*a, **k))
    again, fresh = probabilities_of(data, clf)
    assert not fresh and not _whole(calls) and np.array_equal(again, probs)
    moved, fresh = probabilities_of(data, replace(clf, decision_prior={"angry": 0.5}))
    assert fresh and moved[:, 0].mean() > probs[:, 0].mean()  # the prior counts
    assert probabilities_of(data, replace(clf, flip_tta=True))[1]  # so does the view
    other = FaceData(images[::-1].copy(), np.zeros(5, int), CLASSES, np.array(["test"] * 5), np.arange(5))
    assert probabilities_of(other, clf)[1]


def test_split_gives_back_each_network_as_training_wrote_it_with_its_report(tmp_path):
    """split is combine's inverse: the networks it writes join again into an ensemble that reads as the first."""
    import json

    _network(tmp_path / "a.pt", 1)
    _network(tmp_path / "b.pt", 2, labels="ferplus_soft", epochs=10)
    (tmp_path / "a.json").write_text(json.dumps({"history": {"val_f1": [0.5, 0.6]}, "best_epoch": 2, "benchmark": {"x": 1}}))
    combine([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "ab.pt")
    written = split(tmp_path / "ab.pt", tmp_path / "out")
    assert [p.name for p in written] == ["a.pt", "b.pt"]
    for name in ("a.pt", "b.pt"):
        before, after = (torch.load(d / name, weights_only=True) for d in (tmp_path, tmp_path / "out"))
        assert before["config"] == after["config"] and before["classes"] == after["classes"]
        assert all(torch.equal(before["state_dict"][k], after["state_dict"][k]) for k in before["state_dict"])
    report = json.loads((tmp_path / "out" / "a.json").read_text())
    assert report["history"] == {"val_f1": [0.5, 0.6]} and report["benchmark"] == {"x": 1}  # its own test figures, as before
    combine(written, tmp_path / "again.pt")
    faces = _faces()
    assert np.allclose(load_classifier(tmp_path / "again.pt").predict_proba(faces),
                       load_classifier(tmp_path / "ab.pt").predict_proba(faces), atol=1e-7)
    with pytest.raises(EmolibError, match="exists"):  # nothing overwritten without force
        split(tmp_path / "ab.pt", tmp_path / "out")
    with pytest.raises(EmolibError, match="not an ensemble checkpoint"):
        split(tmp_path / "a.pt", tmp_path / "out2")


@pytest.mark.parametrize("script, args, said", [
    ("validate_classifier", ["--write", "runs/a.pt", "runs/b.pt"],
     "not 'runs/a.pt' (a checkpoint right after --write is read as that name"),
    ("validate_classifier", ["--write", "speed.json"], "02_validation*.json, not 'speed.json'"),  # not its figures to write
    ("validate_classifier", ["--write", "02_validation_x.json", "--keep-better-view"],
     "--keep-better-view needs --write (to figures/02_validation.json)"),
    ("ensemble_classifier", ["--split", "x.pt", "a.pt", "--out", "d"], "--split takes one ensemble and no other checkpoints")])
def test_the_ensemble_scripts_refuse_muddled_arguments_in_one_line_before_reading_anything(tmp_path, script, args, said):
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{script}.py"
    run = subprocess.run([sys.executable, str(path), *args], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "EMOLIB_DATA": str(tmp_path / "none")})
    assert run.returncode == 2 and said in " ".join(run.stderr.split()) and "Traceback" not in run.stderr
    assert not any(tmp_path.iterdir())  # nothing written


def test_networks_kept_beside_the_ensemble_read_as_the_ensemble_and_are_checked(tmp_path):
    """combine(beside=True) keeps each network in a file of its own (a checkpoint as training writes one) named with
    its SHA-256 in the ensemble: the same answers as one file, split works on it, a swapped or missing file is one
    clear error."""
    import shutil

    _network(tmp_path / "a.pt", 1)
    _network(tmp_path / "b.pt", 2, labels="ferplus_soft", epochs=10)
    combine([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "one.pt")
    combine([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "ab.pt", beside=True)
    ck = torch.load(tmp_path / "ab.pt", weights_only=True)
    assert all("state_dict" not in m and m["file"] == f"ab/{m['name']}" for m in ck["members"])
    assert (tmp_path / "ab.pt").stat().st_size < 20_000 < (tmp_path / "ab" / "a.pt").stat().st_size
    assert load_classifier(tmp_path / "ab" / "a.pt").config == load_classifier(tmp_path / "a.pt").config  # a network's checkpoint
    faces = _faces()
    assert np.array_equal(load_classifier(tmp_path / "ab.pt").predict_proba(faces),
                          load_classifier(tmp_path / "one.pt").predict_proba(faces))
    written = split(tmp_path / "ab.pt", tmp_path / "out")
    assert [p.name for p in written] == ["a.pt", "b.pt"]
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(tmp_path / "ab.pt", moved / "ab.pt")
    with pytest.raises(EmolibError, match="ab/a.pt cannot be used .*no such file") as err:  # the folder left behind
        load_classifier(moved / "ab.pt")
    assert "\n" not in str(err.value)
    shutil.copytree(tmp_path / "ab", moved / "ab")
    shutil.copy(tmp_path / "b.pt", moved / "ab" / "a.pt")  # another network in a's place
    with pytest.raises(EmolibError, match="not the one it was combined with"):
        load_classifier(moved / "ab.pt")
    ck["members"][0]["file"] = "../a.pt"
    torch.save(ck, tmp_path / "bad.pt")
    with pytest.raises(EmolibError, match="not named as a file beside it"):
        load_classifier(tmp_path / "bad.pt")


def test_no_shipped_file_is_over_20_mib():
    """A repository file may take at most 20 MiB (the shipped four networks keep their weights in files of their own)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    big = [p.relative_to(root) for p in (root / "emolib").rglob("*") if p.is_file() and p.stat().st_size > 20 * 2**20]
    assert not big, big
