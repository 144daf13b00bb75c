"""Pick the event bus: Kafka (configured or local tansu) or, where tansu cannot run, in-process."""

from __future__ import annotations

import functools
import logging

from core.bus.memory import InProcessBus
from core.bus.outbox import EventPublisher, open_outbox
from core.config import Config
from core.errors import ServiceError
from core.services import resolve_kafka_bootstrap
from core.store.mongo import MongoStore
from core.store.plays import settled_event_ids

log = logging.getLogger("encore.bus")


def connect_bus(config: Config, store: MongoStore) -> EventPublisher | InProcessBus:
    """The publisher play events go to.

    Parameters
    ----------
    config : Config
        ``kafka_bootstrap`` if set; otherwise the local broker is started.
    store : MongoStore
        Used by the in-process fallback, and by the publisher to see which events took effect
        (it keeps each event until then).

    Returns
    -------
    EventPublisher or InProcessBus
        Both offer ``publish(event)``, ``flush()`` and ``close()``.
    """
    try:
        bootstrap = resolve_kafka_bootstrap(config)
    except ServiceError as exc:
        log.warning("%s; play events are handled in this process instead of Kafka", exc)
        return InProcessBus(store)
    return EventPublisher(bootstrap, config.topic, open_outbox(config.data_dir),
                          settled=functools.partial(settled_event_ids, store))
