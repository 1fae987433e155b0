import importlib.util
import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("EMOLIB_FAST", "1")
# Plots the tests and notebooks save go to a temporary folder, so a test run leaves figures/ as it found it.
# EMOLIB_FIGURES=figures regenerates the shipped ones on purpose (e.g. the browser test's screenshot).
os.environ.setdefault("EMOLIB_FIGURES", tempfile.mkdtemp(prefix="emolib-figures-"))

# Seconds after which a child process is taken to hang. Never a measure of speed: no test asserts how fast
# anything runs (timings live in scripts/benchmark_speed.py); this only keeps a broken run from hanging the
# suite, so it is generous enough for a busy classroom machine.
HANG_GUARD = 600


def script(name: str):
    """A script of scripts/ imported as a module (tests call its functions as the script would)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fer_root():
    from emolib.faces.data.datasets import fer2013_available
    from emolib.config import data_root

    if not fer2013_available():
        pytest.skip(f"FER2013 not found under {data_root()} (set EMOLIB_DATA to the folder holding fer2013/)")
    return data_root() / "fer2013"
