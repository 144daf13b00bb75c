"""Covers from embedded art (ID3, FLAC, Vorbis, MP4) and from the folder, cached on disk."""

import base64
import shutil
import struct
import subprocess
import zlib

import mutagen
import pytest
from mutagen.flac import Picture
from mutagen.id3 import APIC, ID3
from mutagen.mp4 import MP4, MP4Cover

from core.audio.covers import cached_cover, find_cover, folder_image
from tests.audio import sine, write


def tiny_png(rgb=(200, 30, 30), size=2) -> bytes:
    """A valid ``size`` x ``size`` PNG of one colour."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\0" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def _picture(data: bytes) -> Picture:
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/png", data
    return picture


def _flac(path, data):
    audio = mutagen.File(write(path, sine(seconds=0.5), 48000))
    audio.add_picture(_picture(data))
    audio.save()


def _ogg(path, data):
    audio = mutagen.File(write(path, sine(seconds=0.5), 48000))
    audio["metadata_block_picture"] = [base64.b64encode(_picture(data).write()).decode("ascii")]
    audio.save()


def _mp3(path, data):
    write(path, sine(seconds=0.5), 48000)
    tags = ID3()
    tags.add(APIC(encoding=3, mime="image/png", type=3, desc="front", data=data))
    tags.save(path)


def _m4a(path, data):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to write an MP4 file")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac",
                    str(path)], check=True)
    audio = MP4(path)
    audio["covr"] = [MP4Cover(data, imageformat=MP4Cover.FORMAT_PNG)]
    audio.save()


@pytest.mark.parametrize("ext, embed", [("flac", _flac), ("ogg", _ogg), ("mp3", _mp3),
                                        ("m4a", _m4a)])
def test_embedded_cover_is_found_and_cached(tmp_path, ext, embed):
    image = tiny_png()
    track = tmp_path / "album" / f"song.{ext}"
    embed(track, image)
    (tmp_path / "album" / "cover.png").write_bytes(tiny_png((0, 0, 255)))  # embedded art wins
    cover = find_cover(track)
    assert (cover.data, cover.extension, cover.source) == (image, ".png", "embedded")
    cached = cached_cover(track, tmp_path / "data" / "covers")
    assert cached.parent == tmp_path / "data" / "covers" and cached.read_bytes() == image


def test_folder_image_any_case_and_shared_cache(tmp_path):
    album = tmp_path / "Album"
    first = write(album / "01.wav", sine(seconds=0.2), 48000)
    second = write(album / "02.wav", sine(seconds=0.2), 48000)
    (album / "Front.png").write_bytes(tiny_png((0, 255, 0)))
    (album / "FOLDER.JPG").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 16)
    assert folder_image(album) == album / "FOLDER.JPG"  # folder.* before front.*
    cover = find_cover(first)
    assert (cover.extension, cover.source) == (".jpg", str(album / "FOLDER.JPG"))
    cache = tmp_path / "covers"
    assert cached_cover(first, cache) == cached_cover(second, cache)
    assert [p.name for p in cache.iterdir()] == [cached_cover(first, cache).name]


def test_no_cover_and_a_fake_image(tmp_path):
    track = write(tmp_path / "a" / "song.wav", sine(seconds=0.2), 48000)
    assert find_cover(track) is None and cached_cover(track, tmp_path / "covers") is None
    (tmp_path / "a" / "cover.jpg").write_text("not an image")
    assert find_cover(track) is None
    assert not (tmp_path / "covers").exists()
