"""Each cluster's candidate fields packed into a few blocks, so that the recommender reads a
cluster in one query instead of one document per track, and kept up to date incrementally.

``ClusterBlocks`` is a part of ``MongoStore`` (which gives it ``tracks``, ``blocks``, ``meta``
and the ``_packed`` cache): every write of a packed field through the store marks the clusters it
touches, and a packing writes only the marked ones again.
"""

from __future__ import annotations

from collections.abc import Iterable

import bson

from core.store.driver import _guard, id_chunks
from core.store.paths import decode_paths, with_raw_fields

#: Fields a recommendation needs from a candidate; everything heavy stays on the server.
CANDIDATE_FIELDS = {"_id": 1, "path": 1, "original_path": 1, "title": 1, "artist": 1, "album": 1,
                    "cluster": 1, "shingles": 1, "duration_s": 1, "indexed": 1,
                    "features.vector": 1, "features.timbre_gauss": 1,
                    "features.stereo_width_db": 1, "audio": 1,
                    "loudness.integrated_lufs": 1}
#: Tracks per packed cluster block (``write_cluster_blocks``): a few MB, far from the 16 MiB limit.
BLOCK_MEMBERS = 500
#: Top-level fields whose change makes a cluster's packed block stale.
_PACKED_ROOTS = frozenset(field.split(".")[0] for field in CANDIDATE_FIELDS)
#: The fields a packing holds, recorded with it: blocks packed by a version of Encore that read
#: other fields are never read, and the next packing packs every cluster again.
_LAYOUT = sorted(CANDIDATE_FIELDS)


