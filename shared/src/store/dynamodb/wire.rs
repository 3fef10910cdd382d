//! Read answers (GetItem, BatchGetItem, Query) parsed straight from
//! DynamoDB's JSON into our items.
//!
//! The SDK would parse every returned item into a
//! `HashMap<String, AttributeValue>` first, which serde_dynamo then copies
//! into the attribute map an [`Item`] holds. For a list of a few hundred
//! items those SDK maps were the largest thing on the heap while the
//! answer was read (docs/performance.md, run 18). Written here rather than
//! found in a crate: serde_dynamo maps only from the SDK's types, not from
//! the wire format.
//!
//! How: [`Divert`] is an interceptor given to one request. When the answer
//! is a success, it hands the SDK an empty JSON object (`{}`; every field of
//! a read's output is optional) and keeps the real body for the caller.
//! Errors are left to the SDK, so its error types and retries are
//! unchanged. The values map as serde_dynamo maps them: `N` to an i64,
//! else a u64, else an f64; string and number sets to arrays; `NULL` to
//! null. Binary values are refused: the store writes JSON values only.

use super::super::{Item, Key, StoreError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Keeps the body of one request's successful answer from the SDK.
#[derive(Debug, Clone, Default)]
pub(super) struct Divert {
    body: Arc<Mutex<Option<Vec<u8>>>>,
}

impl Divert {
    /// The body of the answer, once the request has succeeded.
    pub(super) fn take(&self) -> Result<Vec<u8>, StoreError> {
        self.body
            .lock()
            .ok()
            .and_then(|mut b| b.take())
            .ok_or_else(|| StoreError::Mapping("dynamodb: an answer without a body".into()))
    }
}

impl Intercept for Divert {
    fn name(&self) -> &'static str {
        "skolnav::Divert"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        if !response.status().is_success() {
            return Ok(());
        }
        let length = response
            .headers()
            .get("content-length")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(0);
        let inner = std::mem::replace(response.body_mut(), SdkBody::taken());
        *response.body_mut() = SdkBody::from_body_1_x(Diverted {
            inner,
            kept: Vec::with_capacity(length),
            sink: Some(self.body.clone()),
        });
        Ok(())
    }
}

/// The answer's body as the SDK reads it: the real bytes go to `sink`,
/// the SDK sees `{}`.
struct Diverted {
    inner: SdkBody,
    kept: Vec<u8>,
    sink: Option<Arc<Mutex<Option<Vec<u8>>>>>,
}

impl Body for Diverted {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            let Some(sink) = &this.sink else {
                return Poll::Ready(None);
            };
            match std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        this.kept.extend_from_slice(data);
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    if let Ok(mut slot) = sink.lock() {
                        *slot = Some(std::mem::take(&mut this.kept));
                    }
                    this.sink = None;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"{}")))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.sink.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// One item's attributes, as an [`Item`] holds them.
pub(super) struct Attributes(pub Map<String, Value>);

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AttributesVisitor).map(Attributes)
    }
}

struct AttributesVisitor;

impl<'de> Visitor<'de> for AttributesVisitor {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            let AttributeValue(value) = access.next_value()?;
            map.insert(name, value);
        }
        Ok(map)
    }
}

/// One attribute value in DynamoDB's JSON (`{"S": "text"}`), as JSON.
struct AttributeValue(Value);

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AttributeValueVisitor).map(AttributeValue)
    }
}

struct AttributeValueVisitor;

impl<'de> Visitor<'de> for AttributeValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let Some(tag) = access.next_key::<Tag>()? else {
            return Err(de::Error::custom("an attribute value without a type"));
        };
        let value = match tag {
            Tag::S => Value::String(access.next_value()?),
            Tag::N => number(&access.next_value::<String>()?)?,
            Tag::Bool => Value::Bool(access.next_value()?),
            Tag::Null => {
                access.next_value::<de::IgnoredAny>()?;
                Value::Null
            }
            Tag::M => Value::Object(access.next_value::<Attributes>()?.0),
            Tag::L => Value::Array(
                access
                    .next_value::<Vec<AttributeValue>>()?
                    .into_iter()
                    .map(|v| v.0)
                    .collect(),
            ),
            Tag::Ss => Value::Array(
                access
                    .next_value::<Vec<String>>()?
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
            Tag::Ns => Value::Array(
                access
                    .next_value::<Vec<String>>()?
                    .iter()
                    .map(|n| number(n))
                    .collect::<Result<_, _>>()?,
            ),
            Tag::B | Tag::Bs => {
                return Err(de::Error::custom(
                    "a binary attribute, which the store never writes",
                ));
            }
        };
        if access.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("an attribute value with two types"));
        }
        Ok(value)
    }
}

