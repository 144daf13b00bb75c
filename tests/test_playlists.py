"""Playlists in a real MongoDB, and M3U8/XSPF files that round-trip through them."""

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from core.errors import NotFoundError
from core.library.analyse import track_id
from core.playlists.formats import export_playlist, import_playlist
from core.playlists.store import Playlists
from core.playlists.xspf import NS
from core.store.mongo import MongoStore

NAMES = ["Sigur Rós/Ágætis byrjun/01 Intro.flac", "日本語/曲 #1 100%.ogg", "plain/a&b <c>.mp3",
         "plain/d.wav"]


@pytest.fixture
def library(store, tmp_path):
    """Four stored tracks whose files exist, with unicode and URI-hostile names."""
    paths = []
    for i, name in enumerate(NAMES):
        path = tmp_path / "music" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        paths.append(str(path))
        store.tracks.insert_one({"_id": track_id(path), "path": str(path), "source_path": str(path),
                                 "title": f"Title & <{i}>", "artist": "Ártist" if i else None,
                                 "album": "Album", "duration_s": 61.4 + i})
    return paths


def test_create_edit_and_delete(store, library):
    playlists = Playlists(store)
    ids = [track_id(p) for p in library]
    first = playlists.create("  Road trip ", ids[:2])
    assert (first.name, first.tracks) == ("Road trip", tuple(ids[:2]))
    with pytest.raises(ValueError, match="already exists"):
        playlists.create("Road trip")
    with pytest.raises(NotFoundError, match="not in the library: nope"):
        playlists.create("bad", ["nope"])
    with pytest.raises(ValueError, match="needs a name"):
        playlists.create("   ")
    assert playlists.add("Road trip", [ids[2], ids[0]], position=1).tracks == (
        ids[0], ids[2], ids[0], ids[1])
    assert playlists.move(first.id, [3], 0).tracks == (ids[1], ids[0], ids[2], ids[0])
    assert playlists.move(first.id, [0, 1], 4).tracks == (ids[2], ids[0], ids[1], ids[0])
    assert playlists.remove(first.id, [1, 3]).tracks == (ids[2], ids[1])
    with pytest.raises(ValueError, match="no entry at position 5"):
        playlists.remove(first.id, [5])
    assert playlists.rename(first.id, "Drive").name == "Drive"
    assert playlists.free_name("Drive") == "Drive (2)"
    queue = playlists.create("Saved queue", ids[::-1])  # "save queue as playlist"
    assert [p.name for p in playlists.list()] == ["Drive", "Saved queue"]
    playlists.delete("Drive")
    assert [p.id for p in playlists.list()] == [queue.id]
    with pytest.raises(NotFoundError):
        playlists.get("Drive")


@pytest.mark.parametrize("suffix", [".m3u8", ".xspf"])
@pytest.mark.parametrize("relative", [False, True])
def test_round_trip_with_unicode_paths(store, library, tmp_path, suffix, relative):
    playlists = Playlists(store)
    original = playlists.create("Mix", [track_id(p) for p in library + library[:1]])
    dest = tmp_path / "lists" / f"Mix ñ{suffix}"
    dest.parent.mkdir()
    export_playlist(store, original, dest, relative=relative)
    text = dest.read_text(encoding="utf-8")
    assert (str(tmp_path) in text) != relative
    back, missing = import_playlist(playlists, dest)
    assert missing == []
    assert back.tracks == original.tracks and back.name == ("Mix (2)" if suffix == ".xspf" else "Mix ñ")


def test_m3u8_is_extended(store, library, tmp_path):
    playlist = Playlists(store).create("Mix", [track_id(library[0]), track_id(library[1])])
    dest, missing = export_playlist(store, playlist, tmp_path / "mix.m3u8")
    assert missing == []
    lines = dest.read_text(encoding="utf-8").splitlines()
    assert lines == ["#EXTM3U", "#EXTINF:61,Title & <0>", library[0],
                     "#EXTINF:62,Ártist - Title & <1>", library[1]]


