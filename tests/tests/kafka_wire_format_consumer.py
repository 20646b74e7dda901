"""Reads herald's events from Kafka the way a Python service would: confluent-kafka's
Consumer and JSONDeserializer, schemas fetched by id from herald-registry.

usage: confluent_consumer.py BROKERS TOPIC REGISTRY_URL COUNT
prints a JSON list of {key, schema_id, headers, value}; exits 1 if COUNT do not arrive.
"""
import json
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

brokers, topic, registry_url, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

registry = SchemaRegistryClient({"url": registry_url})
# No reader schema: the writer's schema, fetched by the id in each value, validates it.
deserialize = JSONDeserializer(None, schema_registry_client=registry)
consumer = Consumer(
    {
        "bootstrap.servers": brokers,
        "group.id": "herald-python-interop-" + topic,
        "auto.offset.reset": "earliest",
    }
)
consumer.subscribe([topic])
got = []
deadline = time.time() + 60
try:
    while len(got) < count and time.time() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            raise SystemExit(f"consumer error: {message.error()}")
        raw = message.value()
        value = deserialize(raw, SerializationContext(topic, MessageField.VALUE))
        got.append(
            {
                "key": message.key().decode() if message.key() else None,
                "schema_id": int.from_bytes(raw[1:5], "big"),
                "headers": {k: v.decode() for k, v in (message.headers() or [])},
                "value": value,
            }
        )
finally:
    consumer.close()
print(json.dumps(got))
if len(got) < count:
    print(f"only {len(got)} of {count} events arrived", file=sys.stderr)
    sys.exit(1)
