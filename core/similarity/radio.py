"""The endless radio: a listening session becomes the seed of what plays next.

The session's tracks weigh in as a profile: its seeds (``seed`` events: "start radio", "more
like this") at a constant weight, its plays with a weight that halves every ``half_life`` plays,
liked tracks ``like_boost`` times more. Tracks skipped early push similar candidates away: each
candidate loses ``skip_penalty`` times its weighted similarity to the skipped ones. Candidates
come from the recommender's indexed search around the strongest profile tracks (a bounded pool),
and are scored against every profile track in a few vectorised passes (``pool.Pool``).

The plan is then sequenced for variety: in any ``span`` consecutive tracks (counting what the
session just played), at most ``max_per_artist`` of one artist and ``max_per_album`` of one
album; untagged tracks are grouped by their folder.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from core.events import CAP_SPAN
from core.similarity.pool import Pool
from core.similarity.recommend import SEED_FIELDS, Recommender, Scored
from core.store.session_state import SessionState, SessionView

PROFILE_FIELDS = SEED_FIELDS | {"title": 1, "artist": 1, "album": 1, "loudness.integrated_lufs": 1}
#: Events of a session read per answer: enough for the repeat window plus likes and seeds.
HISTORY = 200


@dataclass(frozen=True)
class RadioOptions:
    """How the radio weighs a session and keeps variety.

    Attributes
    ----------
    window : int
        Nothing played or skipped in the session's last ``window`` tracks repeats (capped at the
        library size minus one, so a small library keeps playing).
    span, max_per_artist, max_per_album : int, int or None, int or None
        At most this many tracks of one artist / album in any ``span`` consecutive tracks
        (``None``: no cap).
    half_life : float
        Plays after which a play weighs half as much.
    seed_weight, like_boost : float
        Weight of a seed; factor for liked tracks.
    skip_penalty : float
        Strength of the push away from skipped tracks.
    max_positives, max_skips, anchors : int
        Profile size bounds (per-event work) and how many of its strongest tracks the candidate
        search starts from.
    min_pool : int
        Fewer candidates than this around an anchor widen its search to nearer clusters: twenty
        picks need a deeper pool than five recommendations (capped by ``candidate_limit``).
    """

    window: int = 50
    span: int = CAP_SPAN
    max_per_artist: int | None = 2
    max_per_album: int | None = 2
    half_life: float = 3.0
    seed_weight: float = 4.0
    like_boost: float = 2.0
    skip_penalty: float = 1.0
    max_positives: int = 6
    max_skips: int = 6
    anchors: int = 3
    min_pool: int = 400

    @classmethod
    def from_caps(cls, caps: tuple[int, int] | None) -> RadioOptions:
        """The default options with a listener's caps (per artist, per album; 0: no cap), as an
        event carries them (``None``: the defaults)."""
        if caps is None:
            return cls()
        return cls(max_per_artist=caps[0] or None, max_per_album=caps[1] or None)

    @classmethod
    def for_mode(cls, mode: str, **overrides) -> RadioOptions:
        """Options of a radio mode: ``mix`` (default caps), ``album`` or ``artist`` (caps lifted)."""
        lifted = {"mix": {}, "album": {"max_per_album": None, "max_per_artist": None},
                  "artist": {"max_per_artist": None}}
        if mode not in lifted:
            raise ValueError(f"unknown radio mode {mode!r} (mix, album or artist)")
        return replace(cls(), **lifted[mode], **overrides)


@dataclass(frozen=True)
class Plan:
    """What the radio would do next.

    Attributes
    ----------
    recommendations : list of Scored
        Best first (varied like the radio), for the sidebar.
    radio : list of Scored
        The next radio picks, in play order.
    """

    recommendations: list[Scored]
    radio: list[Scored]


@dataclass(frozen=True)
class _Weighted:
    doc: dict
    weight: float


def group_keys(doc: dict) -> tuple[str, str]:
    """The artist and album a track counts against for variety (its folder when untagged)."""
    folder = os.path.dirname(doc.get("original_path") or doc.get("path") or "")
    album = (doc.get("album") or "").strip()
    artist = (doc.get("artist") or "").strip()
    # An untagged file's album is its folder's name (see core.audio.tags): group by the folder.
    tagged_album = album and album != os.path.basename(folder)
    return (f"artist:{artist.lower()}" if artist else f"folder:{folder}",
            f"album:{album.lower()}" if tagged_album else f"folder:{folder}")


class Radio:
    """Plans a session's next tracks.

    Parameters
    ----------
    recommender : Recommender
        Candidate search and its caches (one per worker).
    state : SessionState
    options : RadioOptions
    """

    def __init__(self, recommender: Recommender, state: SessionState,
                 options: RadioOptions | None = None):
        self.recommender, self.state = recommender, state
        self.options = options or RadioOptions()

    def plan(self, session_id: str, *, exclude: tuple[str, ...] = (), count: int = 10,
             top: int = 15) -> Plan:
        """The stored session's next ``count`` radio picks and ``top`` recommendations.

        See ``plan_view``.
        """
        return self.plan_view(self.state.view(session_id, HISTORY), exclude=exclude, count=count,
                              top=top)

    def plan_view(self, view: SessionView, *, exclude: tuple[str, ...] = (), count: int = 10,
                  top: int = 15) -> Plan:
        """A session's next ``count`` radio picks and ``top`` recommendations.

        Parameters
        ----------
        view : SessionView
            The session (stored, or built by ``encore radio``).
        exclude : tuple of str
            Ids never to pick (the queue).
        count, top : int
            Radio picks and recommendations wanted.

        Returns
        -------
        Plan
            Empty lists when the session has no indexed track to start from.
        """
        listened = view.listened()
        window = min(self.options.window, max(self.recommender.library_size() - 1, 0))
        # Only the latest tracks can make the profile or the caps' history: read just those.
        latest = list(dict.fromkeys(e["track_id"] for e in view.events))
        depth = self.options.max_positives + self.options.max_skips + self.options.span
        docs = self._docs(view.seeds + latest[:depth])
        positives, skips = self._profile(view, docs)
        excluded = set(view.heard()[:window]) | set(exclude)
        ranked = self._rank(positives, skips, excluded, _depth(max(count, top)))
        history = [group_keys(docs[t]) for t in reversed(listened[: self.options.span - 1])
                   if t in docs]
        return Plan(self._sequence(ranked, top, []), self._sequence(ranked, count, history))

    def queue(self, view: SessionView, *, count: int, exclude: tuple[str, ...] = ()) -> list[Scored]:
        """What the radio would play, one track after another, each played in full.

        Every pick is appended to the session as a play before the next one is planned, as the
        player's play events do.
        """
        picks: list[Scored] = []
        ts = max([e["ts"] for e in view.events] + [view.seed_ts])
        for _ in range(count):
            plan = self.plan_view(view, exclude=exclude, count=1, top=0)
            if not plan.radio:
                break
            picks.append(plan.radio[0])
            ts += 1.0
            played = {"type": "play", "track_id": plan.radio[0].doc["_id"], "ts": ts, "position_s": 0.0}
            view = replace(view, events=[played, *view.events])
        return picks

    def _docs(self, ids: list[str]) -> dict[str, dict]:
        found = self.recommender.store.iter_tracks({"_id": {"$in": list(set(ids))}}, PROFILE_FIELDS)
        return {d["_id"]: d for d in found if d.get("indexed")}

    def _profile(self, view: SessionView, docs: dict[str, dict]) -> tuple[list[_Weighted], list[_Weighted]]:
        """Weighted positive tracks (seeds, plays, likes) and skipped tracks, strongest first."""
        opts = self.options
        skipped = {e["track_id"]: e for e in reversed(view.events) if e["type"] == "skip"}
        liked = view.liked
        weights: dict[str, float] = {t: opts.seed_weight for t in view.seeds}
        age = 0
        for e in view.events:  # newest first
            track = e["track_id"]
            if track in skipped or e["ts"] < view.seed_ts or track in weights:
                continue
            if e["type"] == "play" or (e["type"] == "like" and track in liked):
                weights[track] = 0.5 ** (age / opts.half_life)
                age += 1
        positives = sorted((_Weighted(docs[t], w * (opts.like_boost if t in liked else 1.0))
                            for t, w in weights.items() if t in docs), key=lambda p: -p.weight)
        negatives = [_Weighted(docs[t], _earliness(e, docs[t]) * 0.5 ** (i / opts.half_life))
                     for i, (t, e) in enumerate(reversed(skipped.items())) if t in docs]
        return positives[: opts.max_positives], negatives[: opts.max_skips]

    def _pool(self, anchors: list[_Weighted], excluded: set[str]) -> Pool:
        """Candidates around the strongest profile tracks, at most ``candidate_limit`` in all."""
        limit = max(1, self.recommender.candidate_limit // len(anchors))
        found: dict[str, dict] = {}
        for anchor in anchors:
            for doc in self.recommender.candidates(anchor.doc, excluded, limit=limit,
                                                   minimum=self.options.min_pool):
                found.setdefault(doc["_id"], doc)
        return Pool(list(found.values()), self.recommender.model())

    def _rank(self, positives: list[_Weighted], skips: list[_Weighted], excluded: set[str],
              depth: int) -> list[Scored]:
        """The ``depth`` best pool candidates scored against the profile, best first."""
        # Without a positive track (only skips so far), search around the skipped one.
        refs = positives or skips[:1]
        pool = self._pool(refs[: self.options.anchors], excluded) if refs else Pool([], None)
        if not len(pool):
            return []
        sims = [pool.similarity(p.doc) for p in refs]
        keep = np.ones(len(pool), dtype=bool)
        for p, sim in zip(positives, sims, strict=False):
            if p.doc["_id"] in excluded:  # other copies of a recent recording wait too
                keep &= ~pool.copies_of(p.doc, sim.jaccard)
        weighted = np.array([p.weight * s.score for p, s in zip(refs, sims, strict=True)])
        attraction = (weighted.sum(axis=0) / sum(p.weight for p in refs) if positives
                      else np.zeros(len(pool)))
        penalty = self._penalty(pool, skips)
        best = weighted.argmax(axis=0)  # the profile track that explains each candidate
        score = attraction - penalty
        kept = np.flatnonzero(keep)
        ids = np.array([pool.docs[i]["_id"] for i in kept])
        out = []
        # only the best ``depth`` become records: the sequencing never looks deeper
        for i in kept[np.lexsort((ids, -score[kept]))][:depth]:
            extra = {"skip_penalty": round(float(penalty[i]), 4)} if penalty[i] > 0 else {}
            scored = Scored.of(sims[best[i]], i, pool.docs[i], refs[best[i]].doc, **extra)
            out.append(replace(scored, score=float(score[i])))
        return out

    def _penalty(self, pool: Pool, skips: list[_Weighted]) -> np.ndarray:
        """Each candidate's push away from the skipped tracks (0 without skips)."""
        if not skips:
            return np.zeros(len(pool))
        pushed = sum(s.weight * pool.similarity(s.doc).score for s in skips)
        # The +1 keeps one skip from counting as much as many: the push grows with evidence.
        return self.options.skip_penalty * pushed / (1.0 + sum(s.weight for s in skips))

    def _sequence(self, ranked: list[Scored], count: int,
                  history: list[tuple[str, str]]) -> list[Scored]:
        """Greedy best-first order that keeps the artist and album caps (relaxed when nothing fits)."""
        opts = self.options
        remaining = ranked[: _depth(count)]
        keys = [group_keys(s.doc) for s in remaining]
        picked: list[Scored] = []
        sequence = list(history)
        while remaining and len(picked) < count:
            fits = caps_check(sequence[max(0, len(sequence) - opts.span + 1):],
                              opts.max_per_artist, opts.max_per_album)
            chosen = next((i for i, key in enumerate(keys) if fits(key)), 0)
            picked.append(remaining.pop(chosen))
            sequence.append(keys.pop(chosen))
        return picked


def caps_check(recent: list[tuple[str, str]], max_per_artist: int | None,
               max_per_album: int | None) -> Callable[[tuple[str, str]], bool]:
    """Whether a track of a given key (``group_keys``) may follow ``recent`` keys without going
    over ``max_per_artist`` / ``max_per_album`` of one artist / album (``None``: no cap).

    The recent tracks are counted once: the check runs for each of many candidates.
    """
    artists = Counter(artist for artist, _ in recent)
    albums = Counter(album for _, album in recent)

    def fits(key: tuple[str, str]) -> bool:
        artist, album = key
        return ((max_per_artist is None or artists[artist] < max_per_artist)
                and (max_per_album is None or albums[album] < max_per_album))

    return fits


def _depth(count: int) -> int:
    """Ranked candidates the sequencing of ``count`` picks looks through: deep enough to find
    tracks that keep the caps."""
    return max(count * 10, 50)


def _earliness(event: dict, doc: dict) -> float:
    """1 for a skip at the start, falling to 0.25 for a skip at half the track."""
    duration = doc.get("duration_s") or 0.0
    if duration <= 0:
        return 1.0
    return float(np.clip(1.0 - 2.0 * (event.get("position_s") or 0.0) / duration, 0.25, 1.0))
