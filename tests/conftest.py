import os

import pytest

os.environ.setdefault("EMOLIB_FAST", "1")


@pytest.fixture
def fer_root():
    from emolib.faces.datasets import fer2013_available
    from emolib.config import data_root

    if not fer2013_available():
        pytest.skip(f"FER2013 not found under {data_root()} (set EMOLIB_DATA to the folder holding fer2013/)")
    return data_root() / "fer2013"
