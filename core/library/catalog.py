"""The library as a player lists it: light rows read in batches, and tracks ready to play."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from functools import cache

from core.playback.source import PlayItem, replaygain_factor
from core.store.driver import id_chunks
from core.store.mongo import MongoStore
from core.store.paths import display

#: Only what a library row shows: features, signatures and shingles stay in the database.
ROW_FIELDS = {"_id": 1, "path": 1, "title": 1, "artist": 1, "album": 1, "genre": 1, "duration_s": 1,
              "loudness.integrated_lufs": 1, "cluster": 1, "issues": 1, "replaygain": 1,
              "tags.tracknumber": 1, "tags.discnumber": 1, "tags.albumartist": 1, "tags.date": 1,
              "tags.guessed": 1, "tags.tagged": 1}
#: Quality issue codes a listener should know about, worst first (``truncated``: decoded shorter
#: than its header says). The analysis's other findings are not a listener's problem: above all
#: a true peak over 0 dBTP, which lossy files routinely have.
LISTENER_ISSUES = ("truncated", "clipping", "lossy_transcode_suspected")
#: What an untagged track imported before ``tags.guessed`` existed took from its names.
_OLD_GUESSES = ("title", "album")


@dataclass(slots=True, unsafe_hash=True)
class RowTags(Mapping):
    """The tags a library row orders and groups by; reads like the stored ``tags`` mapping
    (``row.tags.get("discnumber")``) and has attributes. Read-only by convention: a frozen
    dataclass takes four times as long to build, and a load builds one per track.

    ``guessed`` names the fields taken from the file and folder names (``"title"``, ``"album"``,
    ``"tracknumber"``).
    """

    tracknumber: int | None = None
    discnumber: int | None = None
    albumartist: str | None = None
    date: str | None = None
    guessed: tuple[str, ...] = ()

    @property
    def year(self) -> int | None:
        """The year of ``date`` (``"2004-05-06"`` → 2004; stored dates start with their year)."""
        year = (self.date or "")[:4]
        return int(year) if year.isdigit() else None

    def __getitem__(self, key: str):
        if key not in _ROW_TAG_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_ROW_TAG_KEYS)

    def __len__(self) -> int:
        return len(_ROW_TAG_KEYS)


_ROW_TAG_KEYS = tuple(f.name for f in fields(RowTags))
#: Shared by every row whose document stores none of the fields (saves an object per row).
NO_TAGS = RowTags()


@dataclass(frozen=True, slots=True)
class TrackRow:
    """One library row."""

    id: str
    path: str
    title: str
    artist: str
    album: str
    genre: str
    duration_s: float
    lufs: float | None
    cluster: int | None
    issues: tuple[str, ...]
    gain_db: float
    peak: float
    tags: RowTags = NO_TAGS
    album_gain_db: float | None = None
    album_peak: float | None = None

    def play_item(self, *, preamp_db: float = 0.0, album: bool = False) -> PlayItem:
        """The row as something to play, with its ReplayGain factor.

        Parameters
        ----------
        preamp_db : float
            Added to the gain.
        album : bool
            Use the album's gain and peak (the track's when the album's are not known yet).
        """
        use_album = album and self.album_gain_db is not None and self.album_peak is not None
        gain, peak = (self.album_gain_db, self.album_peak) if use_album else (self.gain_db, self.peak)
        return PlayItem(self.id, self.path, self.title, self.artist, self.album, self.duration_s,
                        replaygain_factor(gain, peak, preamp_db=preamp_db))


def row_from_doc(doc: dict) -> TrackRow:
    """A ``TrackRow`` from a track document (missing tags fall back to the file name)."""
    path = doc.get("path", "")
    gain = doc.get("replaygain") or {}
    return TrackRow(
        id=doc["_id"], path=path,
        title=doc.get("title") or display(path.rsplit("/", 1)[-1].rsplit(".", 1)[0]),
        artist=doc.get("artist") or "", album=doc.get("album") or "", genre=doc.get("genre") or "",
        duration_s=float(doc.get("duration_s") or 0.0),
        lufs=(doc.get("loudness") or {}).get("integrated_lufs"), cluster=doc.get("cluster"),
        issues=tuple(doc.get("issues") or ()), gain_db=float(gain.get("track_gain_db") or 0.0),
        peak=float(gain.get("track_peak") or 0.0), tags=row_tags(doc.get("tags")),
        album_gain_db=_float(gain.get("album_gain_db")), album_peak=_float(gain.get("album_peak")))


def _float(value) -> float | None:
    return None if value is None else float(value)


def row_tags(stored: dict | None) -> RowTags:
    """``RowTags`` of a document's stored ``tags`` (``NO_TAGS`` when it has none)."""
    if not stored:
        return NO_TAGS
    guessed = stored.get("guessed")
    if guessed is None:  # imported before guesses were marked: an untagged file guessed both
        guessed = () if stored.get("tagged", True) else _OLD_GUESSES
    return RowTags(_number(stored.get("tracknumber")), _number(stored.get("discnumber")),
                   stored.get("albumartist"), stored.get("date"), _shared(tuple(guessed)))


@cache
def _shared(guessed: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple per combination of guessed fields, shared by every row that has it."""
    return guessed


def _number(value) -> int | None:
    # bool is an int: a stored ``true`` is no track number
    return value if type(value) is int else None


def iter_rows(store: MongoStore, *, batch: int = 2000) -> Iterator[list[TrackRow]]:
    """Every track as rows, ``batch`` at a time (so a UI can show the first ones early)."""
    rows: list[TrackRow] = []
    for doc in store.iter_tracks({}, ROW_FIELDS, batch_size=batch):
        rows.append(row_from_doc(doc))
        if len(rows) == batch:
            yield rows
            rows = []
    if rows:
        yield rows


def listener_issues(issues: tuple[str, ...] | list[str]) -> list[str]:
    """The ``LISTENER_ISSUES`` among a track's issue codes, worst first."""
    return [code for code in LISTENER_ISSUES if code in issues]


def flagged_tracks(store: MongoStore, ids: list[str]) -> list[tuple[str, list[str]]]:
    """``(path, issues)`` of the given tracks with issues a listener should know about
    (``LISTENER_ISSUES``: clipping, suspected fake lossless, cut short)."""
    out = []
    for chunk in id_chunks(ids):
        for doc in store.iter_tracks({"_id": {"$in": chunk}}, {"source_path": 1, "issues": 1}):
            shown = listener_issues(doc.get("issues") or ())
            if shown:
                out.append((doc.get("source_path", doc["_id"]), shown))
    return sorted(out)