class ClusterBlocks:
    """Packing, marking and reading of the cluster blocks (mixed into ``MongoStore``)."""

    @_guard("reading the tracks' clusters")
    def clusters_of(self, ids: list[str]) -> set[int]:
        """The clusters the given tracks are in now (a track without one adds none)."""
        return {d["cluster"] for chunk in id_chunks(ids)
                for d in self.tracks.find({"_id": {"$in": chunk}}, {"cluster": 1})
                if d.get("cluster") is not None}

    @_guard("marking clusters to pack again")
    def mark_dirty(self, clusters: Iterable[int]) -> None:
        """Have the next ``write_cluster_blocks`` pack these clusters again: a track of theirs
        is about to change, arrive or go. Marked before the write, so a crash in between only
        packs a cluster once more than needed."""
        clusters = sorted(set(clusters))
        if clusters:
            self.meta.update_one({"_id": "library"},
                                 {"$addToSet": {"dirty": {"$each": clusters}}}, upsert=True)

    def mark_updated(self, updates: list[tuple[str, dict]]) -> None:
        """Mark the clusters that ``$set`` updates ``[(track_id, fields), ...]`` about to be
        written make stale: those of the tracks whose packed fields change, and any cluster
        they are moved to."""
        packed = [(i, f) for i, f in updates if any(k.split(".")[0] in _PACKED_ROOTS for k in f)]
        if packed:
            self.mark_dirty(self.clusters_of([i for i, _ in packed])
                            | {f["cluster"] for _, f in packed if f.get("cluster") is not None})

    @_guard("packing the clusters")
    def write_cluster_blocks(self, generation: int) -> int:
        """Pack the clusters' ``candidate_docs`` into a few blocks each and make them the
        blocks of library ``generation``.

        On the local server a query pays per document returned (~0.1 ms): a cluster of a large
        library (hundreds of tracks) costs one read as a block instead of one per track.
        The ``blocks`` document in ``meta`` names, for one generation, the packing each cluster
        is read from; readers at another generation (a library changed since) fall back to the
        tracks until the next packing.

        When the packing of the generation just before completed, only the clusters marked
        since (``mark_dirty``: every write of a packed field, every removal) and new ones are
        packed again, and the others keep their blocks: one added track costs one cluster, not
        a read of the whole library. Otherwise (the first packing, one cut short, or one that
        holds other fields than ``CANDIDATE_FIELDS``) every cluster is packed.

        Returns
        -------
        int
            Blocks written.
        """
        dirty = sorted((self.meta.find_one({"_id": "library"}, {"dirty": 1}) or {}).get("dirty", []))
        heads = self.meta.find_one({"_id": "blocks"}) or {}
        incremental = heads.get("generation") == generation - 1 and heads.get("fields") == _LAYOUT
        if incremental:
            # A cluster gains or loses members only by a marked write: the others are unchanged,
            # and the marked ones are all that may have appeared (no distinct over the tracks:
            # the local server answers it by reading every track, 4 s at 100,000).
            kept = {c: g for c, g in heads["clusters"].items() if int(c) not in dirty}
            fresh = dirty
        else:
            kept, fresh = {}, sorted(c for c in self.tracks.distinct("cluster") if c is not None)
        packed = {cluster: self._pack_cluster(cluster, generation) for cluster in fresh}
        self.meta.replace_one({"_id": "blocks"}, {"generation": generation, "fields": _LAYOUT,
                                                  "clusters": kept | {
            str(c): generation for c, parts in packed.items() if parts}}, upsert=True)
        # Now that no reader is sent to them: the older packings of the clusters packed again,
        # and every block of a cluster that is gone (each delete looks at one cluster's blocks).
        gone = set() if incremental else set(self.blocks.distinct("cluster")) - set(fresh)
        for cluster in fresh:
            self.blocks.delete_many({"cluster": cluster, "generation": {"$ne": generation}})
        for cluster in gone:
            self.blocks.delete_many({"cluster": cluster})
        # marks added meanwhile (by a writer outside the import lock) wait for the next packing
        self.meta.update_one({"_id": "library"}, {"$pullAll": {"dirty": dirty}})
        return sum(packed.values())

    def _pack_cluster(self, cluster: int, generation: int) -> int:
        """Write one cluster's blocks for ``generation`` (replacing any of a packing of it cut
        short); returns how many (0: the cluster has no member left)."""
        self.blocks.delete_many({"cluster": cluster, "generation": generation})
        docs = list(self.tracks.find({"cluster": cluster}, with_raw_fields(CANDIDATE_FIELDS)))
        parts = [docs[i:i + BLOCK_MEMBERS] for i in range(0, len(docs), BLOCK_MEMBERS)]
        if parts:
            self.blocks.insert_many([{"cluster": cluster, "part": i, "parts": len(parts),
                                      "generation": generation,
                                      "members": bson.encode({"m": part})}
                                     for i, part in enumerate(parts)])
        return len(parts)

    @_guard("reading a cluster block")
    def cluster_block(self, cluster: int, generation: int) -> list[dict] | None:
        """``candidate_docs(cluster=cluster)`` from the packed blocks of ``generation``, in the
        same order, or ``None`` if they are missing or incomplete (being written)."""
        for fresh in (False, True):  # a generation packed twice moved its blocks: read again
            packed = self._packings(generation, fresh=fresh).get(str(cluster))
            if packed is None:
                return None
            found = sorted(self.blocks.find({"cluster": cluster, "generation": packed}),
                           key=lambda b: b["part"])
            if found and len(found) == found[0]["parts"]:
                return [decode_paths(d) for b in found for d in bson.decode(b["members"])["m"]]
        return None

    def _packings(self, generation: int, *, fresh: bool = False) -> dict[str, int]:
        """``{cluster: packing}`` of library ``generation`` (``{}`` until it is packed), read
        once per generation: a recommendation reads several clusters."""
        cached = self._packed
        if fresh or cached is None or cached[0] != generation:
            doc = self.meta.find_one({"_id": "blocks", "generation": generation})
            if doc is None or doc.get("fields") != _LAYOUT:
                return {}  # not packed yet, or with other fields: asked again next time
            cached = self._packed = (generation, doc["clusters"])
        return cached[1]
