"""Errors that carry a message for people: what is wrong, and how to fix it, as data.

``str(error)`` is the whole line the command line prints ("what is wrong; how to fix it"). The parts are
kept apart: ``error.message`` says what is wrong and ``error.hint`` how to fix it where the message is read
on the command line or in Python. The widget words its own fix for each kind of error (its subclass), so no
code edits message strings.
"""
from __future__ import annotations


class EmolibError(Exception):
    """An error the command line and the widgets show as one friendly line."""

    def __init__(self, message: str, hint: str = ""):
        self.message, self.hint = message, hint
        super().__init__(f"{message}; {hint}" if hint else message)


class DatasetNotFound(EmolibError):
    """A dataset folder or file is missing or laid out differently from what we expect."""


class BadInput(EmolibError, ValueError):
    """A file or argument the user gave cannot be used (not an image, no face, empty MIDI, ...): a ValueError too,
    so code that catches ValueError for a bad value still catches it."""


class BadImage(BadInput):
    """The image itself cannot be used: missing, unreadable, not an image, too large."""


class NoFace(BadInput):
    """The image is fine but no face was found in it."""


class BadMidi(BadInput):
    """The MIDI file given as an opening cannot be used."""


def brief(value) -> str:
    """A value as a one-line message may show it: numbers and short strings as they are, anything else by its type
    (never the repr of a whole array or image)."""
    import numbers

    if value is None or isinstance(value, (bool, numbers.Number)):
        return repr(value)[:40]
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return f"a {type(value).__name__}"


def short(path) -> str:
    """A path as it may appear in a one-line message: at most 100 characters, control characters shown as '?'."""
    text = "".join(c if c.isprintable() else "?" for c in str(path))
    return text if len(text) <= 100 else text[:97] + "..."


def flag(value, name: str) -> bool:
    """A yes/no argument as a bool, or a BadInput: 'no', 0 or None are not False here (a string is always true in
    Python, so center_fallback='no' would silently mean yes)."""
    if not isinstance(value, bool):
        raise BadInput(f"{name} must be True or False, got {brief(value)}")
    return value
