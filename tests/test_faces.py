import numpy as np
import pytest

from emolib.errors import BadInput, DatasetNotFound
from emolib.faces.data.datasets import load_fer2013_csv, load_image_folder, select_classes, train_val_split


def test_fer_csv_keeps_official_split(tmp_path):
    rows = ["emotion,pixels,Usage"]
    for i, usage in enumerate(["Training", "Training", "PublicTest", "PrivateTest"]):
        rows.append(f"{[3, 4, 0, 3][i]},{' '.join(['7'] * 2304)},{usage}")
    (tmp_path / "fer2013.csv").write_text("\n".join(rows))
    d = load_fer2013_csv(tmp_path / "fer2013.csv")
    assert d.images.shape == (4, 48, 48) and list(d.split) == ["train", "train", "test", "test"]
    assert select_classes(d, ("happy", "sad")).classes == ("happy", "sad")


def test_image_folder_prefix_decides_split(tmp_path):
    from PIL import Image

    for split, prefix in (("train", "Training"), ("test", "PublicTest")):
        for cls in ("happy", "sad"):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(3):
                Image.fromarray(np.full((48, 48), i * 40, np.uint8)).save(tmp_path / split / cls / f"{prefix}_{i}.png")
    d = load_image_folder(tmp_path, cache=False, progress=False)
    assert len(d) == 12 and (d.split == "test").sum() == 6
    train, val = train_val_split(d, 0.34)
    assert len(val) == 2 and set(train.split) == {"train"}


def test_missing_dataset_message(tmp_path):
    with pytest.raises(DatasetNotFound, match="Download"):
        load_image_folder(tmp_path / "nowhere")


def test_lite0_weights_are_really_imagenet():
    """The offline pretrained start is real: Lite0 calls scikit-image's cat photo a cat."""
    import skimage.data
    import torch
    import torch.nn.functional as F

    from emolib.faces.network import _lite0_shape, _lite0_weights_path

    m = _lite0_shape()
    m.load_state_dict(torch.load(_lite0_weights_path(), weights_only=True))
    x = torch.tensor(skimage.data.chelsea()).permute(2, 0, 1)[None].float() / 255
    x = (F.interpolate(x, size=(224, 224), mode="bilinear") - 0.5) / 0.5
    with torch.no_grad():
        assert int(m.eval()(x).argmax()) in range(281, 286)  # ImageNet's cat classes


def test_eval_is_deterministic_and_bn_kept():
    from emolib.faces.classifier import load_classifier

    clf = load_classifier()
    faces = np.random.default_rng(0).integers(0, 255, (3, 48, 48), dtype=np.uint8)
    a, b = clf.predict_proba(faces), clf.predict_proba(faces)
    assert np.array_equal(a, b) and np.allclose(a.sum(1), 1)
    assert any(isinstance(m, torch_bn()) for m in clf.model.modules())


def torch_bn():
    import torch

    return torch.nn.BatchNorm2d


def test_no_face_is_a_clear_error():
    from emolib.faces.detect import crop_face

    with pytest.raises(BadInput, match="no face"):
        crop_face(np.full((100, 100), 128, np.uint8))
    face, box = crop_face(np.full((100, 80), 128, np.uint8), center_fallback=True)
    assert face.shape == (48, 48) and box == (0, 10, 80, 80)


@pytest.mark.parametrize("name, views", [
    ("face_classifier", ("all", "happy_sad_angry")),  # the pipeline's seven-class model
])
def test_shipped_checkpoint_on_fer2013_test_split(fer_root, name, views):
    """A shipped classifier still scores what its benchmark JSON states (within a point; the README's table is that
    JSON's, tests/test_readme_tables.py), in every view. Its probabilities are scored once per classifier, faces and code (emolib.faces.remembered; notebook 02 reads the same):
    EMOLIB_CACHE=$(mktemp -d) measures afresh."""
    import json
    from pathlib import Path

    from emolib.faces.classifier import load_classifier
    from emolib.faces.metrics import scores_among
    from emolib.faces.data.datasets import load_fer2013
    from emolib.faces.remembered import probabilities_of

    ckpt = Path(__file__).resolve().parents[1] / "emolib/assets/checkpoints" / f"{name}.pt"
    clf = load_classifier(ckpt)
    test = select_classes(load_fer2013(fer_root, progress=False), clf.classes).of_split("test")
    probs, _ = probabilities_of(test, clf)
    stated = json.loads(ckpt.with_suffix(".json").read_text())["benchmark"]
    for view in views:
        keep = ("happy", "sad", "angry") if view == "happy_sad_angry" else None
        acc = scores_among(test.labels, probs, clf.classes, keep=keep)["accuracy"]
        assert acc >= stated[view]["accuracy"] - 0.01, (view, acc)


