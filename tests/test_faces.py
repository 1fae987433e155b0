import numpy as np
import pytest

from emolib.errors import BadInput, DatasetNotFound
from emolib.faces.datasets import load_fer2013_csv, load_image_folder, select_classes, train_val_split


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

    from emolib.faces.classifier import _lite0_shape, _lite0_weights_path

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


def test_shipped_checkpoint_on_fer2013_test_split(fer_root):
    import json
    from pathlib import Path

    from emolib.faces.classifier import load_classifier, scores
    from emolib.faces.datasets import load_fer2013

    clf = load_classifier()
    test = select_classes(load_fer2013(fer_root, progress=False), clf.classes).of_split("test")
    acc = scores(test.labels, clf.predict_proba(test.images).argmax(1), clf.classes)["accuracy"]
    stated = json.loads((Path(__file__).resolve().parents[1] / "emolib/assets/checkpoints/face_classifier.json").read_text())
    assert acc >= stated["test_accuracy_official"] - 0.01
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"{100 * stated['test_accuracy_official']:.1f} % accuracy" in readme  # the figure the README states


def test_synthetic_faces_in_fer_format_round_trip(tmp_path):
    from emolib.faces.datasets import load_fer2013_csv
    from emolib.faces.synthetic import synthetic_faces, write_fer2013_csv

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
    from emolib.faces.synthetic import synthetic_faces

    data = synthetic_faces(120, classes=("happy", "sad"), seed=0)
    x = data.images.reshape(len(data), -1).astype(float) / 255
    x -= x.mean(1, keepdims=True)
    tr, te = data.split == "train", data.split == "test"
    w = np.linalg.lstsq(np.c_[x[tr], np.ones(tr.sum())], np.where(data.labels[tr] == 0, 1.0, -1.0), rcond=1e-2)[0]
    pred = np.where(np.c_[x[te], np.ones(te.sum())] @ w > 0, 0, 1)
    assert (pred == data.labels[te]).mean() > 0.7


def test_matching_blur_uses_pixels_only():
    import cv2

    from emolib.faces.datasets import matching_blur, sharpness
    from emolib.faces.synthetic import synthetic_faces

    sharp = synthetic_faces(20, seed=1).images
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 2.0) for f in sharp])
    assert sharpness(blurred) < sharpness(sharp)
    assert matching_blur(sharp, sharp) == 0.0
    assert 1.0 <= matching_blur(blurred, sharp) <= 3.0


def test_classify_many_matches_one_by_one_and_keeps_going_past_bad_files(tmp_path):
    from emolib.errors import BadInput
    from emolib.pipeline import classify, classify_many
    from emolib.faces.synthetic import synthetic_faces
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