def test_xspf_escapes_and_percent_encodes(store, library, tmp_path):
    playlist = Playlists(store).create("A & B", [track_id(library[1]), track_id(library[2])])
    root = ET.parse(export_playlist(store, playlist, tmp_path / "ab.xspf")[0]).getroot()
    tracks = root.findall(f"{{{NS}}}trackList/{{{NS}}}track")
    locations = [t.findtext(f"{{{NS}}}location") for t in tracks]
    assert locations[0].startswith("file:///") and "%E6%97%A5" in locations[0]
    assert "%23" in locations[0] and "%25" in locations[0] and " " not in locations[0]
    assert locations[1].endswith("/plain/a%26b%20%3Cc%3E.mp3")
    assert tracks[1].findtext(f"{{{NS}}}title") == "Title & <2>"
    assert tracks[1].findtext(f"{{{NS}}}duration") == "63400"
    assert root.findtext(f"{{{NS}}}title") == "A & B"


def test_missing_entries_are_reported_with_reasons(store, library, tmp_path):
    stray = tmp_path / "music" / "not imported.ogg"
    stray.write_bytes(b"x")
    (tmp_path / "list.m3u8").write_text("\n".join([
        "#EXTM3U", "#EXTINF:1,x", "music/plain/d.wav", "music/gone.ogg", str(stray),
        "http://radio.example/stream", "", "# a comment", library[0]]) + "\n", encoding="utf-8")
    playlist, missing = import_playlist(Playlists(store), tmp_path / "list.m3u8")
    assert playlist.tracks == (track_id(library[3]), track_id(library[0]))
    assert [(m.entry, m.reason) for m in missing] == [
        ("http://radio.example/stream", "not a local file (http URL)"),
        (str(tmp_path / "music" / "gone.ogg"), "file not found"),
        (str(stray), "not in the library (import its folder first)")]


@pytest.mark.parametrize("suffix", [".m3u8", ".xspf"])
def test_export_reports_tracks_that_left_the_library(store, library, tmp_path, suffix):
    playlist = Playlists(store).create("Mix", [track_id(p) for p in library[:2]])
    store.tracks.delete_one({"_id": track_id(library[0])})  # its file was deleted, then rescanned
    dest, missing = export_playlist(store, playlist, tmp_path / f"mix{suffix}")
    assert [(m.entry, m.reason) for m in missing] == [(track_id(library[0]),
                                                        "no longer in the library")]
    back, _ = import_playlist(Playlists(store), dest)
    assert back.tracks == (track_id(library[1]),)


def test_bad_playlist_files_are_clear_errors(store, tmp_path):
    (tmp_path / "broken.xspf").write_text("<playlist><trackList>", encoding="utf-8")
    with pytest.raises(ValueError, match="not an XSPF playlist"):
        import_playlist(Playlists(store), tmp_path / "broken.xspf")
    with pytest.raises(ValueError, match=r"unknown playlist format '\.txt'"):
        import_playlist(Playlists(store), tmp_path / "list.txt")
    assert Playlists(store).list() == []


