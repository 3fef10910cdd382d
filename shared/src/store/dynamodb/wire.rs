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

use super::super::{Attributes, Item, Key, StoreError, attr};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
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

/// One read item: its keys, entity, version and expiry taken out, its
/// domain attributes written straight into JSON text (no map in between).
pub(super) struct ReadItem(pub Item);

impl<'de> Deserialize<'de> for ReadItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ReadItemVisitor).map(ReadItem)
    }
}

struct ReadItemVisitor;

impl<'de> Visitor<'de> for ReadItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an item")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Item, A::Error> {
        let mut data_layer = Map::new();
        let mut json = Vec::with_capacity(256);
        json.push(b'{');
        while let Some(Text(name)) = access.next_key::<Text>()? {
            if attr::ALL.contains(&&*name) {
                let AttributeValue(value) = access.next_value()?;
                data_layer.insert(name.into_owned(), value);
            } else {
                if json.len() > 1 {
                    json.push(b',');
                }
                write_string(&mut json, &name)?;
                json.push(b':');
                access.next_value_seed(AsJson(&mut json))?;
            }
        }
        json.push(b'}');
        let mut item = Item::from_map(data_layer).map_err(de::Error::custom)?;
        let json = String::from_utf8(json).map_err(de::Error::custom)?;
        item.attrs = Attributes::from_object_text(json);
        Ok(item)
    }
}

/// A string, borrowed from the body when it holds no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(TextVisitor).map(Text)
    }
}

fn write_string<E: de::Error>(out: &mut Vec<u8>, text: &str) -> Result<(), E> {
    serde_json::to_writer(out, text).map_err(E::custom)
}

fn write_value<E: de::Error>(out: &mut Vec<u8>, value: &Value) -> Result<(), E> {
    serde_json::to_writer(out, value).map_err(E::custom)
}

/// Writes one attribute value, given in DynamoDB's JSON, as plain JSON.
struct AsJson<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for AsJson<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AsJson<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let out = self.0;
        let Some(tag) = access.next_key::<Tag>()? else {
            return Err(de::Error::custom("an attribute value without a type"));
        };
        match tag {
            Tag::S => write_string(out, &access.next_value::<Text>()?.0)?,
            Tag::N => write_value(out, &number(&access.next_value::<Text>()?.0)?)?,
            Tag::Bool => {
                let b: bool = access.next_value()?;
                out.extend_from_slice(if b { b"true" } else { b"false" });
            }
            Tag::Null => {
                access.next_value::<de::IgnoredAny>()?;
                out.extend_from_slice(b"null");
            }
            Tag::M => access.next_value_seed(ObjectAsJson(out))?,
            Tag::L => access.next_value_seed(ListAsJson(out))?,
            Tag::Ss | Tag::Ns => {
                let AttributeValue(set) = set_value(tag, &mut access)?;
                write_value(out, &set)?;
            }
            Tag::B | Tag::Bs => return Err(binary()),
        }
        if access.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("an attribute value with two types"));
        }
        Ok(())
    }
}

/// An `M` value's entries, written as a JSON object.
struct ObjectAsJson<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for ObjectAsJson<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectAsJson<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let out = self.0;
        out.push(b'{');
        let mut first = true;
        while let Some(Text(name)) = access.next_key::<Text>()? {
            if !first {
                out.push(b',');
            }
            first = false;
            write_string(out, &name)?;
            out.push(b':');
            access.next_value_seed(AsJson(out))?;
        }
        out.push(b'}');
        Ok(())
    }
}

/// An `L` value's elements, written as a JSON array.
struct ListAsJson<'a>(&'a mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for ListAsJson<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListAsJson<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of attribute values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let out = self.0;
        out.push(b'[');
        let mut first = true;
        while access
            .next_element_seed(Element {
                out: &mut *out,
                first,
            })?
            .is_some()
        {
            first = false;
        }
        out.push(b']');
        Ok(())
    }
}

/// One element of a list: a comma before all but the first.
struct Element<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'de> DeserializeSeed<'de> for Element<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if !self.first {
            self.out.push(b',');
        }
        AsJson(self.out).deserialize(d)
    }
}

/// A map of attributes as JSON values (a key, a cursor).
pub(super) struct AttributeMap(pub Map<String, Value>);

impl<'de> Deserialize<'de> for AttributeMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AttributesVisitor).map(AttributeMap)
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
            Tag::M => Value::Object(access.next_value::<AttributeMap>()?.0),
            Tag::L => Value::Array(
                access
                    .next_value::<Vec<AttributeValue>>()?
                    .into_iter()
                    .map(|v| v.0)
                    .collect(),
            ),
            Tag::Ss | Tag::Ns => set_value(tag, &mut access)?.0,
            Tag::B | Tag::Bs => return Err(binary()),
        };
        if access.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("an attribute value with two types"));
        }
        Ok(value)
    }
}