/// An attribute value's type, as DynamoDB names it.
#[derive(Deserialize)]
enum Tag {
    S,
    N,
    #[serde(rename = "BOOL")]
    Bool,
    #[serde(rename = "NULL")]
    Null,
    M,
    L,
    #[serde(rename = "SS")]
    Ss,
    #[serde(rename = "NS")]
    Ns,
    B,
    #[serde(rename = "BS")]
    Bs,
}

/// A DynamoDB number as serde_dynamo reads it into JSON.
fn number<E: de::Error>(text: &str) -> Result<Value, E> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(u) = text.parse::<u64>() {
        return Ok(Value::from(u));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| E::custom(format!("{text} is not a number")))
}

/// Capacity units consumed, whether the answer gives one figure or a list.
#[derive(Default)]
pub(super) struct Capacity(pub f64);

impl<'de> Deserialize<'de> for Capacity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct One {
            #[serde(rename = "CapacityUnits", default)]
            units: f64,
        }
        struct CapacityVisitor;
        impl<'de> Visitor<'de> for CapacityVisitor {
            type Value = f64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("consumed capacity")
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<f64, A::Error> {
                One::deserialize(de::value::MapAccessDeserializer::new(access)).map(|o| o.units)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<f64, A::Error> {
                let mut units = 0.0;
                while let Some(one) = access.next_element::<One>()? {
                    units += one.units;
                }
                Ok(units)
            }
        }
        d.deserialize_any(CapacityVisitor).map(Capacity)
    }
}

/// GetItem's answer.
#[derive(Deserialize)]
pub(super) struct GetAnswer {
    #[serde(rename = "Item")]
    pub item: Option<Attributes>,
    #[serde(rename = "ConsumedCapacity", default)]
    pub capacity: Capacity,
}

/// Query's answer.
#[derive(Deserialize)]
pub(super) struct QueryAnswer {
    #[serde(rename = "Items", default)]
    pub items: Vec<Attributes>,
    #[serde(rename = "LastEvaluatedKey")]
    pub last_key: Option<Attributes>,
    #[serde(rename = "ConsumedCapacity", default)]
    pub capacity: Capacity,
}

/// BatchGetItem's answer, per table.
#[derive(Deserialize)]
pub(super) struct BatchGetAnswer {
    #[serde(rename = "Responses", default)]
    pub responses: HashMap<String, Vec<Attributes>>,
    #[serde(rename = "UnprocessedKeys", default)]
    pub unprocessed: HashMap<String, Unprocessed>,
    #[serde(rename = "ConsumedCapacity", default)]
    pub capacity: Capacity,
}

#[derive(Deserialize)]
pub(super) struct Unprocessed {
    #[serde(rename = "Keys", default)]
    pub keys: Vec<Attributes>,
}

/// Parses an answer's body into `T`, naming what was read on failure.
pub(super) fn parse<'a, T: Deserialize<'a>>(what: &str, body: &'a [u8]) -> Result<T, StoreError> {
    serde_json::from_slice(body)
        .map_err(|e| StoreError::Mapping(format!("dynamodb {what} answer: {e}")))
}

impl Attributes {
    pub(super) fn into_item(self) -> Result<Item, StoreError> {
        Item::from_map(self.0)
    }

