"""The endless radio against a real MongoDB: repeat window, exclusions, variety caps, skips that
steer, likes that pull, plain-language reasons, and ``encore radio`` end to end."""

import json
import re
import subprocess
import sys
import uuid

import pytest

from core.events import PlayEvent
from core.library.pipeline import run_import
from core.similarity.radio import Radio, RadioOptions, group_keys
from core.similarity.recommend import Recommender
from core.similarity.session import recommend_for_event
from core.store.session_state import SessionView, session_state
from tests.audio import music_like, write

#: Three untagged "albums" (folders) of one timbre each: a and b of six pieces, c of four.
FOLDERS = {"a": (0, 6), "b": (1, 6), "c": (3, 4)}


@pytest.fixture(scope="module")
def library(mongo_uri, tmp_path_factory):
    """A store holding the imported three-folder library (imported once for the module)."""
    from core.store.mongo import MongoStore

    root = tmp_path_factory.mktemp("radio-library")
    for folder, (kind, count) in FOLDERS.items():
        for i in range(count):
            # Lengths differ by over a second: equal lengths and sounds would be taken for copies.
            piece = music_like(kind, seconds=5 + 1.5 * i, seed=7 * kind + i)
            write(root / folder / f"{folder}{i}.wav", piece, 22050)
    store = MongoStore(mongo_uri, f"encore_radio_{uuid.uuid4().hex[:8]}")
    store.ensure_schema()
    run_import(str(root), store, jobs=2)
    ids = {d["path"].rsplit("/", 1)[1][:-4]: d["_id"] for d in store.iter_tracks({}, {"path": 1})}
    yield store, ids
    store.client.drop_database(store.db.name)
    store.close()


def _folder(pick) -> str:
    return pick.doc["path"].rsplit("/", 2)[1]


def _radio(store, **options) -> Radio:
    return Radio(Recommender(store), session_state(store), RadioOptions(**options))


class Session:
    """Events of one listening session sent through ``recommend_for_event`` (the worker's core)."""

    def __init__(self, store):
        self.store, self.recommender = store, Recommender(store)
        self.id, self.ts = f"t{uuid.uuid4().hex[:10]}", 1000.0

    def send(self, kind: str, track: str, position_s: float = 0.0, *,
             caps: tuple[int, int] | None = None) -> dict | None:
        self.ts += 1.0
        event = PlayEvent(kind, track, self.id, self.ts, position_s, caps=caps)
        return recommend_for_event(self.store, self.recommender, event)


def test_nothing_in_the_window_repeats_and_a_small_library_keeps_playing(library):
    store, ids = library
    session = Session(store)
    doc = session.send("seed", ids["a0"])
    played = []
    for _ in range(len(ids) + 4):  # past the whole library: the window shrinks to fit it
        pick = doc["radio"][0]["id"]
        played.append(pick)
        doc = session.send("play", pick)
        recent = set(played[-(len(ids) - 1):])
        assert not recent & {r["id"] for r in doc["radio"] + doc["recommendations"]}
    assert len(set(played[: len(ids) - 1])) == len(ids) - 1  # a full window without a repeat
    assert ids["a0"] not in played[: len(ids) - 1]  # the seed counts as heard


def test_a_shorter_window_lets_tracks_return(library):
    store, ids = library
    radio = _radio(store, window=3)
    view = SessionView([{"type": "play", "track_id": ids[f"a{i}"], "ts": float(10 - i),
                         "position_s": 0.0} for i in range(5)])
    picked = {p.doc["_id"] for p in radio.plan_view(view, count=10, top=15).recommendations}
    assert not picked & {ids["a0"], ids["a1"], ids["a2"]}
    assert {ids["a3"], ids["a4"]} & picked


def test_excluded_tracks_are_never_picked(library):
    store, ids = library
    queued = (ids["a1"], ids["a2"], ids["b0"])
    plan = _radio(store).plan_view(SessionView([], [ids["a0"]]), exclude=queued, count=10, top=15)
    assert plan.radio and not {p.doc["_id"] for p in plan.radio + plan.recommendations} & set(queued)


def test_variety_caps_hold_in_every_five_consecutive_picks(library):
    store, ids = library
    view = SessionView([], [ids["a0"]])
    capped = _radio(store).queue(view, count=12)
    lifted = Radio(Recommender(store), session_state(store), RadioOptions.for_mode("album")).queue(
        view, count=12)
    for picks, most in ((capped, 2), (lifted, 5)):
        folders = [_folder(p) for p in picks]
        runs = [max(folders[i:i + 5].count(f) for f in folders[i:i + 5])
                for i in range(len(folders) - 4)]
        assert max(runs) <= most
        if most == 5:  # without caps the seed's own folder comes in a row: the caps did the work
            assert folders[:5].count("a") >= 3
    assert [_folder(p) for p in capped].count("a") >= 3  # still the seed's sound most often