def test_fer_folder_rows_and_ferplus_votes_align(tmp_path):
    """The image-folder layout's <Usage>_<row>.png names give each face its csv row, which finds its FER+ votes."""
    from PIL import Image

    from emolib.faces.data.datasets import load_fer2013
    from emolib.faces.data.ferplus import FERPLUS_COLUMNS, ferplus_majority, load_ferplus_votes

    root = tmp_path / "fer2013"
    layout = [("train", "happy", "Training_0"), ("train", "sad", "Training_1"), ("test", "angry", "PublicTest_2"),
              ("test", "neutral", "PrivateTest_3")]
    for split, cls, name in layout:
        (root / split / cls).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((48, 48), 50, np.uint8)).save(root / split / cls / f"{name}.png")
    votes = [[0, 9, 1, 0, 0, 0, 0, 0, 0, 0], [2, 0, 0, 8, 0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 5, 0, 0, 0, 0, 0],
             [0, 0, 0, 0, 0, 0, 0, 0, 0, 10]]  # happy, sad, a tie, not a face
    usage = ["Training", "Training", "PublicTest", "PrivateTest"]
    lines = ["Usage,Image name," + ",".join(FERPLUS_COLUMNS)]
    lines += [f"{u},fer{i:07d}.png," + ",".join(map(str, v)) for i, (u, v) in enumerate(zip(usage, votes))]
    (root / "fer2013new.csv").write_text("\n".join(lines) + "\n")
    data = load_fer2013(root, cache=False, progress=False)
    assert sorted(data.rows.tolist()) == [0, 1, 2, 3] and list(data.split[np.argsort(data.rows)]) == ["train"] * 2 + ["test"] * 2
    maj = ferplus_majority(load_ferplus_votes(root)[data.rows], data.classes)
    named = {int(r): (data.classes[m] if m >= 0 else None) for r, m in zip(data.rows, maj)}
    assert named == {0: "happy", 1: "sad", 2: None, 3: None}


