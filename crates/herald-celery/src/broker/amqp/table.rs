//! Celery headers as an AMQP table, typed as py-amqp types them (str -> `S`, bool -> `t`,
//! int -> `I` or `L` outside 32 bits, float -> `d`, None -> `V`, list -> `A`, dict ->
//! `F`); read back from every numeric and string type.

use lapin::types::{AMQPValue, FieldArray, FieldTable, LongString, ShortString};
use serde_json::{Map, Number, Value};

pub fn to_table(object: &Map<String, Value>) -> FieldTable {
    let mut table = FieldTable::default();
    for (k, v) in object {
        table.insert(ShortString::from(k.as_str()), to_amqp(v));
    }
    table
}

fn to_amqp(v: &Value) -> AMQPValue {
    match v {
        Value::Null => AMQPValue::Void,
        Value::Bool(b) => AMQPValue::Boolean(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                match i32::try_from(i) {
                    Ok(small) => AMQPValue::LongInt(small),
                    Err(_) => AMQPValue::LongLongInt(i),
                }
            } else if let Some(u) = n.as_u64() {
                AMQPValue::LongLongInt(i64::try_from(u).unwrap_or(i64::MAX))
            } else {
                AMQPValue::Double(n.as_f64().unwrap_or_default())
            }
        }
        Value::String(s) => AMQPValue::LongString(LongString::from(s.as_str())),
        Value::Array(a) => {
            AMQPValue::FieldArray(FieldArray::from(a.iter().map(to_amqp).collect::<Vec<_>>()))
        }
        Value::Object(m) => AMQPValue::FieldTable(to_table(m)),
    }
}

pub fn from_table(table: &FieldTable) -> Map<String, Value> {
    table
        .inner()
        .iter()
        .map(|(k, v)| (k.to_string(), from_amqp(v)))
        .collect()
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn from_amqp(v: &AMQPValue) -> Value {
    match v {
        AMQPValue::Void => Value::Null,
        AMQPValue::Boolean(b) => Value::Bool(*b),
        AMQPValue::ShortShortInt(n) => Value::from(*n),
        AMQPValue::ShortShortUInt(n) => Value::from(*n),
        AMQPValue::ShortInt(n) => Value::from(*n),
        AMQPValue::ShortUInt(n) => Value::from(*n),
        AMQPValue::LongInt(n) => Value::from(*n),
        AMQPValue::LongUInt(n) => Value::from(*n),
        AMQPValue::LongLongInt(n) => Value::from(*n),
        AMQPValue::Timestamp(n) => Value::from(*n),
        AMQPValue::Float(f) => float(f64::from(*f)),
        AMQPValue::Double(f) => float(*f),
        AMQPValue::DecimalValue(d) => float(f64::from(d.value) / 10f64.powi(i32::from(d.scale))),
        AMQPValue::ShortString(s) => Value::String(s.to_string()),
        AMQPValue::LongString(s) => Value::String(String::from_utf8_lossy(s.as_bytes()).into()),
        AMQPValue::ByteArray(b) => Value::String(String::from_utf8_lossy(b.as_slice()).into()),
        AMQPValue::FieldArray(a) => Value::Array(a.as_slice().iter().map(from_amqp).collect()),
        AMQPValue::FieldTable(t) => Value::Object(from_table(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn headers_round_trip_with_py_amqp_types() {
        let headers = json!({"task": "tasks.add", "retries": 0, "eta": null,
            "timelimit": [null, 2.5], "stamps": {}, "ignore_result": false, "big": 5_000_000_000i64});
        let table = to_table(headers.as_object().expect("object"));
        assert_eq!(table.inner().get("retries"), Some(&AMQPValue::LongInt(0)));
        assert_eq!(table.inner().get("eta"), Some(&AMQPValue::Void));
        assert_eq!(
            table.inner().get("big"),
            Some(&AMQPValue::LongLongInt(5_000_000_000))
        );
        assert_eq!(Value::Object(from_table(&table)), headers);
    }
}
