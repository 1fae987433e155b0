"""Reading the user's files safely: what emolib is given to read is checked before it is opened."""
from __future__ import annotations

from pathlib import Path

from ..errors import BadInput, short


def check_readable_file(path: Path, what: str, error: type[BadInput] = BadInput) -> None:
    """A clear `error` (a BadInput) unless path is an existing regular file (not a folder, FIFO or device)."""
    import stat

    a = "an" if what[0] in "aeiou" else "a"
    if not str(path):
        raise error(f"the {what} path is empty", f"give the {what}'s path")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{short(path)}: no such file") from None
    except PermissionError:
        raise error(f"{short(path)}: permission denied", f"make the {what} readable") from None
    except OSError as exc:  # a name too long, a loop of links, ...
        raise error(f"{short(path)}: cannot open ({exc.strerror})", f"check the {what}'s path") from None
    if stat.S_ISDIR(mode):
        raise error(f"{short(path)} is a folder, not {a} {what}", f"give one {what}")
    if not stat.S_ISREG(mode):
        raise error(f"{short(path)} is not a regular file (a device, pipe or socket)", f"give {a} {what}")