/// A string or number set, as a JSON array.
fn set_value<'de, A: MapAccess<'de>>(tag: Tag, access: &mut A) -> Result<AttributeValue, A::Error> {
    let texts = access.next_value::<Vec<String>>()?;
    let values = match tag {
        Tag::Ns => texts.iter().map(|n| number(n)).collect::<Result<_, _>>()?,
        _ => texts.into_iter().map(Value::String).collect(),
    };
    Ok(AttributeValue(Value::Array(values)))
}

fn binary<E: de::Error>() -> E {
    E::custom("a binary attribute, which the store never writes")
}

/// An attribute value's type, as DynamoDB names it.
#[derive(Deserialize, Clone, Copy)]
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
    pub item: Option<ReadItem>,
    #[serde(rename = "ConsumedCapacity", default)]
    pub capacity: Capacity,
}

/// Query's answer.
#[derive(Deserialize)]
pub(super) struct QueryAnswer {
    #[serde(rename = "Items", default)]
    pub items: Vec<ReadItem>,
    #[serde(rename = "LastEvaluatedKey")]
    pub last_key: Option<AttributeMap>,
    #[serde(rename = "ConsumedCapacity", default)]
    pub capacity: Capacity,
}

/// BatchGetItem's answer, per table.
#[derive(Deserialize)]
pub(super) struct BatchGetAnswer {
    #[serde(rename = "Responses", default)]
    pub responses: HashMap<String, Vec<ReadItem>>,
    #[serde(rename = "UnprocessedKeys", default)]
    pub unprocessed: HashMap<String, Unprocessed>,
    #[serde(rename = "ConsumedCapacity", default)]
    pub capacity: Capacity,
}

#[derive(Deserialize)]
pub(super) struct Unprocessed {
    #[serde(rename = "Keys", default)]
    pub keys: Vec<AttributeMap>,
}

/// Parses an answer's body into `T`, naming what was read on failure.
pub(super) fn parse<'a, T: Deserialize<'a>>(what: &str, body: &'a [u8]) -> Result<T, StoreError> {
    serde_json::from_slice(body)
        .map_err(|e| StoreError::Mapping(format!("dynamodb {what} answer: {e}")))
}

impl AttributeMap {
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
        serde_json::from_str::<AttributeMap>(text)
            .expect("parses")
            .0
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
        let keyed = text.replacen(
            '{',
            r#"{"PK": {"S": "P#1"}, "SK": {"S": "A"}, "version": {"N": "3"},"#,
            1,
        );
        let item = serde_json::from_str::<ReadItem>(&keyed).expect("an item").0;
        assert_eq!((item.key, item.version), (Key::new("P#1", "A"), 3));
        assert_eq!(item.attrs.to_map(), via_sdk);
    }

    #[test]
    fn an_items_attributes_are_refused_as_the_attribute_values_are() {
        for bad in [
            r#"{"PK": {"S": "p"}, "SK": {"S": "s"}, "x": {"B": "AAE="}}"#,
            r#"{"PK": {"S": "p"}, "SK": {"S": "s"}, "x": {"L": [{"S": "a", "N": "1"}]}}"#,
            r#"{"PK": {"S": "p"}, "SK": {"S": "s"}, "x": {"M": {"y": {"N": "one"}}}}"#,
            r#"{"SK": {"S": "s"}, "x": {"S": "no PK"}}"#,
        ] {
            assert!(serde_json::from_str::<ReadItem>(bad).is_err(), "{bad}");
        }
    }

    fn av_s(s: &str) -> aws_sdk_dynamodb::types::AttributeValue {
        aws_sdk_dynamodb::types::AttributeValue::S(s.into())
    }

    fn av_n(n: &str) -> aws_sdk_dynamodb::types::AttributeValue {
        aws_sdk_dynamodb::types::AttributeValue::N(n.into())
    }

    #[test]
    fn binary_values_and_values_of_two_types_are_refused() {
        assert!(serde_json::from_str::<AttributeMap>(r#"{"x": {"B": "AAE="}}"#).is_err());
        assert!(serde_json::from_str::<AttributeMap>(r#"{"x": {"S": "a", "N": "1"}}"#).is_err());
        assert!(serde_json::from_str::<AttributeMap>(r#"{"x": {"N": "one"}}"#).is_err());
        assert!(serde_json::from_str::<AttributeMap>(r#"{"x": {}}"#).is_err());
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
        let item = read.into_iter().next().expect("one item").0;
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