def test_ferplus_soft_targets_mix_votes_with_the_label_and_say_what_is_missing(tmp_path):
    from dataclasses import replace

    from emolib.faces.data.datasets import FaceData
    from emolib.faces.data.ferplus import FERPLUS_COLUMNS, ferplus_relabel, soft_targets
    from emolib.faces.training import FaceConfig, training_targets

    classes = ("happy", "sad", "neutral")
    votes = [[2, 8, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 6, 0, 0, 0, 4, 0, 0], [0, 0, 0, 0, 0, 0, 0, 3, 5, 2]]
    lines = ["Usage,Image name," + ",".join(FERPLUS_COLUMNS)]
    lines += [f"Training,fer{i:07d}.png," + ",".join(map(str, v)) for i, v in enumerate(votes)]
    (tmp_path / "fer2013new.csv").write_text("\n".join(lines) + "\n")
    data = FaceData(np.zeros((3, 48, 48), np.uint8), np.array([0, 1, 2]), classes, np.array(["train"] * 3),
                    rows=np.array([0, 1, 2]))
    cfg = replace(FaceConfig(), labels="ferplus_soft", soft_weight=0.5)
    t = soft_targets(data, 0.5, tmp_path / "fer2013new.csv")
    # face 0 labelled happy, votes 8 happy / 2 neutral; face 1 labelled sad, 6 sad votes (contempt dropped);
    # face 2 has no vote for our classes and keeps its one-hot label
    np.testing.assert_allclose(t, [[0.9, 0.0, 0.1], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-6)
    assert training_targets(data, replace(cfg, labels="fer2013")) is None  # FER2013's own labels: one-hot
    with pytest.raises(DatasetNotFound, match="labels fer2013"):
        soft_targets(data, 0.5, tmp_path / "missing.csv")
    data.rows = np.array([0, 1, 5])  # a csv that stops short of a face's row
    with pytest.raises(DatasetNotFound, match="incomplete"):
        soft_targets(data, 0.5, tmp_path / "fer2013new.csv")
    data.rows = np.array([0, -1, 2])  # a face of another dataset: no FER2013 row
    for use_votes in (lambda: soft_targets(data, 0.5, tmp_path / "fer2013new.csv"),
                      lambda: ferplus_relabel(data, tmp_path / "fer2013new.csv")):
        with pytest.raises(DatasetNotFound, match="row number.*labels fer2013"):
            use_votes()


def test_partial_or_damaged_fer2013_is_one_clear_message(tmp_path):
    from PIL import Image

    from emolib.faces.data.datasets import load_fer2013
    from emolib.faces.data.ferplus import load_ferplus_votes

    root = tmp_path / "fer2013"
    (root / "train" / "happy").mkdir(parents=True)
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(root / "train" / "happy" / "Training_0.png")
    with pytest.raises(DatasetNotFound, match="partial: it has train/ but no test/"):
        load_fer2013(root, cache=False, progress=False)
    (root / "test" / "happy").mkdir(parents=True)
    (root / "test" / "happy" / "PublicTest_1.png").write_bytes(b"\x89PNG truncated")
    with pytest.raises(DatasetNotFound, match="PublicTest_1.png is not a readable image"):
        load_fer2013(root, cache=False, progress=False)
    with pytest.raises(DatasetNotFound, match="FER\\+ labels not found"):
        load_ferplus_votes(root)
    (root / "fer2013new.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetNotFound, match="not FER\\+'s csv"):
        load_ferplus_votes(root)


def test_every_face_label_has_a_published_point_and_the_right_music():
    from emolib.emotion import FER_CLASSES, VA_COORDINATES, music_emotion, quadrant, valence_arousal

    assert set(FER_CLASSES) <= set(VA_COORDINATES)
    assert music_emotion({"neutral": 1.0}) == "calm"  # a face at rest asks for calm music
    assert valence_arousal({"surprise": 1.0})[1] > 0.8 and quadrant(music_emotion({"surprise": 1.0})).arousal > 0
    assert music_emotion({"fear": 1.0}) == "angry" and music_emotion({"sad": 1.0}) == "sad"
    assert music_emotion({"happy": 0.5, "sad": 0.5}) == "calm"  # the weighted point, not a vote of quadrants
    mostly_neutral = {"neutral": 0.7, "sad": 0.2, "happy": 0.1}
    assert music_emotion(mostly_neutral) == "calm"
    assert valence_arousal({"happy": 0.3, "angry": 0.7}) == pytest.approx(
        tuple(0.3 * h + 0.7 * a for h, a in zip(VA_COORDINATES["happy"], VA_COORDINATES["angry"])), abs=1e-3)


def test_flip_averaging_is_deterministic_and_mirror_symmetric():
    from emolib.faces.classifier import load_classifier
    from emolib.faces.network import predict_proba

    clf = load_classifier()
    faces = np.random.default_rng(1).integers(0, 255, (4, 48, 48), dtype=np.uint8)
    a = predict_proba(clf.model, faces, clf.image_size, flip=True)
    b = predict_proba(clf.model, faces[:, :, ::-1], clf.image_size, flip=True)
    assert np.allclose(a, b, atol=1e-5) and np.allclose(a.sum(1), 1)
    plain, mirror = predict_proba(clf.model, faces, clf.image_size), predict_proba(clf.model, faces[:, :, ::-1], clf.image_size)
    assert not np.allclose(plain, mirror)
    assert np.allclose((plain + mirror) / 2, a, atol=1e-5)  # how validate_classifier scores both views in two passes


def test_batched_inference_gives_each_face_its_own_answer():
    """Batching is only a speed-up (measured in scripts/benchmark_speed.py): a face's probabilities do not depend
    on the faces batched with it."""
    from emolib.faces.classifier import load_classifier
    from emolib.faces.network import predict_proba

    clf = load_classifier()
    faces = np.random.default_rng(2).integers(0, 255, (40, 48, 48), dtype=np.uint8)
    batched = predict_proba(clf.model, faces, clf.image_size, batch_size=32)
    alone = np.concatenate([predict_proba(clf.model, f[None], clf.image_size) for f in faces[[0, 17, 39]]])
    assert batched.shape == (40, len(clf.classes)) and np.allclose(batched[[0, 17, 39]], alone, atol=1e-5)


def test_synthetic_faces_in_fer_format_round_trip(tmp_path):
    from emolib.faces.data.datasets import load_fer2013_csv
    from emolib.faces.data.synthetic import synthetic_faces, write_fer2013_csv

    data = synthetic_faces(10, seed=3)
    assert data.images.shape == (40, 48, 48) and data.images.dtype == np.uint8
    assert data.counts() == {c: 10 for c in ("angry", "happy", "sad", "neutral")}
    assert set(data.split) == {"train", "test"}
    assert data.images.std(axis=(1, 2)).min() > 5  # faces, not blank squares
    write_fer2013_csv(data, tmp_path / "fer2013.csv")
    back = load_fer2013_csv(tmp_path / "fer2013.csv")
    for c in data.classes:  # same faces under the same FER labels
        assert np.array_equal(back.images[back.labels == back.classes.index(c)], data.images[data.labels == data.classes.index(c)])


def test_synthetic_expressions_are_learnable():
    """The expression cues are real signal: a linear model on pixels beats chance by far."""
    from emolib.faces.data.synthetic import synthetic_faces

    data = synthetic_faces(120, classes=("happy", "sad"), seed=0)
    x = data.images.reshape(len(data), -1).astype(float) / 255
    x -= x.mean(1, keepdims=True)
    tr, te = data.split == "train", data.split == "test"
    w = np.linalg.lstsq(np.c_[x[tr], np.ones(tr.sum())], np.where(data.labels[tr] == 0, 1.0, -1.0), rcond=1e-2)[0]
    pred = np.where(np.c_[x[te], np.ones(te.sum())] @ w > 0, 0, 1)
    assert (pred == data.labels[te]).mean() > 0.7


def test_classify_many_matches_one_by_one_and_keeps_going_past_bad_files(tmp_path):
    from emolib.errors import BadInput
    from emolib.pipeline import classify, classify_many
    from emolib.faces.data.synthetic import synthetic_faces
    from PIL import Image

    paths = []
    for i, img in enumerate(synthetic_faces(3, seed=2).images[:5]):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(img).save(paths[-1])
    (tmp_path / "bad.png").write_text("nope")
    many = classify_many([*paths[:2], tmp_path / "bad.png", *paths[2:]], detect=False, batch_size=2)
    assert isinstance(many[2], BadInput)
    for p, r in zip(paths, [m for m in many if not isinstance(m, BadInput)]):
        one = classify(p, detect=False)
        assert one.emotion == r.emotion and np.allclose(list(one.probabilities.values()), list(r.probabilities.values()), atol=1e-5)


def _tiny_training():
    from emolib.faces.training import FaceConfig
    from emolib.faces.data.synthetic import synthetic_faces

    data = synthetic_faces(8, classes=("happy", "sad"), seed=0)
    tr, va = data.split == "train", data.split == "test"
    cfg = FaceConfig(classes=("happy", "sad"), init="random", image_size=32, epochs=3, batch_size=8, patience=9)
    return cfg, (data.images[tr], data.labels[tr], data.images[va], data.labels[va])


def _fresh():
    """A tiny network with what makes resuming hard (batch statistics, dropout's random draws), fast to train."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Dropout(0.5), nn.Linear(4, 2))


def test_an_interrupted_training_goes_on_from_its_last_epoch_as_if_never_stopped(tmp_path, monkeypatch):
    import torch

    from emolib.faces import training

    cfg, arrays = _tiny_training()
    straight, straight_hist = training.train(_fresh(), *arrays, cfg, progress=False)

    real, calls = training.predict_proba, []

    def interrupted_in_epoch_two(*args, **kw):  # validation ends each epoch: the second one is cut short
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kw)

    saved = tmp_path / "clf.pt.epoch"
    monkeypatch.setattr(training, "predict_proba", interrupted_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        training.train(_fresh(), *arrays, cfg, progress=False, resume_file=saved)
    monkeypatch.setattr(training, "predict_proba", real)
    assert saved.exists() and not list(tmp_path.glob(".*part"))
    resumed, hist = training.train(_fresh(), *arrays, cfg, progress=False, resume_file=saved)
    assert len(hist.val_f1) == 3 and hist.best_epoch == straight_hist.best_epoch
    assert np.allclose(hist.train_loss, straight_hist.train_loss) and np.allclose(hist.val_loss, straight_hist.val_loss)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-5), name


def test_a_saved_epoch_from_other_settings_or_a_broken_file_is_refused_with_how_to_start_over(tmp_path):
    from dataclasses import replace

    from emolib.errors import EmolibError
    from emolib.faces import training

    cfg, arrays = _tiny_training()
    saved = tmp_path / "clf.pt.epoch"
    training.train(_fresh(), *arrays, replace(cfg, epochs=1), progress=False, resume_file=saved)
    with pytest.raises(EmolibError, match="other settings or data.*delete the file to start over"):
        training.train(_fresh(), *arrays, replace(cfg, lr=1e-3), progress=False, resume_file=saved)
    other_faces = (arrays[0], 1 - arrays[1], *arrays[2:])
    with pytest.raises(EmolibError, match="other settings or data"):
        training.train(_fresh(), *other_faces, replace(cfg, epochs=1), progress=False, resume_file=saved)
    saved.write_bytes(saved.read_bytes()[:100])
    with pytest.raises(EmolibError, match="cannot be read.*delete it to start the training over"):
        training.train(_fresh(), *arrays, replace(cfg, epochs=1), progress=False, resume_file=saved)


def test_a_saved_checkpoint_and_its_report_appear_together_and_overwrite_nothing_unasked(tmp_path):
    import json

    from emolib.errors import EmolibError
    from emolib.faces.classifier import load_classifier
    from emolib.faces.network import build_model
    from emolib.faces.training import FaceConfig, save_checkpoint

    net = build_model(7, init="lite0", image_size=48, load_weights=False)
    out = tmp_path / "clf.pt"
    out.with_suffix(".json").write_text("someone's notes")
    with pytest.raises(EmolibError, match="exists"):  # the report's name is taken: neither file is written
        save_checkpoint(net, out, classes=tuple("abcdefg"), cfg=FaceConfig(image_size=48), report={"best_epoch": 1})
    assert not out.exists() and out.with_suffix(".json").read_text() == "someone's notes"
    save_checkpoint(net, out, classes=tuple("abcdefg"), cfg=FaceConfig(image_size=48), report={"best_epoch": 1}, force=True)
    assert json.loads(out.with_suffix(".json").read_text()) == {"best_epoch": 1}
    assert load_classifier(out).classes == tuple("abcdefg") and not list(tmp_path.glob(".*part"))


def test_train_classifier_refuses_a_taken_report_name_before_training(tmp_path, capsys):
    from emolib.__main__ import main

    (tmp_path / "clf.json").write_text("a report someone keeps")
    code = main(["train-classifier", "--data", str(tmp_path / "no-data-needed"), "--out", str(tmp_path / "clf.pt")])
    assert code == 1 and "clf.json exists" in capsys.readouterr().err  # before the dataset is even looked for
    assert (tmp_path / "clf.json").read_text() == "a report someone keeps"
