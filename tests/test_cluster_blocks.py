"""Each cluster's candidate fields packed in a few blocks: one read per cluster instead of one
document per track, and never a block of an older library (a rescan or an index repacks)."""

from __future__ import annotations

import shutil

import pytest
from pymongo import monitoring

from core.library.pipeline import run_import
from core.library.rescan import rescan
from core.similarity.recommend import Recommender
from core.store.mongo import MongoStore
from tests.audio import music_like, write
from tests.command_listeners import StartedCommands
from tests.stores import imported_store


class ClusterReads(StartedCommands):
    """Counts ``find`` commands on the tracks that ask for a cluster's members, in one database."""

    def __init__(self):
        self.db_name, self.reads = None, 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if (event.command_name == "find" and event.database_name == self.db_name
                and event.command["find"] == "tracks" and "cluster" in event.command["filter"]):
            self.reads += 1


@pytest.fixture(scope="module")
def reads():
    listener = ClusterReads()
    monitoring.register(listener)  # clients made from now on report to it
    return listener


def _answers(store: MongoStore) -> list[list[tuple[str, float]]]:
    """Every track's top 5 by a fresh recommender (nothing cached)."""
    ids = sorted(d["_id"] for d in store.iter_tracks({"indexed": True}, {"_id": 1}))
    recommender = Recommender(store)
    return [[(r.id, round(r.score, 9)) for r in recommender.recommend([i], k=5)] for i in ids]


def test_a_cluster_is_read_as_its_block_and_ranks_the_same(generated_library, mongo_uri, reads):
    with imported_store(mongo_uri, generated_library, "encore_blocks") as store:
        fresh = MongoStore(mongo_uri, store.db.name)  # made after the listener: it reports
        reads.db_name = store.db.name
        generation = store.generation()
        clusters = sorted(store.tracks.distinct("cluster"))
        assert len(clusters) > 1
        for cluster in clusters:
            assert (store.cluster_block(cluster, generation)
                    == store.candidate_docs(cluster=cluster))
        reads.reads = 0
        packed = _answers(fresh)
        assert reads.reads == 0  # every cluster came from its block
        store.blocks.delete_many({})
        assert _answers(fresh) == packed
        assert reads.reads > 0  # without blocks the recommender reads the tracks
        fresh.close()


def test_an_older_or_incomplete_packing_is_never_used(generated_library, mongo_uri):
    with imported_store(mongo_uri, generated_library, "encore_blocks") as store:
        generation = store.generation()
        cluster = store.tracks.distinct("cluster")[0]
        assert store.cluster_block(cluster, generation - 1) is None
        store.blocks.update_many({"cluster": cluster}, {"$set": {"parts": 2}})  # one part missing
        assert store.cluster_block(cluster, generation) is None
        assert store.write_cluster_blocks(generation) >= 1  # the same generation packed again
        assert store.cluster_block(cluster, generation) == store.candidate_docs(cluster=cluster)


def test_a_rescan_repacks_without_the_removed_track(generated_library, mongo_uri, tmp_path):
    folder = shutil.copytree(generated_library, tmp_path / "library")
    with imported_store(mongo_uri, folder, "encore_blocks") as store:
        gone, gone_cluster = (lambda d: (d["_id"], d["cluster"]))(
            next(store.iter_tracks({"path": {"$regex": "piece 0-0"}}, {"cluster": 1})))
        blocks = _block_ids(store)
        before = store.generation()
        (folder / "kind0" / "piece 0-0.wav").unlink()
        assert rescan(store, [str(folder)], jobs=1).removed
        generation = store.generation()
        assert generation > before
        members = [d["_id"] for c in store.tracks.distinct("cluster")
                   for d in store.cluster_block(c, generation)]
        assert gone not in members
        assert sorted(members) == sorted(d["_id"] for d in store.iter_tracks({}, {"_id": 1}))
        after = _block_ids(store)  # only the cluster it left was packed again
        assert {c for c in after if after[c] != blocks.get(c)} == {gone_cluster}


