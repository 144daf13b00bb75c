"""Tag values from anyone's files are validated and clamped before they are stored."""

from __future__ import annotations

import os
from pathlib import Path

import mutagen
import pytest

from core.audio.tags import MAX_TAG_CHARS, MAX_TRACK_NUMBER, read_tags
from tests.audio import sine, write


@pytest.fixture
def flac(tmp_path):
    return write(tmp_path / "album" / "song.flac", sine(seconds=0.5), 48000)


def _tag(path, **values):
    audio = mutagen.File(path, easy=True)
    for key, value in values.items():
        audio[key] = value
    audio.save()


@pytest.mark.parametrize(("text", "number"), [
    ("99999999999999999999", MAX_TRACK_NUMBER), ("9" * 5000, MAX_TRACK_NUMBER), ("07/12", 7),
    ("3 of 10", 3), ("nan", None), ("-4", None), ("²", None), ("", None), ("12345", MAX_TRACK_NUMBER),
])
def test_track_numbers_are_clamped(flac, text, number):
    _tag(flac, tracknumber=text)
    assert read_tags(flac).tracknumber == number


def test_text_is_printable_and_short(flac):
    _tag(flac, title="line\nbreak\x00\x07bell", artist="x" * 100_000, album=["first", "second"])
    tags = read_tags(flac)
    assert tags.title == "line break bell"
    assert tags.artist == "x" * MAX_TAG_CHARS
    assert tags.album == "first"


def test_untagged_file_with_an_undecodable_name(tmp_path):
    made = write(tmp_path / "made.wav", sine(seconds=0.5), 48000)
    folder = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"dossier-\xe9")))
    folder.mkdir()
    odd = folder / os.fsdecode(b"chanson-\xff.wav")
    made.rename(odd)
    tags = read_tags(odd)
    assert (tags.title, tags.album) == ("chanson-\\xff", "dossier-\\xe9")
    (tags.title + tags.album).encode("utf-8")  # storable as BSON text
