"""Read the one partition a key is produced to, without a consumer group.

For followers that only want one key's messages (a session's recommendations or commands, an
import's results): no group join to wait for and nothing to commit.
"""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2


def key_partition(key: bytes, partitions: set[int] | list[int]) -> int:
    """The partition kafka-python's default partitioner sends ``key`` to."""
    ordered = sorted(partitions)
    return ordered[(murmur2(key) & 0x7FFFFFFF) % len(ordered)]


def follow_key(bootstrap: str, topic: str, key: bytes, *, client_id: str,
               fetch_max_wait_ms: int = 50) -> KafkaConsumer | None:
    """A consumer assigned to ``key``'s partition of ``topic``, from its earliest message.

    Returns
    -------
    KafkaConsumer or None
        ``None`` while the topic does not exist yet. The caller filters records by key: other
        keys share the partition.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", fetch_max_wait_ms=fetch_max_wait_ms,
                             request_timeout_ms=5000, bootstrap_timeout_ms=5000,
                             client_id=client_id)
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        consumer.close()
        return None
    consumer.assign([TopicPartition(topic, key_partition(key, partitions))])
    return consumer
