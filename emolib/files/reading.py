"""Reading files safely: what emolib reads is checked before it is opened, and bounded by what it unpacks to.

- :func:`check_readable_file`: an existing regular file (not a folder, a FIFO that would block forever, or a device
  such as /dev/zero that never ends), or a clear error;
- :func:`read_bounded`: a file's bytes, never more than a limit in memory (a link to /dev/zero, a file swapped for
  a huge one: refused after at most limit + 1 bytes);
- :func:`check_unpacked`: a zip container (a torch checkpoint, a numpy .npz) whose records, once unpacked, stay
  within a limit, checked from its directory before any record is read: a 3 MB file that would inflate to 2 GB is
  refused without inflating it.
"""
from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

from ..errors import BadInput, EmolibError, short


def check_readable_file(path: Path, what: str, error: type[EmolibError] = BadInput, *, links: bool = True) -> None:
    """A clear `error` unless path is an existing regular file (not a folder, FIFO or device); links=False: nor a
    link (a cache of ours is never one: a link planted at its name is refused, not followed)."""
    a = "an" if what[0] in "aeiou" else "a"
    if not str(path):
        raise error(f"the {what} path is empty", f"give the {what}'s path")
    try:
        mode = (os.stat if links else os.lstat)(path).st_mode
    except FileNotFoundError:
        raise error(f"{short(path)}: no such file") from None
    except PermissionError:
        raise error(f"{short(path)}: permission denied", f"make the {what} readable") from None
    except OSError as exc:  # a name too long, a loop of links, ...
        raise error(f"{short(path)}: cannot open ({exc.strerror or exc})", f"check the {what}'s path") from None
    except ValueError:  # a NUL byte in the name
        raise error(f"{short(path)}: a file name cannot hold a NUL byte", f"check the {what}'s path") from None
    if stat.S_ISLNK(mode):
        raise error(f"{short(path)} is a link, and emolib reads its {what} only from a file of its own")
    if stat.S_ISDIR(mode):
        raise error(f"{short(path)} is a folder, not {a} {what}", f"give one {what}")
    if not stat.S_ISREG(mode):
        raise error(f"{short(path)} is not a regular file (a device, pipe or socket)", f"give {a} {what}")


def read_bounded(path: Path, limit: int, what: str, error: type[EmolibError] = EmolibError) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or `error` saying why not (never more than limit + 1
    bytes are read, whatever the file claims or becomes while it is read)."""
    check_readable_file(path, what, error)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise error(f"{short(path)}: its {what} cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise error(f"{short(path)}: its {what} is over {limit / 1e6:.0f} MB, more than any emolib {what} holds")
    return data


def check_unpacked(path: Path, limit: int, what: str, error: type[EmolibError] = EmolibError, *,
                   data: bytes | None = None) -> None:
    """`error` unless the records of a zip container (a torch checkpoint, an .npz: the file at path, or its bytes
    already read) unpack to at most `limit` bytes in all, read from its directory before any record is inflated. A
    file that is no zip passes: the caller's reader judges it, and its size on disk is then its size in memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if data is not None else path) as z:
            sizes = [(info.filename, info.file_size) for info in z.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    total = sum(size for _, size in sizes)
    if total > limit:
        biggest = max(sizes, key=lambda s: s[1])
        raise error(f"{short(path)}: its {what} would unpack to {total / 1e6:,.0f} MB (a record of "
                    f"{biggest[1] / 1e6:,.0f} MB), more than the {limit / 1e6:.0f} MB an emolib {what} may take",
                    "the file is damaged or not emolib's; delete it or give another")
