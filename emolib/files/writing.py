"""Writing the user's files safely: never a partial file, never a silent overwrite, never an input or a device.

Every file the command line, the widget and the training scripts write goes through here:
:func:`check_target` refuses a target before any work is done (a folder, a device, a pipe, a pseudo file
system such as /proc, an existing file without ``force``, a missing or unwritable folder, a file that is one
of the inputs), and :func:`write_files` writes each file to a temporary name in the same folder, then publishes
them all at once, or none of them:

- targets are compared as files (the same resolved path, or the same inode), with every input and each other:
  ``--out`` naming the photo, or ``--wav`` reaching ``--out`` through a link, is refused;
- a link is followed: with ``force`` the file it points to is replaced and the link kept;
- without ``force`` the final name is claimed with ``os.link``, which fails if the name exists, so two runs
  racing for one name cannot both win (check and write are one step);
- with ``force`` ``os.replace`` swaps the file in atomically, keeping the old file's permissions;
- a new file gets the permissions the user's umask gives (``mkstemp`` alone would make it 0600);
- temporary files have short names (a long but valid output name still fits) and are removed on any error,
  Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import EmolibError, brief, short

PSEUDO = ("/proc", "/sys", "/dev")  # file systems of the kernel and devices: never written, --force or not
NAME_MAX = 255


def _same(a: Path, b: Path) -> bool:
    """Whether two paths are one file: the same resolved path, or (both existing) the same inode."""
    try:
        if os.path.realpath(a) == os.path.realpath(b):
            return True
    except (OSError, ValueError):
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(path: str | Path, force: bool = False, *, inputs: Iterable = (), follow_links: bool = True,
                 shipped: bool = False) -> Path:
    """The file to write for `path` (a link's target when path is a link), or an EmolibError saying why not.
    inputs: the files the run reads (photo, MIDI opening, checkpoint, soundfont), each a path or (path, what it is):
    an output may never be one of them, nor, unless shipped=True (the scripts that make them), any file emolib ships
    (its checkpoints and their networks, the opening bank, the sample faces), --force or not. follow_links=False: a
    link at path is itself replaced, never what it points to (emolib's own caches)."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise EmolibError(f"an output file name is a path, got {brief(path)}", "give a file name, e.g. song.mid")
    text = os.fspath(path)
    if not text:
        raise EmolibError("an output file name is empty", "give a file name, e.g. song.mid")
    if "\x00" in text:
        raise EmolibError(f"{short(text)}: a file name cannot hold a NUL byte", "choose another file name")
    if text.endswith(("/", os.sep)):
        raise EmolibError(f"{short(text)} names a folder (it ends with /)", "give a file name inside it, e.g. "
                          f"{short(Path(text) / 'song.mid')}")
    out = Path(text)
    if len(os.fsencode(out.name)) > NAME_MAX:
        raise EmolibError(f"cannot write {short(out)}: the file name is longer than {NAME_MAX} bytes",
                          "choose a shorter name")
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a folder on the way that is a file, a loop of links, ...
        raise EmolibError(f"cannot write {short(out)}: {exc.strerror}", "choose another file name") from None
    real = Path(os.path.realpath(out)) if follow_links else Path(os.path.abspath(out))
    system = next((p for p in PSEUDO for where in (os.path.abspath(out), str(real))
                   if where == p or where.startswith(p + "/")), None)
    if system:
        raise EmolibError(f"{short(out)} is in {system}, a system file system, not a place for files",
                          "write to a file in your own folder")
    if st is not None:
        if stat.S_ISLNK(st.st_mode) and follow_links:
            try:
                st = os.stat(out)
            except OSError:
                raise EmolibError(f"{short(out)} is a link to a missing file", "remove the link or choose another "
                                  "name") from None
        if stat.S_ISDIR(st.st_mode):
            raise EmolibError(f"{short(out)} is a folder", f"give a file name inside it, e.g. {short(out / 'song.mid')}")
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            raise EmolibError(f"{short(out)} is a device, pipe or socket, not a file; emolib never writes one, "
                              "--force or not", "choose a file name")
        if not force:
            raise EmolibError(f"{short(out)} exists", "pass --force to overwrite it (or choose another name)")
    for given, what in _read_by_the_run(inputs, shipped):
        if _same(out, given):
            raise EmolibError(f"{short(out)} is {what} ({short(given)}); emolib will not write over it, --force or not",
                              "choose another output name")
    parent = real.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise EmolibError(f"cannot write {short(out)}: folder {short(parent)} is missing or not writable")
    return real if st is not None and follow_links else out


def _read_by_the_run(inputs: Iterable, shipped: bool) -> list[tuple[Path, str]]:
    """Every file an output must not be: the inputs given (a path, or (path, what it is)) and, unless shipped, the
    files emolib ships."""
    from ..config import PACKAGE_DATA

    out = []
    for item in inputs:
        given, what = item if isinstance(item, tuple) else (item, "one of the inputs")
        if isinstance(given, bytes):
            given = os.fsdecode(given)
        if given is not None and isinstance(given, (str, os.PathLike)) and os.fspath(given):
            out.append((Path(given), what))
    if shipped or not PACKAGE_DATA.is_dir():
        return out
    return out + [(f, f"a file emolib ships ({f.relative_to(PACKAGE_DATA.parent).as_posix()})")
                  for f in PACKAGE_DATA.rglob("*") if f.is_file()]


def check_output(path: str | Path, force: bool = False) -> Path:
    """check_target for the scripts that make emolib's own files (a shipped checkpoint among them): a one-line exit
    instead of an exception."""
    try:
        return check_target(path, force, shipped=True)
    except EmolibError as exc:
        raise SystemExit(f"error: {exc}") from None


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_files(files: list[tuple[Path, Callable[[str], object]]], force: bool = False, *, inputs: Iterable = (),
                follow_links: bool = True, shipped: bool = False) -> None:
    """Write each (path, writer) pair, where writer(tmp_name) writes the file; all appear, or none.

    Raises EmolibError (one line) on any failure, leaving no temporary or partial file behind and every
    earlier file as it was; an interruption (Ctrl-C, SIGTERM) cleans up the same way before it goes on.
    """
    inputs = list(inputs)
    targets = [check_target(p, force, inputs=inputs, follow_links=follow_links, shipped=shipped) for p, _ in files]
    for i, a in enumerate(targets):
        for b in targets[:i]:
            if _same(a, b):
                raise EmolibError(f"two outputs name the same file ({short(b)}, {short(a)})", "give each its own name")
    temps: list[str] = []
    published: list[Path] = []
    try:
        for path, (_, write) in zip(targets, files):
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".emolib-", suffix=".part")
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
    except (OSError, EmolibError, KeyboardInterrupt) as exc:
        if not force:  # a file we created is removed again: all or nothing
            for path in published:
                path.unlink(missing_ok=True)
        if isinstance(exc, (EmolibError, KeyboardInterrupt)):
            raise
        where = short(exc.filename) if getattr(exc, "filename", None) and not str(exc.filename).endswith(".part") \
            else "the output folder"
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
        raise EmolibError(f"{short(path)} appeared while emolib was writing", "pass --force to overwrite it") from None
    except OSError:  # a file system without hard links: claim the name exclusively, then swap in
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise EmolibError(f"{short(path)} appeared while emolib was writing", "pass --force to overwrite it") from None
        os.replace(tmp, path)


def free_path(folder: Path, stem: str, suffix: str) -> Path:
    """folder/stem+suffix, or the first of stem_1, stem_2, ... whose name is free (a dangling link counts as taken)."""
    path, i = folder / f"{stem}{suffix}", 0
    while os.path.lexists(path):
        i += 1
        path = folder / f"{stem}_{i}{suffix}"
    return path
