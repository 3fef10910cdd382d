//! F4, the OpenAPI file matches the code, for what the routes answer: every
//! GET of docs/openapi.yaml is asked as each caller, at real objects of
//! pupil 1 and class 4A, and every JSON answer (2xx and problems alike) is
//! validated against the schema the document gives for its status (JSON
//! Schema 2020-12, which OpenAPI 3.1 uses, by the boon crate). So is the
//! answer to each documented request example. A member renamed in code or
//! a required one left out fails here.

use super::bad_input::callers;
use super::openapi::{document, filled_path, operations, required_query, resolve, yaml_to_json};
use super::outsiders::{id_of, objects};
use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;
use skolnav::demo;
use skolnav_tests::{Backend, TestApp};
use std::collections::{HashMap, HashSet};

on_both_stores!(every_json_answer_matches_the_schema_the_document_gives_for_its_status);

const DOCUMENT: &str = "file:///openapi.json";

/// The JSON answers a response may carry, and the suffix of their names.
const KINDS: [(&str, &str); 2] = [
    ("application/problem+json", "problem"),
    ("application/json", "json"),
];

/// The document's schemas, compiled where used: each answer's schema is
/// placed among the document's own (`#/components/schemas/answer-...`), so
/// that its `$ref`s resolve in the document.
pub(crate) struct Schemas {
    /// The names of the answers the document declares a schema for.
    declared: HashSet<String>,
    compiler: boon::Compiler,
    compiled: boon::Schemas,
    by_answer: HashMap<String, boon::SchemaIndex>,
}

fn answer_name(operation: &str, status: &str, kind: &str) -> String {
    format!("answer-{operation}-{status}-{kind}")
}

impl Schemas {
    pub(crate) fn new(doc: &Yaml) -> Schemas {
        let mut json = yaml_to_json(doc);
        let mut placed = serde_json::Map::new();
        for (_, _, _, op) in operations(doc) {
            let id = op["operationId"].as_str().unwrap_or_default();
            for (status, response) in op["responses"].as_mapping().into_iter().flatten() {
                let status = status.as_str().unwrap_or_default();
                let media = &resolve(doc, response)["content"];
                for (content_type, kind) in KINDS {
                    let schema = &media[content_type]["schema"];
                    if !schema.is_null() {
                        placed.insert(answer_name(id, status, kind), yaml_to_json(schema));
                    }
                }
            }
        }
        let declared = placed.keys().cloned().collect();
        json["components"]["schemas"]
            .as_object_mut()
            .unwrap_or_else(|| panic!("the document has no components/schemas"))
            .extend(placed);
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler
            .add_resource(DOCUMENT, json)
            .unwrap_or_else(|e| panic!("adding the document: {e}"));
        Schemas {
            declared,
            compiler,
            compiled: boon::Schemas::new(),
            by_answer: HashMap::new(),
        }
    }

    /// Whether a JSON answer is what the document says `operation` answers
    /// with this status and content type (one it gives no schema for is an
    /// error); an answer that is not JSON passes.
    pub(crate) fn as_documented(
        &mut self,
        operation: &str,
        status: u16,
        content_type: &str,
        json: &Json,
    ) -> Result<(), String> {
        let Some((_, kind)) = KINDS.iter().find(|(t, _)| content_type.starts_with(t)) else {
            return Ok(());
        };
        let name = answer_name(operation, &status.to_string(), kind);
        if !self.declared.contains(&name) {
            return Err(format!("{status} is not documented"));
        }
        let (compiler, compiled) = (&mut self.compiler, &mut self.compiled);
        let index = *self.by_answer.entry(name).or_insert_with_key(|name| {
            compiler
                .compile(&format!("{DOCUMENT}#/components/schemas/{name}"), compiled)
                .unwrap_or_else(|e| panic!("compiling {name}: {e:#}"))
        });
        self.compiled
            .validate(json, index)
            .map_err(|e| format!("{e:#}"))
    }
}

async fn every_json_answer_matches_the_schema_the_document_gives_for_its_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = document();
    let objects = objects(&app, &doc).await;
    let mut schemas = Schemas::new(&doc);
    let mut checked: HashMap<u16, usize> = HashMap::new();
    let mut wrong = Vec::new();
    for (method, template, item, op) in operations(&doc) {
        if method != "GET" || op["security"].as_sequence().is_some_and(|s| s.is_empty()) {
            continue;
        }
        let id = op["operationId"].as_str().unwrap_or_default();
        let path = format!(
            "{}{}",
            filled_path(&doc, &template, &item, &op, |p| id_of(&objects, p)),
            required_query(&doc, &item, &op)
        );
        // A pupil too: their own record holds their memberships.
        for who in callers().into_iter().chain([demo::pupil(1)]) {
            let answer = app.get(who, &path).await;
            match schemas.as_documented(id, answer.status, &answer.content_type, &answer.json) {
                Ok(()) => *checked.entry(answer.status).or_default() += 1,
                Err(e) => wrong.push(format!("GET {template} as {who}: {e}")),
            }
        }
    }
    assert!(
        checked.get(&200).is_some_and(|n| *n >= 50),
        "too few answers checked: {checked:?}"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
