"""Errors that carry a message for people: what is wrong and how to fix it."""
from __future__ import annotations


class EmolibError(Exception):
    """An error the command line and the widgets show as one friendly line."""


class DatasetNotFound(EmolibError):
    """A dataset folder or file is missing or laid out differently from what we expect."""


class BadInput(EmolibError):
    """A file or argument the user gave cannot be used (not an image, no face, empty MIDI, ...)."""
