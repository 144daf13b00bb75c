"""The play queue and the play/skip events a listening session sends."""

from core.bus.memory import InProcessBus
from core.playback.listening import ListeningSession
from core.playback.playqueue import PlayQueue
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
