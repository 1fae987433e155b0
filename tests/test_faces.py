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

    from emolib.classifier import _lite0_shape, _lite0_weights_path

    m = _lite0_shape()
    m.load_state_dict(torch.load(_lite0_weights_path(), weights_only=True))
    x = torch.tensor(skimage.data.chelsea()).permute(2, 0, 1)[None].float() / 255
    x = (F.interpolate(x, size=(224, 224), mode="bilinear") - 0.5) / 0.5
    with torch.no_grad():
        assert int(m.eval()(x).argmax()) in range(281, 286)  # ImageNet's cat classes


def test_eval_is_deterministic_and_bn_kept():
    from emolib.classifier import load_classifier

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

    from emolib.classifier import load_classifier, scores
    from emolib.faces.datasets import load_fer2013

    clf = load_classifier()
    test = select_classes(load_fer2013(fer_root, progress=False), clf.classes).of_split("test")
    acc = scores(test.labels, clf.predict_proba(test.images).argmax(1), clf.classes)["accuracy"]
    stated = json.loads((Path(__file__).resolve().parents[1] / "emolib/assets/checkpoints/face_classifier.json").read_text())
    assert acc >= stated["test_accuracy_official"] - 0.01
