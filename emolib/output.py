"""Writing the user's files safely: never a partial file, never a silent overwrite, normal permissions.

Every file the command line, the widget and the training scripts write goes through here:
:func:`check_target` refuses a target before any work is done (a folder, a device, an existing file
without ``force``, a missing or unwritable folder), and :func:`write_files` writes each file to a
temporary name in the same folder, then publishes them all at once, or none of them:

- without ``force`` the final name is claimed with ``os.link``, which fails if the name exists, so
  two runs racing for one name cannot both win (check and write are one step);
- with ``force`` ``os.replace`` swaps the file in atomically, keeping the old file's permissions;
- a new file gets the permissions the user's umask gives (``mkstemp`` alone would make it 0600).
"""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import EmolibError


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 100 else text[:97] + "..."


def check_target(path: str | Path, force: bool = False) -> Path:
    """A path we may write to, or an EmolibError saying why not (checked before any work is done)."""
    out = Path(path)
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a name too long, a folder on the way that is a file, ...
        raise EmolibError(f"cannot write {_short(out)}: {exc.strerror}; choose another file name") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise EmolibError(f"{_short(out)} is a folder; give a file name inside it, e.g. {_short(out / 'song.mid')}")
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            raise EmolibError(f"{_short(out)} is a device, pipe or socket, not a file; emolib will not replace it")
        if not force:
            raise EmolibError(f"{_short(out)} exists; pass --force to overwrite it (or choose another name)")
    parent = out.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise EmolibError(f"cannot write {_short(out)}: folder {_short(parent)} is missing or not writable")
    return out


def check_output(path: str | Path, force: bool = False) -> Path:
    """check_target for scripts: a one-line exit instead of an exception."""
    try:
        return check_target(path, force)
    except EmolibError as exc:
        raise SystemExit(f"error: {exc}") from None


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_files(files: list[tuple[Path, Callable[[str], object]]], force: bool = False) -> None:
    """Write each (path, writer) pair, where writer(tmp_name) writes the file; all appear, or none.

    Raises EmolibError (one line) on any failure, leaving no temporary or partial file behind and
    every earlier file as it was.
    """
    targets = [Path(p) for p, _ in files]
    if len({os.path.abspath(p) for p in targets}) != len(targets):
        raise EmolibError("two outputs name the same file (" + ", ".join(map(_short, targets)) + "); give each its own name")
    for p in targets:
        check_target(p, force)
    temps: list[str] = []
    published: list[Path] = []
    try:
        for path, write in files:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            os.close(fd)
            temps.append(tmp)
            write(tmp)
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode) if force and path.is_file() else _default_mode()
            except OSError:
                mode = _default_mode()
            os.chmod(tmp, mode)
        for path, tmp in zip(targets, temps):
            _publish(tmp, path, force)
            published.append(path)
    except (OSError, EmolibError) as exc:
        if not force:  # a file we created is removed again: all or nothing
            for path in published:
                path.unlink(missing_ok=True)
        if isinstance(exc, EmolibError):
            raise
        where = _short(Path(exc.filename)) if getattr(exc, "filename", None) else "the output folder"
        raise EmolibError(f"could not write {where}: {exc.strerror or exc}; nothing was written") from None
    finally:
        for tmp in temps:
            if os.path.lexists(tmp):
                os.unlink(tmp)


def _publish(tmp: str, path: Path, force: bool) -> None:
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic: fails if the name exists, even if it appeared a moment ago
    except FileExistsError:
        raise EmolibError(f"{_short(path)} appeared while emolib was writing; pass --force to overwrite it") from None
    except OSError:  # a file system without hard links: claim the name exclusively, then swap in
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise EmolibError(f"{_short(path)} appeared while emolib was writing; pass --force to overwrite it") from None
        os.replace(tmp, path)


def free_path(folder: Path, stem: str, suffix: str) -> Path:
    """folder/stem+suffix, or the first of stem_1, stem_2, ... whose name is free (a dangling link counts as taken)."""
    path, i = folder / f"{stem}{suffix}", 0
    while os.path.lexists(path):
        i += 1
        path = folder / f"{stem}_{i}{suffix}"
    return path