    /// A primary key as the answer gives it (an unprocessed key).
    pub(super) fn into_key(self) -> Result<Key, StoreError> {
        let item = Item::from_map(self.0)?;
        Ok(item.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attributes(text: &str) -> Map<String, Value> {
        serde_json::from_str::<Attributes>(text).expect("parses").0
    }

    #[test]
    fn attribute_values_read_as_serde_dynamo_reads_them() {
        let text = r#"{
            "s": {"S": "Åsa \"4A\""}, "i": {"N": "-12"}, "u": {"N": "18446744073709551615"},
            "f": {"N": "1.5"}, "b": {"BOOL": true}, "n": {"NULL": true},
            "m": {"M": {"x": {"L": [{"N": "1"}, {"S": "two"}]}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["3", "0.25"]}
        }"#;
        let sdk: HashMap<String, aws_sdk_dynamodb::types::AttributeValue> = HashMap::from([
            ("s".into(), av_s("Åsa \"4A\"")),
            ("i".into(), av_n("-12")),
            ("u".into(), av_n("18446744073709551615")),
            ("f".into(), av_n("1.5")),
            (
                "b".into(),
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            ),
            (
                "n".into(),
                aws_sdk_dynamodb::types::AttributeValue::Null(true),
            ),
            (
                "m".into(),
                aws_sdk_dynamodb::types::AttributeValue::M(HashMap::from([(
                    "x".into(),
                    aws_sdk_dynamodb::types::AttributeValue::L(vec![av_n("1"), av_s("two")]),
                )])),
            ),
            (
                "ss".into(),
                aws_sdk_dynamodb::types::AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            (
                "ns".into(),
                aws_sdk_dynamodb::types::AttributeValue::Ns(vec!["3".into(), "0.25".into()]),
            ),
        ]);
        let via_sdk: Map<String, Value> = serde_dynamo::from_item(sdk).expect("maps");
        assert_eq!(attributes(text), via_sdk);
        assert_eq!(attributes(text)["u"], json!(u64::MAX));
    }

    fn av_s(s: &str) -> aws_sdk_dynamodb::types::AttributeValue {
        aws_sdk_dynamodb::types::AttributeValue::S(s.into())
    }

    fn av_n(n: &str) -> aws_sdk_dynamodb::types::AttributeValue {
        aws_sdk_dynamodb::types::AttributeValue::N(n.into())
    }

    #[test]
    fn binary_values_and_values_of_two_types_are_refused() {
        assert!(serde_json::from_str::<Attributes>(r#"{"x": {"B": "AAE="}}"#).is_err());
        assert!(serde_json::from_str::<Attributes>(r#"{"x": {"S": "a", "N": "1"}}"#).is_err());
        assert!(serde_json::from_str::<Attributes>(r#"{"x": {"N": "one"}}"#).is_err());
        assert!(serde_json::from_str::<Attributes>(r#"{"x": {}}"#).is_err());
    }

    #[test]
    fn consumed_capacity_adds_up_whether_one_figure_or_a_list() {
        let one: QueryAnswer = parse(
            "Query",
            br#"{"Count":0,"Items":[],"ConsumedCapacity":{"TableName":"t","CapacityUnits":2.5}}"#,
        )
        .expect("parses");
        assert_eq!(one.capacity.0, 2.5);
        let list: BatchGetAnswer = parse(
            "BatchGetItem",
            br#"{"Responses":{},"ConsumedCapacity":[{"CapacityUnits":1.0},{"CapacityUnits":0.5}]}"#,
        )
        .expect("parses");
        assert_eq!(list.capacity.0, 1.5);
        let none: GetAnswer = parse("GetItem", b"{}").expect("parses");
        assert!(none.item.is_none());
        assert_eq!(none.capacity.0, 0.0);
    }

    #[test]
    fn unprocessed_keys_of_a_batch_read_come_back_as_keys() {
        let mut answer: BatchGetAnswer = parse(
            "BatchGetItem",
            br#"{"Responses":{"t":[{"PK":{"S":"P#1"},"SK":{"S":"A"},"entity":{"S":"x"},"version":{"N":"2"}}]},
                "UnprocessedKeys":{"t":{"Keys":[{"PK":{"S":"P#2"},"SK":{"S":"B"}}],"ConsistentRead":true}}}"#,
        )
        .expect("parses");
        let read = answer.responses.remove("t").expect("the table's items");
        let item = read
            .into_iter()
            .next()
            .expect("one item")
            .into_item()
            .expect("an item");
        assert_eq!((item.key, item.version), (Key::new("P#1", "A"), 2));
        let left = answer
            .unprocessed
            .remove("t")
            .expect("the table's keys")
            .keys;
        let keys: Vec<Key> = left
            .into_iter()
            .map(|k| k.into_key().expect("a key"))
            .collect();
        assert_eq!(keys, vec![Key::new("P#2", "B")]);
    }
}
