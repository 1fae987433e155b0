"""The installed package (a normal `pip install .`, not an editable one) runs every command from any folder:
nothing reads the repository's layout (scripts/, figures/, data/) unless it is there to be read."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HANG_GUARD

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """emolib installed from a copy of the source (so no build files land in the repository) into a folder
    that is put first on PYTHONPATH; the commands run in an empty folder elsewhere."""
    base = tmp_path_factory.mktemp("installed")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "emolib", src / "emolib", ignore=shutil.ignore_patterns("__pycache__"))
    target = base / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                        "--target", str(target), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    work = base / "elsewhere"
    work.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(base), "PYTHONPATH": str(target), "EMOLIB_FAST": "1",
           "EMOLIB_CACHE": str(base / "cache"), "EMOLIB_DATA": str(base / "no-data")}
    return target, work, env


def _run(installed, *args):
    target, work, env = installed
    return subprocess.run([sys.executable, "-m", "emolib", *map(str, args)], cwd=work, env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD)


def test_the_installed_copy_is_the_one_that_runs(installed):
    target, work, env = installed
    r = subprocess.run([sys.executable, "-c", "import emolib; print(emolib.__file__)"], cwd=work, env=env,
                       capture_output=True, text=True)
    assert r.stdout.strip().startswith(str(target)), r.stdout + r.stderr


def test_installed_compose_and_classify_from_another_folder(installed):
    target, work, env = installed
    for model in ("gan", "transformer"):
        r = _run(installed, "compose", "--emotion", "sad", "--model", model, "--out", f"{model}.mid", "--wav", f"{model}.wav")
        assert r.returncode == 0, r.stderr
        assert (work / f"{model}.mid").stat().st_size > 100 and (work / f"{model}.wav").stat().st_size > 10_000
        assert "bars 1-16 " + model in r.stdout  # the summary says who wrote which bars: every bar the model's
    r = _run(installed, "compose", "--out", "face.mid")  # the bundled sample face, from the installed package
    assert r.returncode == 0, r.stderr
    face = target / "emolib" / "assets" / "astronaut.jpg"
    r = _run(installed, "classify", "--image", face)
    assert r.returncode == 0 and json.loads(r.stdout)["emotion"], r.stderr
    assert not (work / "figures").exists() and not (work / "data").exists()  # nothing written beside the user's files


def test_installed_train_classifier_trains_on_a_dataset_in_fer_format(installed):
    target, work, env = installed
    code = ("from emolib.faces.data.synthetic import synthetic_faces, write_fer2013_csv; from pathlib import Path; "
            "Path('fer').mkdir(); write_fer2013_csv(synthetic_faces(12), 'fer/fer2013.csv')")
    subprocess.run([sys.executable, "-c", code], cwd=work, env=env, check=True, capture_output=True)
    r = _run(installed, "train-classifier", "--data", "fer", "--out", "clf.pt", "--epochs", "1", "--image-size", "48")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "test accuracy" in r.stdout and (work / "clf.pt").is_file() and (work / "clf.json").is_file()
    assert not (work / "clf.pt.epoch").exists()  # the saved epoch goes once the checkpoint is written
    again = _run(installed, "train-classifier", "--data", "fer", "--out", "clf.pt")
    assert again.returncode == 1 and "exists" in again.stderr and "--force" in again.stderr
