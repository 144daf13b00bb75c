"""Track number, disc, date and album artist are read from every tag format Encore imports, and
untagged files get a readable title, their folder as album and a mark that both are guesses."""

from __future__ import annotations

from pathlib import Path

import av
import mutagen
import numpy as np
import pytest
from mutagen.id3 import TALB, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK

from core.audio.tags import read_tags, title_from_name
from core.library.analyse import analyse_file
from tests.audio import sine, write

SR = 48000
EASY = {"title": "Kart Grand Prix", "artist": "Composer", "album": "Racing", "albumartist": "Various",
        "tracknumber": "3/12", "discnumber": "2/2", "date": "2004-05-06"}
ID3_FRAMES = (TIT2(encoding=3, text=["Kart Grand Prix"]), TPE1(encoding=3, text=["Composer"]),
              TALB(encoding=3, text=["Racing"]), TPE2(encoding=3, text=["Various"]),
              TRCK(encoding=3, text=["3/12"]), TPOS(encoding=3, text=["2/2"]),
              TDRC(encoding=3, text=["2004-05-06"]))


def _m4a(path: Path) -> Path:
    """An AAC file in an MP4 container (encoded with PyAV: libsndfile writes no MP4)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream("aac", rate=SR, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(sine(seconds=0.5).T), format="fltp",
                                           layout="stereo")
        frame.sample_rate = SR
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path


def _audio(path: Path) -> Path:
    if path.suffix == ".m4a":
        return _m4a(path)
    kwargs = {"format": "OGG", "subtype": "OPUS"} if path.suffix == ".opus" else {}
    return write(path, sine(seconds=0.5), SR, **kwargs)


def _tag_easy(path: Path) -> None:
    audio = mutagen.File(path, easy=True)
    if audio.tags is None:
        audio.add_tags()
    audio.update(EASY)
    audio.save()


def _tag_id3(path: Path) -> None:
    """WAV and AIFF carry ID3 frames that mutagen has no easy interface for."""
    audio = mutagen.File(path)
    audio.add_tags()
    for frame in ID3_FRAMES:
        audio.tags.add(frame)
    audio.save()


@pytest.mark.parametrize("name", ["a.flac", "a.ogg", "a.opus", "a.mp3", "a.m4a", "a.wav", "a.aiff"])
def test_every_format_gives_track_disc_date_and_album_artist(tmp_path, name):
    path = _audio(tmp_path / "folder" / name)
    (_tag_id3 if path.suffix in (".wav", ".aiff") else _tag_easy)(path)
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.album, tags.albumartist) == (
        "Kart Grand Prix", "Composer", "Racing", "Various")
    assert (tags.tracknumber, tags.discnumber, tags.date) == (3, 2, "2004-05-06")
    assert tags.tagged and tags.guessed == ()


def test_vorbis_comment_spellings_of_album_artist_and_year(tmp_path):
    path = _audio(tmp_path / "a.ogg")
    audio = mutagen.File(path)
    audio["album artist"], audio["year"], audio["title"] = "Band", "1998", "Song"
    audio.save()
    tags = read_tags(path)
    assert (tags.albumartist, tags.date, tags.artist) == ("Band", "1998", "Band")


@pytest.mark.parametrize(("stem", "title", "number"), [
    ("kart_grand_prix", "kart grand prix", None), ("03 - Intro", "Intro", 3),
    ("03_kart-theme", "kart theme", 3), ("3. Boss fight", "Boss fight", 3),
    ("2nd_theme", "2nd theme", None), ("1812 Overture", "1812 Overture", None), ("07", "07", None),
    ("__", "Untitled", None), ("a  --  b", "a b", None),
])
def test_file_names_become_readable_titles(stem, title, number):
    assert title_from_name(stem) == (title, number)


def test_untagged_file_is_marked_as_guessed(tmp_path):
    path = _audio(tmp_path / "Snow Level" / "03_kart_grand-prix.ogg")
    tags = read_tags(path)
    assert (tags.title, tags.album, tags.tracknumber) == ("kart grand prix", "Snow Level", 3)
    assert tags.guessed == ("title", "album", "tracknumber") and not tags.tagged


def test_a_tagged_title_keeps_the_file_names_number_as_a_guess(tmp_path):
    path = _audio(tmp_path / "Album" / "05 - x.flac")
    audio = mutagen.File(path)
    audio["title"], audio["album"] = "Real Title", "Real Album"
    audio.save()
    tags = read_tags(path)
    assert (tags.title, tags.album, tags.tracknumber, tags.guessed) == (
        "Real Title", "Real Album", 5, ("tracknumber",))


def test_the_stored_document_carries_the_new_tags(tmp_path):
    path = _audio(tmp_path / "Album" / "01 - a.flac")
    _tag_easy(path)
    stored = analyse_file(path).doc["tags"]
    assert {key: stored[key] for key in ("tracknumber", "discnumber", "albumartist", "date", "guessed")} == {
        "tracknumber": 3, "discnumber": 2, "albumartist": "Various", "date": "2004-05-06", "guessed": []}
