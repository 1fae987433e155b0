import os

import pytest

os.environ.setdefault("EMOLIB_FAST", "1")

# Seconds after which a child process is taken to hang. Never a measure of speed: no test asserts how fast
# anything runs (timings live in scripts/benchmark_speed.py); this only keeps a broken run from hanging the
# suite, so it is generous enough for a busy classroom machine.
HANG_GUARD = 600


@pytest.fixture
def fer_root():
    from emolib.faces.data.datasets import fer2013_available
    from emolib.config import data_root

    if not fer2013_available():
        pytest.skip(f"FER2013 not found under {data_root()} (set EMOLIB_DATA to the folder holding fer2013/)")
    return data_root() / "fer2013"
