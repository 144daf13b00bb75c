"""Each cluster's candidate fields packed in a few blocks: one read per cluster instead of one
document per track, and never a block of an older library (a rescan or an index repacks)."""

from __future__ import annotations

import shutil

import pytest
from pymongo import monitoring

from core.library.rescan import rescan
from core.similarity.recommend import Recommender
from core.store.mongo import MongoStore
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
        gone = next(store.iter_tracks({"path": {"$regex": "piece 0-0"}}, {"_id": 1}))["_id"]
        before = store.generation()
        (folder / "kind0" / "piece 0-0.wav").unlink()
        assert rescan(store, [str(folder)], jobs=1).removed
        generation = store.generation()
        assert generation > before
        assert {b["generation"] for b in store.blocks.find({}, {"generation": 1})} == {generation}
        members = [d["_id"] for c in store.tracks.distinct("cluster")
                   for d in store.cluster_block(c, generation)]
        assert gone not in members
        assert sorted(members) == sorted(d["_id"] for d in store.iter_tracks({}, {"_id": 1}))
