"""Tag values from anyone's files are validated and clamped before they are stored."""

from __future__ import annotations

import os
from pathlib import Path

import mutagen
import pytest

from core.audio.tags import MAX_DISC_NUMBER, MAX_TAG_CHARS, MAX_TRACK_NUMBER, read_tags
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


@pytest.mark.parametrize(("text", "number"), [
    ("2/3", 2), ("1000", MAX_DISC_NUMBER), ("9" * 5000, MAX_DISC_NUMBER), ("disc one", None), ("", None),
])
def test_disc_numbers_are_clamped(flac, text, number):
    _tag(flac, discnumber=text)
    assert read_tags(flac).discnumber == number


@pytest.mark.parametrize(("text", "date"), [
    ("2004-05-06T10:00:00", "2004-05-06"), ("2004", "2004"), ("2004-05", "2004-05"),
    ("06/05/2004", "2004"), ("May 1998", "1998"), ("20040506", None), ("soon", None),
    ("0000", None), ("1" * 5000, None), ("", None),
])
def test_dates_keep_an_iso_prefix_or_a_plausible_year(flac, text, date):
    _tag(flac, date=text)
    assert read_tags(flac).date == date


def test_text_is_printable_and_short(flac):
    _tag(flac, title="line\nbreak\x00\x07bell", artist="x" * 100_000, album=["first", "second"],
         albumartist="y\x1b" * 100_000)
    tags = read_tags(flac)
    assert tags.title == "line break bell"
    assert tags.artist == "x" * MAX_TAG_CHARS
    assert tags.album == "first"
    assert tags.albumartist == ("y " * MAX_TAG_CHARS)[:MAX_TAG_CHARS].rstrip()


def test_untagged_file_with_an_undecodable_name(tmp_path):
    made = write(tmp_path / "made.wav", sine(seconds=0.5), 48000)
    folder = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"dossier-\xe9")))
    folder.mkdir()
    odd = folder / os.fsdecode(b"chanson-\xff.wav")
    made.rename(odd)
    tags = read_tags(odd)
    # the dash reads as a space in a guessed title; the folder name is the album as it is
    assert (tags.title, tags.album) == ("chanson \\xff", "dossier-\\xe9")
    assert tags.guessed == ("title", "album")
    (tags.title + tags.album).encode("utf-8")  # storable as BSON text