def test_the_caps_an_event_carries_sequence_the_workers_radio(library):
    """The listener's Settings reach whichever worker answers: the caps travel with the events."""
    store, ids = library
    runs = {}
    for caps in ((2, 2), (3, 3), (0, 0)):
        session, played = Session(store), []
        doc = session.send("seed", ids["a0"], caps=caps)
        for _ in range(6):
            played.append(doc["radio"][0]["id"])
            doc = session.send("play", played[-1], caps=caps)
        folders = [path.rsplit("/", 2)[1] for path in
                   (store.get_track(t, {"path": 1})["path"] for t in played)]
        runs[caps] = max(folders[i:i + 5].count(f) for i in range(2) for f in folders[i:i + 5])
    assert runs[(2, 2)] == 2 and runs[(3, 3)] == 3, runs  # each cap held, and reached
    assert runs[(0, 0)] >= 4, runs  # lifted: the seed's own folder comes in a row


def test_untagged_tracks_are_grouped_by_folder():
    untagged = {"path": "/m/x/one.ogg", "album": "x", "artist": None}
    tagged = {"path": "/m/x/two.ogg", "album": "Real Album", "artist": "Someone"}
    assert group_keys(untagged) == ("folder:/m/x", "folder:/m/x")
    assert group_keys(tagged) == ("artist:someone", "album:real album")


def test_early_skips_steer_the_next_picks_away(library):
    store, ids = library
    b_count = {}
    for kind in ("play", "skip"):  # through the worker's path, events stored in the database
        session = Session(store)
        session.send("seed", ids["a0"])
        for track in ("b0", "b1"):
            doc = session.send("play", ids[track])
            if kind == "skip":  # left early, as the player reports a skip
                doc = session.send("skip", ids[track], 0.5)
        b_count[kind] = [r["path"].rsplit("/", 2)[1] for r in doc["radio"][:8]].count("b")
    assert b_count["skip"] < b_count["play"]

    # Against the same candidates without the skips, the skipped sound scores lower (its rank
    # may not move: with the seed's sound so distinct, b is last either way), the rest does not.
    radio = _radio(store, max_per_album=None, max_per_artist=None)  # order by score alone
    heard = (ids["b0"], ids["b1"])
    skips = [{"type": "skip", "track_id": t, "ts": 5.0, "position_s": 0.5} for t in heard]

    def scores(events: list, exclude: tuple) -> dict[str, float]:
        plan = radio.plan_view(SessionView(events, [ids["a0"]]), exclude=exclude, top=15)
        return {_folder(p) + p.doc["path"][-5]: p.score for p in plan.recommendations}

    skipped, plain = scores(skips, ()), scores([], heard)
    b_drop = [plain[k] - skipped[k] for k in plain if k[0] == "b"]
    a_drop = [plain[k] - skipped[k] for k in plain if k[0] == "a"]
    assert b_drop and min(b_drop) > 0.1 and min(b_drop) > 2 * max(a_drop)


def test_a_like_raises_similar_tracks(library):
    store, ids = library
    radio = _radio(store)
    events = [{"type": "play", "track_id": ids[t], "ts": float(ts), "position_s": 0.0}
              for t, ts in (("b0", 3), ("c0", 2))]

    def c_score(liked: set) -> float:
        plan = radio.plan_view(SessionView(events, [ids["a0"]], 0.0, liked), count=10, top=15)
        c = [p.score for p in plan.recommendations if _folder(p) == "c"]
        return sum(c) / len(c)

    assert c_score({ids["c0"]}) > c_score(set()) + 0.03


def test_reasons_are_plain_words_with_numbers_in_details(library):
    store, ids = library
    doc = Session(store).send("seed", ids["a0"])
    entries = doc["recommendations"] + doc["radio"]
    assert entries
    for entry in entries:
        assert set(entry) == {"id", "path", "title", "artist", "album", "score", "why", "details"}
        why = entry["why"]
        assert re.fullmatch(r"[a-z ·()~0-9A-Z♯♭]+", why), why
        assert not re.search(r"%|cluster|shingle|jaccard|cosine", why, re.IGNORECASE), why
        assert any(w in why for w in ("timbre", "sound"))
        details = entry["details"]
        assert details["like"]["id"] and isinstance(details["shared_sounds"], float)
        assert len(details["tempo_bpm"]) == 2 and len(details["loudness_lufs"]) == 2
    assert any("BPM" in e["why"] for e in entries)


def _encore(*args, env):
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_encore_radio_json_and_m3u(library, env_for_cli, tmp_path):
    store, ids = library
    env = {**env_for_cli, "ENCORE_DB": store.db.name}
    seed = store.get_track(ids["a0"])["path"]
    playlist = tmp_path / "radio.m3u8"
    proc = _encore("radio", seed, "--count", "7", "--skip", ids["b0"], ids["b1"], "--like",
                   ids["a1"], "--json", "--m3u", str(playlist), env=env)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 7 and all(set(x) == {"id", "path", "title", "artist", "album", "score",
                                               "why"} for x in lines)
    picked = [x["id"] for x in lines]
    assert len(set(picked)) == 7 and not {ids["a0"], ids["b0"], ids["b1"]} & set(picked)
    text = playlist.read_text(encoding="utf-8").splitlines()
    assert text[0] == "#EXTM3U" and text[2::2] == [x["path"] for x in lines]
    assert all(re.fullmatch(r"#EXTINF:\d+,.+", line) for line in text[1::2])
    # The CLI does not touch the listening history: nothing was recorded.
    assert store.db.likes.count_documents({"_id": ids["a1"]}) == 0

    missing = _encore("radio", "no-such-track", env=env)
    assert missing.returncode == 2 and "no track with id or path" in missing.stderr

