"""confluent-kafka's SchemaRegistryClient and JSON serdes against herald-registry.

Usage: confluent_interop.py http://127.0.0.1:PORT
Exits non-zero on the first failure; prints 'N passed, 0 failed' at the end.
"""

import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

URL = sys.argv[1]
passed = 0


def check(name, cond, detail=""):
    global passed
    if not cond:
        print(f"FAIL {name}: {detail}", flush=True)
        print(f"{passed} passed, 1 failed")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}", flush=True)


def expect_error(name, fn, status, code):
    try:
        fn()
    except SchemaRegistryError as e:
        check(name, e.http_status_code == status and e.error_code == code,
              f"got HTTP {e.http_status_code} / {e.error_code}: {e.error_message}")
        return
    check(name, False, "no error raised")


client = SchemaRegistryClient({"url": URL})
subject = "interop-orders-value"
v1 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Order",
    "type": "object",
    "properties": {"id": {"type": "string"}, "amount": {"type": "number"}},
    "required": ["id"],
}
schema = Schema(json.dumps(v1), "JSON")

sid = client.register_schema(subject, schema)
check("register returns an id", isinstance(sid, int) and sid > 0, sid)
check("register is idempotent", client.register_schema(subject, schema) == sid)

fresh = SchemaRegistryClient({"url": URL})  # no cache
got = fresh.get_schema(sid)
check("get by id: schema", json.loads(got.schema_str) == v1, got.schema_str)
check("get by id: type", got.schema_type == "JSON", got.schema_type)

latest = fresh.get_latest_version(subject)
check("latest", (latest.schema_id, latest.version, latest.subject) == (sid, 1, subject),
      (latest.schema_id, latest.version, latest.subject))
check("version 1", fresh.get_version(subject, 1).schema_id == sid)
found = fresh.lookup_schema(subject, schema)
check("lookup", found.schema_id == sid and found.version == 1, found)
check("subjects", subject in fresh.get_subjects(), fresh.get_subjects())
check("versions", fresh.get_versions(subject) == [1], fresh.get_versions(subject))

check("compatible with itself", fresh.test_compatibility(subject, schema) is True)
check("compatible with all versions", fresh.test_compatibility_all_versions(subject, schema) is True)

res = fresh.set_compatibility(subject_name=subject, level="FULL")
check("set subject compatibility", res == {"compatibility": "FULL"}, res)
check("get subject compatibility", fresh.get_compatibility(subject) == "FULL")
cfg = fresh.get_config(subject)
check("get_config", cfg.compatibility_level is not None and cfg.compatibility_level.value == "FULL", cfg)
fresh.set_compatibility(level="BACKWARD")
check("global compatibility", fresh.get_compatibility() == "BACKWARD")
fresh.delete_config(subject)
expect_error("subject config gone: 40408", lambda: fresh.get_compatibility(subject), 404, 40408)

expect_error("unknown subject: 40401", lambda: fresh.get_latest_version("no-such-subject"), 404, 40401)
expect_error("unknown id: 40403", lambda: fresh.get_schema(987654), 404, 40403)
expect_error("invalid schema: 42201",
             lambda: fresh.register_schema(subject, Schema('{"type": "strin"}', "JSON")), 422, 42201)

# An incompatible change (string -> integer) under BACKWARD: HTTP 409, and the check says no.
v2 = json.loads(json.dumps(v1))
v2["properties"]["id"] = {"type": "integer"}
bad = Schema(json.dumps(v2), "JSON")
check("incompatible change detected", fresh.test_compatibility(subject, bad) is False)
expect_error("incompatible registration: 409", lambda: fresh.register_schema(subject, bad), 409, 409)

# Serializer / deserializer round trip through the registry (Confluent wire format).
ctx = SerializationContext("interop-orders", MessageField.VALUE)
ser = JSONSerializer(json.dumps(v1), client, conf={"auto.register.schemas": True})
record = {"id": "o-1", "amount": 12.5}
data = ser(record, ctx)
check("wire format: magic byte", data[0] == 0, data[:5])
check("wire format: schema id", int.from_bytes(data[1:5], "big") == sid, data[:5])
check("deserialize with schema", JSONDeserializer(json.dumps(v1))(data, ctx) == record)
by_id = JSONDeserializer(None, schema_registry_client=SchemaRegistryClient({"url": URL}))
check("deserialize via the registry", by_id(data, ctx) == record)
ser2 = JSONSerializer(json.dumps(v1), SchemaRegistryClient({"url": URL}),
                      conf={"auto.register.schemas": False, "use.latest.version": True})
check("use.latest.version", int.from_bytes(ser2(record, ctx)[1:5], "big") == sid)

# Deletes: soft, then permanent; the id stops resolving.
check("soft delete", fresh.delete_subject(subject) == [1])
check("soft-deleted id still resolves", SchemaRegistryClient({"url": URL}).get_schema(sid).schema_type == "JSON")
check("permanent delete", fresh.delete_subject(subject, permanent=True) == [1])
expect_error("deleted id: 40403", lambda: SchemaRegistryClient({"url": URL}).get_schema(sid), 404, 40403)

print(f"{passed} passed, 0 failed")