def _block_ids(store: MongoStore) -> dict[int, set]:
    """Each cluster's block documents (their ``_id``: a repacked cluster gets new ones)."""
    blocks: dict[int, set] = {}
    for block in store.blocks.find({}, {"cluster": 1}):
        blocks.setdefault(block["cluster"], set()).add(block["_id"])
    return blocks


def _served_as_stored(store: MongoStore) -> None:
    """Every cluster's block holds exactly what its tracks hold now."""
    generation = store.generation()
    for cluster in store.tracks.distinct("cluster"):
        assert store.cluster_block(cluster, generation) == store.candidate_docs(cluster=cluster)


def test_an_import_repacks_only_the_clusters_it_changed(generated_library, mongo_uri, tmp_path):
    """A watched folder that gains one file must not re-read the whole library (at 100,000
    tracks a full packing takes ~15 s); the others' blocks are kept, restamped."""
    folder = shutil.copytree(generated_library, tmp_path / "library")
    with imported_store(mongo_uri, folder, "encore_blocks") as store:
        before = _block_ids(store)
        write(folder / "kind2" / "piece 2-9.wav", music_like(2, seed=99), 22050)
        run_import(str(folder), store, jobs=1)
        added = next(store.iter_tracks({"path": {"$regex": "piece 2-9"}}, {"cluster": 1}))
        after = _block_ids(store)
        repacked = {c for c in after if after[c] != before.get(c)}
        assert repacked == {added["cluster"]}
        _served_as_stored(store)


def test_a_changed_file_repacks_the_cluster_it_left(generated_library, mongo_uri, tmp_path):
    """A re-imported file loses its old cluster with its old document: the cluster it was
    packed in is packed again all the same, whichever cluster it lands in now."""
    folder = shutil.copytree(generated_library, tmp_path / "library")
    with imported_store(mongo_uri, folder, "encore_blocks") as store:
        path = folder / "kind1" / "piece 1-0.wav"
        old = next(store.iter_tracks({"path": {"$regex": "piece 1-0"}}, {"cluster": 1}))["cluster"]
        before = _block_ids(store)
        write(path, music_like(3, seed=77), 22050)  # another sound under the same name
        run_import(str(folder), store, jobs=1)
        assert _block_ids(store)[old] != before[old]
        _served_as_stored(store)


def test_a_packing_cut_short_is_followed_by_a_full_one(generated_library, mongo_uri):
    with imported_store(mongo_uri, generated_library, "encore_blocks") as store:
        before = _block_ids(store)
        store.meta.update_one({"_id": "blocks"}, {"$set": {"generation": -1}})  # cut short
        store.write_cluster_blocks(store.bump_generation())
        after = _block_ids(store)
        assert all(not after[c] & before[c] for c in after)  # every cluster packed again
        store.write_cluster_blocks(store.bump_generation())  # nothing changed since
        assert _block_ids(store) == after
        _served_as_stored(store)


def test_blocks_packed_with_other_fields_are_not_read_and_are_packed_again(generated_library,
                                                                           mongo_uri, reads):
    with imported_store(mongo_uri, generated_library, "encore_blocks") as store:
        # as packed by an Encore whose candidates carried fewer fields (before the stereo image)
        store.meta.update_one({"_id": "blocks"}, {"$pull": {"fields": "features.stereo_width_db"}})
        before = _block_ids(store)
        fresh = MongoStore(mongo_uri, store.db.name)
        reads.db_name, reads.reads = store.db.name, 0
        answers = _answers(fresh)
        assert reads.reads > 0  # the clusters were read track by track, not from those blocks
        assert all("stereo_width_db" in d["features"] for d in fresh.candidate_docs(
            cluster=store.tracks.distinct("cluster")[0]))
        store.write_cluster_blocks(store.bump_generation())  # nothing changed but the layout
        after = _block_ids(store)
        assert all(not after[c] & before[c] for c in after)  # every cluster packed again
        reads.reads = 0
        assert _answers(MongoStore(mongo_uri, store.db.name)) == answers and reads.reads == 0
