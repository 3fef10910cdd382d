//! An item's domain attributes, held as the JSON text of one object.
//!
//! Text rather than a `serde_json::Map`: a read item is parsed once, into
//! the handler's own type, and a list of a few hundred items in maps (a
//! B-tree node per dozen attributes, a `Value` per attribute) was the
//! largest thing on a function's heap as it answered (docs/performance.md,
//! run 18). Whoever wants to change attributes takes a map and gives it back.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;

#[derive(Clone)]
pub struct Attributes {
    /// Always the text of a JSON object.
    json: Box<str>,
}

impl Attributes {
    pub fn from_map(map: &Map<String, Value>) -> Self {
        Attributes {
            // A map of JSON values always serializes.
            json: serde_json::to_string(map)
                .unwrap_or_else(|_| "{}".into())
                .into_boxed_str(),
        }
    }

    /// Text the store's own reader wrote as one JSON object.
    pub(crate) fn from_object_text(json: String) -> Self {
        Attributes {
            json: json.into_boxed_str(),
        }
    }

    pub fn to_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.json).unwrap_or_default()
    }

    /// One attribute's value (parses the whole object: for a few reads).
    pub fn get(&self, name: &str) -> Option<Value> {
        self.to_map().remove(name)
    }

    /// Sets one attribute.
    pub fn insert(&mut self, name: &str, value: Value) {
        let mut map = self.to_map();
        map.insert(name.to_string(), value);
        *self = Attributes::from_map(&map);
    }

    pub fn parse<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.json)
    }

    pub fn as_json(&self) -> &str {
        &self.json
    }
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes { json: "{}".into() }
    }
}

/// Equal when they hold the same attributes, in whatever order.
impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json || self.to_map() == other.to_map()
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes_compare_by_content_not_by_order() {
        let a = Attributes::from_object_text(r#"{"b":1,"a":[true,null]}"#.into());
        let b = Attributes::from_map(json!({"a": [true, null], "b": 1}).as_object().unwrap());
        assert_eq!(a, b);
        let mut c = b.clone();
        c.insert("b", json!(2));
        assert_ne!(a, c);
        assert_eq!(c.get("b"), Some(json!(2)));
        assert_eq!(c.get("missing"), None);
    }
}