def test_playlist_command(env_for_cli, mongo_uri, tmp_path):
    cli_store = MongoStore(mongo_uri, os.environ["ENCORE_DB"])
    song = tmp_path / "música" / "canción.ogg"
    song.parent.mkdir()
    song.write_bytes(b"x")
    cli_store.tracks.insert_one({"_id": track_id(song), "path": str(song), "source_path": str(song),
                                 "title": "Canción", "artist": "Él", "duration_s": 3.0})
    (tmp_path / "in.m3u8").write_text("música/canción.ogg\nmúsica/otra.ogg\n", encoding="utf-8")

    def encore(*args):
        proc = subprocess.run([sys.executable, "-m", "core.cli", "playlist", *args, "--json"],
                              capture_output=True, text=True, env=env_for_cli, timeout=120,
                              check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    imported = encore("import", str(tmp_path / "in.m3u8"), "--name", "Fiesta")
    assert (imported["name"], imported["tracks"]) == ("Fiesta", 1)
    assert imported["missing"] == [{"entry": str(tmp_path / "música" / "otra.ogg"),
                                    "reason": "file not found"}]
    assert [p["name"] for p in encore("list")] == ["Fiesta"]
    assert [t["title"] for t in encore("show", "Fiesta")["tracks"]] == ["Canción"]
    written = encore("export", "Fiesta", str(tmp_path / "out.xspf"), "--relative")["written"]
    assert "m%C3%BAsica/canci%C3%B3n.ogg" in Path(written).read_text(encoding="utf-8")
    cli_store.close()


@pytest.mark.parametrize("suffix", [".m3u8", ".xspf"])
def test_a_file_name_that_is_not_utf8_round_trips(store, tmp_path, suffix):
    path = str(tmp_path / os.fsdecode(b"caf\xe9 latin-1.ogg"))
    Path(path).write_bytes(b"x")
    doc = {"_id": track_id(path), "path": path, "source_path": path, "title": "Café",
           "duration_s": 2.0}
    assert store.put_tracks([(doc, b"", [0, 0])]) == {}  # stored as the import stores it
    playlists = Playlists(store)
    dest, missing = export_playlist(store, playlists.create("Latin", [doc["_id"]]),
                                    tmp_path / f"latin{suffix}")
    assert missing == []
    back, missing = import_playlist(playlists, dest)
    assert (back.tracks, missing) == ((doc["_id"],), [])


def test_recommend_and_radio_print_and_write_any_file_name(env_for_cli, mongo_uri, tmp_path):
    """A track whose name is not UTF-8 is printed (text and JSON) and written to the radio's M3U
    losslessly: the file system's bytes come back from the JSON and from the playlist."""
    from core.library.pipeline import run_import
    from tests.audio import music_like, write

    root = tmp_path / "lib"
    latin = root / "b" / os.fsdecode(b"caf\xe9.wav")
    os.rename(write(root / "b" / "cafe.wav", music_like(1, seconds=4, seed=9), 22050), latin)
    for i in range(5):
        write(root / "ab"[i % 2] / f"song {i}.wav", music_like(i % 2, seconds=4, seed=i), 22050)
    cli_store = MongoStore(mongo_uri, os.environ["ENCORE_DB"])
    assert run_import(str(root), cli_store, jobs=1).skipped == []
    cli_store.close()

    def encore(*args):
        proc = subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True,
                              env=env_for_cli, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc.stdout.decode("utf-8")  # strict: whatever is printed is valid UTF-8

    assert "caf\\xe9.wav:" in encore("recommend", str(latin))
    seed = json.loads(encore("recommend", str(latin), "--json"))["seed"]
    assert os.fsencode(seed["path"]) == os.fsencode(latin)
    playlist = tmp_path / "radio.m3u8"
    lines = encore("radio", str(root / "b" / "song 1.wav"), "--count", "5", "--mode", "album",
                   "--json", "--m3u", str(playlist)).splitlines()
    picked = {os.fsencode(json.loads(line)["path"]) for line in lines}
    assert os.fsencode(latin) in picked and os.fsencode(latin) in playlist.read_bytes()
    imported = json.loads(encore("playlist", "import", str(playlist), "--json"))
    assert (imported["tracks"], imported["missing"]) == (len(lines), [])


def test_long_playlists_cost_linear_time(store, tmp_path):
    """Four times the tracks cost about four times the time to create and export: SecantusDB
    answers one ``$in`` in quadratic time (5,000 ids: 24 s, measured), so ids go in chunks."""
    ids = [f"{i:032x}" for i in range(4000)]
    store.tracks.insert_many([{"_id": i, "path": f"/music/{i}.flac", "source_path": f"/music/{i}.flac"}
                              for i in ids])
    playlists = Playlists(store)

    def seconds(n: int) -> float:
        start = time.perf_counter()
        playlist = playlists.create(f"{n} tracks", ids[:n])
        export_playlist(store, playlist, tmp_path / f"{n}.m3u8")
        return time.perf_counter() - start

    small, large = seconds(1000), seconds(4000)
    assert (tmp_path / "4000.m3u8").read_text().count(".flac") == 4000
    assert large < 8 * small, f"1,000 tracks: {small:.2f} s, 4,000: {large:.2f} s"
