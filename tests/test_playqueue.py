"""The play queue and the play/skip events a listening session sends."""

from core.bus.memory import InProcessBus
from core.playback.listening import ListeningSession
from core.playback.playqueue import CONTINUE, QUEUED, RADIO, PlayQueue
from core.playback.source import PlayItem

ITEMS = [PlayItem(f"t{i}", f"/m/{i}.ogg", title=f"T{i}", duration_s=100.0) for i in range(5)]


def ids(queue: PlayQueue) -> list[str]:
    return [i.track_id for i in queue.items()]


def test_move_rows_before_a_row_keeps_their_order():
    queue = PlayQueue(ITEMS)
    queue.move([3, 1], 0)
    assert ids(queue) == ["t1", "t3", "t0", "t2", "t4"]
    queue.move([0], 5)  # to the end
    assert ids(queue) == ["t3", "t0", "t2", "t4", "t1"]
    queue.move([2], 3)  # just before its neighbour: stays put
    assert ids(queue) == ["t3", "t0", "t2", "t4", "t1"]


def test_insert_next_remove_pop_and_listeners():
    changes = []
    queue = PlayQueue(ITEMS[:2])
    queue.subscribe(lambda: changes.append(len(queue)))
    queue.insert_next([ITEMS[4]])
    queue.remove([1])
    assert ids(queue) == ["t4", "t1"]
    assert queue.pop_next().track_id == "t4"
    queue.clear()
    assert queue.pop_next() is None
    assert changes == [3, 2, 1, 0]


def test_previous_goes_back_and_requeues_the_current_track():
    queue = PlayQueue([ITEMS[2]])
    queue.played(ITEMS[0])
    queue.played(ITEMS[1])
    assert queue.previous(ITEMS[1]) is ITEMS[0]
    assert ids(queue) == ["t1", "t2"]
    assert queue.previous(ITEMS[0]) is None


def test_leaving_before_half_is_a_skip(store):
    bus = InProcessBus(store)
    session = ListeningSession(bus)
    item = ITEMS[0]
    assert session.started(item).type == "play"
    assert session.left(item, 30.0).type == "skip"
    assert session.left(item, 50.0) is None  # half played: not a skip
    assert session.left(PlayItem("x", "/x.ogg"), 1.0) is None  # unknown length
    bus.close()


def test_play_order_shuffle_plays_each_track_once_per_round_and_repeat_all_starts_again():
    import random

    from core.playback.playorder import PlayOrder

    order = PlayOrder(ITEMS, 2, shuffle=True, repeat="all", rng=random.Random(3))
    first_round = [order.current] + [order.advance() for _ in range(4)]
    assert sorted(i.track_id for i in first_round) == [i.track_id for i in ITEMS]
    assert first_round[0] is ITEMS[2]
    second_round = [order.advance() for _ in range(5)]
    assert sorted(i.track_id for i in second_round) == [i.track_id for i in ITEMS]
    assert second_round[0] is not first_round[-1]  # a new round never repeats the last track
    assert [i.track_id for i in first_round] != ["t2", "t3", "t4", "t0", "t1"]  # really shuffled


def test_play_order_shuffle_off_continues_in_list_order_from_the_current_track():
    from core.playback.playorder import PlayOrder

    order = PlayOrder(ITEMS, 1, shuffle=True)
    order.advance()
    current = order.current
    order.shuffle = False
    rest = [order.advance() for _ in range(len(ITEMS))]
    expected = ITEMS[ITEMS.index(current) + 1:]
    assert rest[: len(expected)] == expected and rest[len(expected):] == [None] * (len(rest) - len(expected))


def test_queued_tracks_come_before_the_list_then_the_radio_and_repeat_one_replays():
    queue = PlayQueue()
    assert queue.start(ITEMS[:3], 1) is ITEMS[1]
    queue.add([ITEMS[4]])
    queue.set_radio([ITEMS[0]])
    assert [(o, i.track_id) for o, i in queue.upcoming()] == [
        (QUEUED, "t4"), (CONTINUE, "t2"), (RADIO, "t0")]
    assert not queue.needs_radio()  # the list goes on
    assert queue.next_on_end() is ITEMS[4]
    queue.set_repeat("one")
    assert queue.next_on_end() is ITEMS[4]  # the track that ended plays again
    assert queue.pop_next() is ITEMS[2]  # Next still moves on
    queue.set_repeat("off")
    assert queue.needs_radio()
    assert queue.next_on_end() is ITEMS[0]
    assert queue.next_on_end() is None


def test_repeat_all_wraps_the_list_and_bad_modes_are_refused():
    import pytest

    queue = PlayQueue()
    queue.set_repeat("all")
    queue.start(ITEMS[:2], 0)
    assert [queue.next_on_end().track_id for _ in range(3)] == ["t1", "t0", "t1"]
    assert not queue.needs_radio()
    with pytest.raises(ValueError, match="repeat must be one of"):
        queue.set_repeat("sometimes")


def test_like_unlike_and_seed_events(store):
    bus = InProcessBus(store)
    session = ListeningSession(bus)
    assert [session.liked("t1", True).type, session.liked("t1", False).type,
            session.seeded("t2").type] == ["like", "unlike", "seed"]
    bus.close()
