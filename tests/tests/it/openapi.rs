//! docs/openapi.yaml describes the route table in code: the same methods
//! and paths, each operation named after the function that serves it, and
//! the conventions every operation shares (401 without a valid token, an
//! Idempotency-Key on every POST).

use serde_json::{Value as Json, json};
use serde_yaml_ng::{Mapping, Value};
use skolnav::api::routes::ROUTES;
use skolnav_tests::workspace_root;
use std::collections::BTreeSet;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub(crate) fn document() -> Value {
    let path = workspace_root().join("docs/openapi.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Every operation: (METHOD, path, the path item, the operation).
pub(crate) fn operations(doc: &Value) -> Vec<(String, String, Value, Value)> {
    let paths = doc["paths"]
        .as_mapping()
        .unwrap_or_else(|| panic!("the document has no paths"));
    let mut ops = Vec::new();
    for (path, item) in paths {
        let path = path
            .as_str()
            .unwrap_or_else(|| panic!("a path that is not a string: {path:?}"))
            .to_string();
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((
                    method.to_uppercase(),
                    path.clone(),
                    item.clone(),
                    op.clone(),
                ));
            }
        }
    }
    ops
}

/// Follows a local `$ref` (`#/components/...`) to what it names.
pub(crate) fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix("#/")
                .unwrap_or_else(|| panic!("not a local reference: {reference}"));
            let target = pointer.split('/').fold(doc, |node, segment| &node[segment]);
            assert!(!target.is_null(), "{reference} names nothing");
            resolve(doc, target)
        }
        None => value,
    }
}

/// The parameters of an operation and of its path item, resolved.
pub(crate) fn parameters<'a>(doc: &'a Value, item: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    [&item["parameters"], &op["parameters"]]
        .into_iter()
        .filter_map(Value::as_sequence)
        .flatten()
        .map(|p| resolve(doc, p))
        .collect()
}

/// An operation's path with each path parameter filled by `value`.
pub(crate) fn filled_path(
    doc: &Value,
    template: &str,
    item: &Value,
    op: &Value,
    value: impl Fn(&str) -> String,
) -> String {
    parameters(doc, item, op)
        .iter()
        .filter(|p| p["in"].as_str() == Some("path"))
        .filter_map(|p| p["name"].as_str())
        .fold(template.to_string(), |path, p| {
            path.replace(&format!("{{{p}}}"), &value(p))
        })
}

/// The first example of an operation's JSON request body.
pub(crate) fn request_example(op: &Value) -> Option<serde_json::Value> {
    op["requestBody"]["content"]["application/json"]["examples"]
        .as_mapping()
        .and_then(|examples| examples.values().next())
        .map(|example| yaml_to_json(&example["value"]))
}

pub(crate) fn yaml_to_json(value: &Value) -> Json {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("{value:?} as JSON: {e}"))
}

/// A value the schema allows: its example, const or first enum value, or
/// an object of its required members.
pub(crate) fn valid(doc: &Value, schema: &Value) -> Json {
    let schema = resolve(doc, schema);
    if let Some(v) = schema.get("const") {
        return yaml_to_json(v);
    }
    if let Some(v) = schema["examples"].as_sequence().and_then(|e| e.first()) {
        return yaml_to_json(v);
    }
    if let Some(v) = schema["enum"].as_sequence().and_then(|e| e.first()) {
        return yaml_to_json(v);
    }
    match schema["type"].as_str() {
        Some("object") => {
            let mut map = serde_json::Map::new();
            for name in schema["required"].as_sequence().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                map.insert(name.to_string(), valid(doc, &schema["properties"][name]));
            }
            Json::Object(map)
        }
        Some("array") => match schema["minItems"].as_u64() {
            Some(n) if n > 0 => Json::Array(vec![valid(doc, &schema["items"]); n as usize]),
            _ => json!([]),
        },
        Some("string") => match schema["format"].as_str() {
            Some("date") => json!("2026-11-23"),
            Some("date-time") => json!("2026-11-23T10:00:00Z"),
            _ => json!("Text"),
        },
        Some("integer" | "number") => json!(schema["minimum"].as_i64().unwrap_or(1)),
        Some("boolean") => json!(false),
        _ => json!({}),
    }
}

/// A valid body for an operation that takes JSON: its first example, or one
/// built from its schema's required members.
pub(crate) fn valid_body(doc: &Value, op: &Value) -> Option<Json> {
    let media = &op["requestBody"]["content"]["application/json"];
    (!media.is_null())
        .then(|| request_example(op).unwrap_or_else(|| valid(doc, resolve(doc, &media["schema"]))))
}

/// A JSON value as a query value: a string as itself, else its JSON text.
pub(crate) fn as_text(value: Json) -> String {
    match value {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

/// The operation's required query parameters, each with a valid value.
pub(crate) fn required_query_pairs(doc: &Value, item: &Value, op: &Value) -> Vec<(String, String)> {
    parameters(doc, item, op)
        .iter()
        .filter(|p| p["in"].as_str() == Some("query") && p["required"].as_bool() == Some(true))
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            (name, as_text(valid(doc, &p["schema"])))
        })
        .collect()
}

/// `?name=value&...`, form-encoded as a browser would, or "" for none.
pub(crate) fn query_string(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut query = form_urlencoded::Serializer::new(String::from("?"));
    query.extend_pairs(pairs);
    query.finish()
}

/// The required query parameters, valid: `?from=2026-11-23&to=2026-11-23`.
pub(crate) fn required_query(doc: &Value, item: &Value, op: &Value) -> String {
    query_string(&required_query_pairs(doc, item, op))
}

#[test]
fn the_openapi_document_describes_exactly_the_route_table() {
    let doc = document();
    let in_document: BTreeSet<(String, String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _, op)| {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                .to_string();
            (method, path, id)
        })
        .collect();
    let in_code: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_string(),
                r.function.to_string(),
            )
        })
        .collect();
    assert_eq!(in_document, in_code);
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "the document is OpenAPI 3.1"
    );
}

#[test]
fn every_operation_declares_401_and_every_post_takes_an_idempotency_key() {
    let doc = document();
    let ops = operations(&doc);
    assert!(!ops.is_empty(), "no operations in the document");
    for (method, path, item, op) in &ops {
        let responses: &Mapping = op["responses"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{method} {path} has no responses"));
        // A route without login (`security: []`, the calendar feed) answers
        // a bad credential with 404 instead.
        let public = op["security"].as_sequence().is_some_and(|s| s.is_empty());
        assert!(
            public || responses.contains_key("401"),
            "{method} {path} does not declare a 401 response"
        );
        let params = parameters(&doc, item, op);
        for p in &params {
            if p["in"].as_str() == Some("path") {
                assert_eq!(
                    p["required"].as_bool(),
                    Some(true),
                    "{method} {path}: path parameter {:?} must be required",
                    p["name"]
                );
                let name = p["name"].as_str().unwrap_or_default();
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: path parameter {name} is not in the path"
                );
            }
        }
        let idempotency_key = params.iter().any(|p| {
            p["in"].as_str() == Some("header")
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case("Idempotency-Key"))
        });
        if method == "POST" {
            assert!(
                idempotency_key,
                "{method} {path} does not declare the Idempotency-Key header"
            );
        }
    }
}
