//! Bad input on every route. For each operation of docs/openapi.yaml (which
//! `openapi.rs` holds to the route table) the sweep derives bad requests
//! from what the document declares: a path id malformed; a query parameter
//! of the wrong type, outside its bounds or missing when required; a body
//! that is not a JSON object, too large or with a member the schema does not
//! have; a member of the wrong type, missing when required or outside its
//! declared bounds; a header outside its bounds. Each is sent as several callers (staff of every kind and
//! a guardian). Every answer is a 4xx problem+json, never a 5xx; at least
//! one caller (one the route serves) is told which field is at fault (400,
//! or 422 for a value the use case cannot take); the table holds exactly
//! what it held before; and the logs, captured as the functions write
//! them, hold no name, address, number or text of the school's or of
//! what was sent.
//!
//! Members are changed one at a time in a valid body: the operation's first
//! example, or one built from the schema's required members.

use super::openapi::{
    as_text, document, filled_path, operations, parameters, query_string, required_query_pairs,
    resolve, valid_body, yaml_to_json,
};
use serde_json::{Value as Json, json};
use serde_yaml_ng::Value as Yaml;
use skolnav::api::{Ctx, MAX_BODY};
use skolnav::demo;
use skolnav::devkeys::DevIssuer;
use skolnav::ids::PersonId;
use skolnav_tests::{Backend, TestApp, TestResponse};
use std::sync::{Arc, Mutex};

on_both_stores!(
    every_bad_input_the_document_describes_is_a_problem_naming_the_field_and_changes_nothing,
    every_bad_input_is_refused_alike_by_the_function_that_serves_its_route,
    every_request_example_in_the_document_is_accepted_by_its_route,
);

/// The callers each bad request is sent as; every route serves one of them.
pub(crate) fn callers() -> [PersonId; 6] {
    [
        demo::staff(demo::ORGANISATION_ADMIN),
        demo::staff(demo::ADMIN),
        demo::staff(demo::PRINCIPAL),
        demo::staff(demo::MENTOR_4A),
        demo::staff(demo::SUBJECT_TEACHER),
        demo::guardian(1),
    ]
}

/// A well-formed path parameter: the demo school's own where the callers
/// have relations, otherwise an id no item has.
pub(crate) fn path_value(name: &str) -> String {
    match name {
        "pupilId" => demo::pupil(1).to_string(),
        "groupId" => demo::class(1).to_string(),
        "schoolId" => demo::school().to_string(),
        "organisationId" => demo::organisation().to_string(),
        "personId" => demo::staff(demo::SUBJECT_TEACHER).to_string(),
        _ => "01JD00000000000000000000ZZ".to_string(),
    }
}

/// What some caller must be answered.
enum Expect {
    /// 400 (or 422, for a well-formed value the use case cannot take),
    /// naming this field or a member holding it among the `invalidParams`.
    Names(String),
    /// This status, as a problem.
    Status(u16),
}

/// One request to a route, as a caller would send it.
pub(crate) struct Request {
    /// The function that serves the route (its operationId).
    pub(crate) function: String,
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    /// `?name=value&...`, or empty.
    pub(crate) query: String,
    /// Headers besides the bearer token and the content type.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<String>,
}

/// A bad request of the sweep and what some caller must be answered.
struct Probe {
    request: Request,
    /// What is wrong, for the failure message.
    what: String,
    expect: Expect,
}

/// The field's name as problems give it, from a JSON pointer into the body:
/// `/days/0/date` is `days[0].date` (no member of ours is named by digits).
fn field_name(at: &str) -> String {
    let mut name = String::new();
    for step in at.split('/').skip(1) {
        if step.parse::<usize>().is_ok() {
            name.push_str(&format!("[{step}]"));
        } else {
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(step);
        }
    }
    name
}

/// `body` with the member at the pointer `at` set to `to`, or removed for
/// `None`.
fn with(body: &Json, at: &str, to: Option<Json>) -> Json {
    let mut out = body.clone();
    let (parent, last) = at
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("not a pointer: {at}"));
    match (out.pointer_mut(parent), to) {
        (Some(Json::Object(map)), Some(to)) => {
            map.insert(last.to_string(), to);
        }
        (Some(Json::Object(map)), None) => {
            map.remove(last);
        }
        (Some(Json::Array(items)), Some(to)) => {
            let i: usize = last.parse().unwrap_or_else(|e| panic!("{at}: {e}"));
            items[i] = to;
        }
        _ => panic!("no member at {}", field_name(at)),
    }
    out
}

/// A value of another JSON type than the schema's.
fn wrong_type(schema: &Yaml) -> Option<Json> {
    match schema["type"].as_str()? {
        "string" => Some(json!(12345)),
        "integer" | "number" | "boolean" | "array" | "object" => Some(json!("many")),
        _ => None,
    }
}

/// Values of the schema's type outside its declared bounds.
fn outside(schema: &Yaml) -> Vec<(Json, String)> {
    let mut out = Vec::new();
    if let Some(max) = schema["maxLength"].as_u64() {
        out.push((
            json!("x".repeat(max as usize + 1)),
            format!("longer than {max}"),
        ));
    }
    if schema["minLength"].as_u64().is_some_and(|min| min > 0) {
        out.push((json!(""), "empty".to_string()));
    }
    if schema["enum"].is_sequence() {
        out.push((json!("no-such-value"), "not one of its values".to_string()));
    }
    match schema["format"].as_str() {
        Some("date") => out.push((json!("2026-02-30"), "not a date".to_string())),
        Some("date-time") => out.push((json!("not-a-time"), "not a time".to_string())),
        _ => {}
    }
    if schema["pattern"].is_string() {
        out.push((
            json!("not~matching"),
            "not matching its pattern".to_string(),
        ));
    }
    if let Some(max) = schema["maximum"].as_i64() {
        out.push((json!(max + 1), format!("over {max}")));
    }
    if let Some(min) = schema["minimum"].as_i64() {
        out.push((json!(min - 1), format!("under {min}")));
    }
    out
}

/// Each bad body derived from the member at `at` of `base` and what lies
/// under it: (the body, the field at fault, what is wrong).
fn member_probes(
    doc: &Yaml,
    schema: &Yaml,
    base: &Json,
    at: &str,
    out: &mut Vec<(Json, String, String)>,
) {
    let schema = resolve(doc, schema);
    if let Some(properties) = schema["properties"].as_mapping() {
        let required: Vec<&str> = schema["required"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Yaml::as_str)
            .collect();
        for (name, property) in properties {
            let name = name.as_str().unwrap_or_default();
            let property = resolve(doc, property);
            let child = format!("{at}/{name}");
            let field = field_name(&child);
            let present = base.pointer(&child).cloned();
            if let Some(wrong) = wrong_type(property) {
                out.push((
                    with(base, &child, Some(wrong)),
                    field.clone(),
                    "of the wrong type".into(),
                ));
            }
            // A list of scalars (ids, years): one item that is wrong,
            // whether or not the valid body has the list.
            let items = resolve(doc, &property["items"]);
            if property["type"].as_str() == Some("array") && items["properties"].is_null() {
                let first = format!("{field}[0]");
                let bad = wrong_type(items)
                    .map(|v| (v, "of the wrong type".to_string()))
                    .into_iter()
                    .chain(outside(items));
                for (value, what) in bad {
                    out.push((
                        with(base, &child, Some(json!([value]))),
                        first.clone(),
                        what,
                    ));
                }
            }
            let Some(present) = present else { continue };
            if required.contains(&name) {
                out.push((with(base, &child, None), field.clone(), "missing".into()));
            }
            for (value, what) in outside(property) {
                out.push((with(base, &child, Some(value)), field.clone(), what));
            }
            if let (Some(max), Some(first)) = (
                property["maxItems"].as_u64(),
                present.as_array().and_then(|items| items.first()),
            ) {
                let items = Json::Array(vec![first.clone(); max as usize + 1]);
                out.push((
                    with(base, &child, Some(items)),
                    field.clone(),
                    format!("more than {max} items"),
                ));
            }
            match &present {
                Json::Object(_) => member_probes(doc, property, base, &child, out),
                Json::Array(items) if !items.is_empty() => {
                    member_probes(doc, &property["items"], base, &format!("{child}/0"), out);
                }
                _ => {}
            }
        }
    }
    if schema["additionalProperties"].as_bool() == Some(false)
        && base.pointer(at).is_some_and(Json::is_object)
    {
        let child = format!("{at}/unexpectedMember");
        out.push((
            with(base, &child, Some(json!(1))),
            field_name(&child),
            "not in the schema".into(),
        ));
    }
}

/// Every bad request the document describes for one operation.
fn probes_of(doc: &Yaml, method: &str, template: &str, item: &Yaml, op: &Yaml) -> Vec<Probe> {
    let method: reqwest::Method = method.parse().unwrap_or_else(|e| panic!("{method}: {e}"));
    let params = parameters(doc, item, op);
    let in_ = |p: &&Yaml, place: &str| p["in"].as_str() == Some(place);
    let name = |p: &Yaml| p["name"].as_str().unwrap_or_default().to_string();
    let path_with = |bad: Option<&str>| {
        filled_path(doc, template, item, op, |n| {
            if bad == Some(n) {
                "not-an-id".to_string()
            } else {
                path_value(n)
            }
        })
    };
    let queries: Vec<&Yaml> = params.iter().copied().filter(|p| in_(p, "query")).collect();
    // The required query parameters, valid, with one left out or replaced.
    let required = required_query_pairs(doc, item, op);
    let query_with = |leave_out: Option<&str>, bad: Option<(&str, &str)>| {
        let mut pairs: Vec<(String, String)> = required
            .iter()
            .filter(|(n, _)| Some(n.as_str()) != leave_out)
            .cloned()
            .collect();
        if let Some((n, v)) = bad {
            pairs.retain(|(k, _)| k != n);
            pairs.push((n.to_string(), v.to_string()));
        }
        query_string(&pairs)
    };
    let body_schema = resolve(
        doc,
        &op["requestBody"]["content"]["application/json"]["schema"],
    );
    let base_body = valid_body(doc, op);
    let base_text = base_body.as_ref().map(Json::to_string);
    let function = op["operationId"].as_str().unwrap_or_default().to_string();
    let probe = |path: String, query: String, body: Option<String>, what: String, expect| Probe {
        request: Request {
            function: function.clone(),
            method: method.clone(),
            path,
            query,
            headers: Vec::new(),
            body,
        },
        what,
        expect,
    };

    let mut out = Vec::new();
    for p in params.iter().filter(|p| in_(p, "path")) {
        let n = name(p);
        out.push(probe(
            path_with(Some(&n)),
            query_with(None, None),
            base_text.clone(),
            format!("path parameter {n} not an id"),
            Expect::Names(n),
        ));
    }
    let path = path_with(None);
    // A header out of bounds, on an otherwise valid request: if it were
    // taken, the request would store something.
    for p in params.iter().filter(|p| in_(p, "header")) {
        let n = name(p);
        for (value, what) in outside(resolve(doc, &p["schema"])) {
            let mut bad = probe(
                path.clone(),
                query_with(None, None),
                base_text.clone(),
                format!("header {n} {what}"),
                Expect::Names(n.clone()),
            );
            // Each operation's own value: an Idempotency-Key taken by one
            // would be refused as reused by the next.
            let value = value.as_str().unwrap_or_default();
            let id = op["operationId"].as_str().unwrap_or_default();
            let value = match value.len().checked_sub(id.len()) {
                Some(rest) if !value.is_empty() => format!("{id}{}", "x".repeat(rest)),
                _ => value.to_string(),
            };
            bad.request.headers.push((n.clone(), value));
            out.push(bad);
        }
    }
    for p in &queries {
        let n = name(p);
        let schema = resolve(doc, &p["schema"]);
        let mut bad: Vec<(String, String)> = outside(schema)
            .into_iter()
            .map(|(v, what)| (as_text(v), what))
            .collect();
        if matches!(schema["type"].as_str(), Some("integer" | "number")) {
            bad.push(("many".into(), "not a number".into()));
        }
        if n == "cursor" {
            bad.push(("not-a-cursor".into(), "a cursor never given".into()));
        }
        for (value, what) in bad {
            out.push(probe(
                path.clone(),
                query_with(None, Some((&n, &value))),
                base_text.clone(),
                format!("query parameter {n} {what}"),
                Expect::Names(n.clone()),
            ));
        }
        if p["required"].as_bool() == Some(true) {
            out.push(probe(
                path.clone(),
                query_with(Some(&n), None),
                base_text.clone(),
                format!("query parameter {n} missing"),
                Expect::Names(n.clone()),
            ));
        }
    }
    let Some(base) = base_body else {
        return out;
    };
    let query = query_with(None, None);
    if op["requestBody"]["required"].as_bool() == Some(true) {
        for (text, what) in [
            ("", "empty"),
            ("[]", "an array"),
            ("{", "cut short"),
            ("BASE BASE", "two objects"),
        ] {
            out.push(probe(
                path.clone(),
                query.clone(),
                Some(text.replace("BASE", &base.to_string())),
                format!("body {what}"),
                Expect::Names("body".into()),
            ));
        }
    }
    out.push(probe(
        path.clone(),
        query.clone(),
        Some(format!(r#"{{"x":"{}"}}"#, "x".repeat(MAX_BODY))),
        "body over the limit".into(),
        Expect::Status(413),
    ));
    let mut members = Vec::new();
    member_probes(doc, body_schema, &base, "", &mut members);
    for (body, field, what) in members {
        out.push(probe(
            path.clone(),
            query.clone(),
            Some(body.to_string()),
            format!("member {field} {what}"),
            Expect::Names(field),
        ));
    }
    out
}

/// How a probe reaches the code: over HTTP to the local server, or as
/// Lambda hands a request to the function that serves the route (its own
/// rows of the route table, the body limit checked by the dispatcher).
enum Transport {
    LocalServer,
    Function(Ctx, Box<DevIssuer>),
}

/// The answer, by either way.
async fn send(
    app: &TestApp,
    transport: &Transport,
    who: PersonId,
    request: &Request,
) -> TestResponse {
    match transport {
        Transport::LocalServer => send_http(app, who, request).await,
        Transport::Function(ctx, issuer) => invoke(ctx, issuer, who, request).await,
    }
}

async fn invoke(ctx: &Ctx, issuer: &DevIssuer, who: PersonId, request: &Request) -> TestResponse {
    let token = issuer.token_for(&who.to_string(), std::time::Duration::from_secs(600));
    let mut req = http::Request::builder()
        .method(request.method.as_str())
        .uri(format!("{}{}", request.path, request.query))
        .header("authorization", format!("Bearer {token}"));
    for (name, value) in &request.headers {
        req = req.header(name, value);
    }
    let body = match &request.body {
        Some(body) => {
            req = req.header("content-type", "application/json");
            lambda_http::Body::Text(body.clone())
        }
        None => lambda_http::Body::Empty,
    };
    let req = req
        .body(body)
        .unwrap_or_else(|e| panic!("{} {}: {e}", request.method, request.path));
    skolnav_tests::handle(ctx, &request.function, req).await
}

pub(crate) async fn send_http(app: &TestApp, who: PersonId, request: &Request) -> TestResponse {
    app.send_raw(
        request.method.clone(),
        who,
        &format!("{}{}", request.path, request.query),
        &request.headers,
        request.body.clone(),
    )
    .await
}

/// What the server logs, as the functions log it in production (JSON, info
/// and up; our own crates' debug too): captured on the test's thread, which
/// runs the server it spawned.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A dispatcher that wants nothing but keeps every callsite asking. tracing
/// caches each callsite's interest for the process, and while only one
/// dispatcher exists it asks the default of whichever thread reaches the
/// callsite first: a parallel test's thread, with no subscriber, would
/// cache "never" and the capture would miss the event (it did: 254 of
/// 2,118 request lines in a full run). With this one alive for the
/// process, interest is asked of every dispatcher.
struct KeepAsking;

impl tracing::Subscriber for KeepAsking {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

static KEEP_ASKING: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();

impl Logs {
    /// The capturing subscriber, for `set_default` on the test's thread.
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        KEEP_ASKING.get_or_init(|| tracing::Dispatch::new(KeepAsking));
        let logs = self.clone();
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,skolnav=debug,skolnav_local=debug",
            ))
            .with_writer(move || logs.clone())
            .finish()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// What must never be logged: every person's name, e-mail address and
/// mobile number as stored, the texts of the document's examples (notes,
/// titles, bodies) and the over-long texts the sweep sends.
fn private_texts(dump: &str, doc: &Yaml) -> Vec<String> {
    let mut texts = vec!["x".repeat(32)];
    texts.extend(person_texts(dump));
    for (_, _, _, op) in operations(doc) {
        let media = &op["requestBody"]["content"]["application/json"];
        for example in media["examples"].as_mapping().into_iter().flatten() {
            let value = yaml_to_json(&example.1["value"]);
            for member in ["note", "title", "body", "description", "place"] {
                if let Some(text) = value[member].as_str() {
                    texts.push(text.to_string());
                }
            }
        }
    }
    texts.sort();
    texts.dedup();
    texts
}

/// Every person's name, e-mail address and mobile number in a dump of the
/// table.
pub(crate) fn person_texts(dump: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for line in dump.lines() {
        let item: Json = serde_json::from_str(line).unwrap_or(Json::Null);
        for member in ["givenName", "familyName", "email", "mobile"] {
            if let Some(text) = item[member].as_str().filter(|t| t.len() >= 3) {
                texts.push(text.to_string());
            }
        }
    }
    texts.sort();
    texts.dedup();
    texts
}

/// The items one dump holds and the other not, marked `-` and `+`.
pub(crate) fn diff(before: &str, after: &str) -> Vec<String> {
    let old: std::collections::BTreeSet<&str> = before.lines().collect();
    let new: std::collections::BTreeSet<&str> = after.lines().collect();
    old.difference(&new)
        .map(|l| format!("- {l}"))
        .chain(new.difference(&old).map(|l| format!("+ {l}")))
        .collect()
}

/// Whether a problem naming `name` names `field`: the field itself, a part
/// of it (`pupils[0]` of a list) or a member that holds it (`audience` for
/// an `audience.x` it does not take); never the whole body for a member.
fn names(name: &str, field: &str) -> bool {
    let within = |inner: &str, outer: &str| {
        inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    };
    name == field || within(field, name) || within(name, field)
}

fn named(problem: &Json) -> Vec<&str> {
    problem["invalidParams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect()
}

async fn every_bad_input_the_document_describes_is_a_problem_naming_the_field_and_changes_nothing(
    backend: Backend,
) {
    sweep(backend, |_| Transport::LocalServer).await;
}

async fn every_bad_input_is_refused_alike_by_the_function_that_serves_its_route(backend: Backend) {
    sweep(backend, |app| {
        let (ctx, issuer) =
            skolnav_tests::lambda_ctx(app.store.clone(), app.clock.clone(), app.files.clone());
        Transport::Function(ctx, Box::new(issuer))
    })
    .await;
}

async fn sweep(backend: Backend, transport: impl FnOnce(&TestApp) -> Transport) {
    let app = TestApp::spawn(backend).await;
    let transport = transport(&app);
    let doc = document();
    let mut schemas = super::answers::Schemas::new(&doc);
    let before = app.table.dump().await;
    let logs = Logs::default();
    let _capturing = tracing::subscriber::set_default(logs.subscriber());
    let mut failures = Vec::new();
    let mut sent = 0;
    let mut oversized = 0;
    for (method, template, item, op) in operations(&doc) {
        // The one route without login (a calendar feed by its token)
        // answers every token it does not know with 404, by design.
        if op["security"].as_sequence().is_some_and(|s| s.is_empty()) {
            continue;
        }
        for probe in probes_of(&doc, &method, &template, &item, &op) {
            let mut answers = Vec::new();
            for who in callers() {
                let answer = send(&app, &transport, who, &probe.request).await;
                let (status, content_type, problem) =
                    (answer.status, answer.content_type, answer.json);
                sent += 1;
                oversized += usize::from(
                    matches!(transport, Transport::LocalServer)
                        && matches!(probe.expect, Expect::Status(413)),
                );
                if !(400..500).contains(&status)
                    || !content_type.starts_with("application/problem+json")
                    || problem["status"].as_u64() != Some(u64::from(status))
                {
                    failures.push(format!(
                        "{method} {template} ({}) as {who}: {status} {content_type} {problem}",
                        probe.what
                    ));
                }
                if let Err(e) =
                    schemas.as_documented(&probe.request.function, status, &content_type, &problem)
                {
                    failures.push(format!("{method} {template} ({}): {e}", probe.what));
                }
                answers.push((status, problem));
            }
            let met = answers.iter().any(|(status, problem)| match &probe.expect {
                Expect::Names(field) => {
                    matches!(status, 400 | 422) && named(problem).iter().any(|n| names(n, field))
                }
                Expect::Status(s) => status == s,
            });
            if !met {
                let seen: Vec<String> = answers
                    .iter()
                    .map(|(status, problem)| {
                        format!("{status} {:?} {}", named(problem), problem["detail"])
                    })
                    .collect();
                let expected = match &probe.expect {
                    Expect::Names(field) => format!("400 or 422 naming {field}"),
                    Expect::Status(s) => s.to_string(),
                };
                failures.push(format!(
                    "{method} {template} ({}): no caller got {expected}; got {}",
                    probe.what,
                    seen.join(", ")
                ));
            }
        }
    }
    assert!(sent > 1000, "only {sent} bad requests were derived");
    assert!(
        failures.is_empty(),
        "{} of {sent} answers to bad input were not as they should be:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let logged = logs.text();
    // A body over the limit is refused before a route is dispatched.
    let routed = logged.matches("\"request\"").count();
    assert!(
        routed >= sent - oversized,
        "{routed} request log lines captured for {sent} requests, {oversized} too large"
    );
    let private = private_texts(&before, &doc);
    assert!(private.len() > 100, "only {} private texts", private.len());
    let leaked: Vec<&String> = private.iter().filter(|t| logged.contains(*t)).collect();
    assert!(
        leaked.is_empty(),
        "logged while refusing bad input: {leaked:?}"
    );
    let after = app.table.dump().await;
    let changed: Vec<String> = diff(&before, &after);
    assert!(
        changed.is_empty(),
        "bad input changed what is stored:\n{}",
        changed.join("\n")
    );
}

/// The examples the sweep changes are requests the demo school takes: each
/// is answered 2xx for one of the callers (on a fresh app each, since an
/// example may take what another needs), with an answer as documented.
async fn every_request_example_in_the_document_is_accepted_by_its_route(backend: Backend) {
    let doc = document();
    let mut schemas = super::answers::Schemas::new(&doc);
    let mut examples = 0;
    let mut refused = Vec::new();
    for (method, template, item, op) in operations(&doc) {
        let media = &op["requestBody"]["content"]["application/json"];
        let Some(named_examples) = media["examples"].as_mapping() else {
            continue;
        };
        let path = filled_path(&doc, &template, &item, &op, path_value);
        for (name, example) in named_examples {
            examples += 1;
            let app = TestApp::spawn(backend).await;
            let request = Request {
                function: op["operationId"].as_str().unwrap_or_default().to_string(),
                method: method.parse().unwrap_or_else(|e| panic!("{method}: {e}")),
                path: path.clone(),
                query: String::new(),
                headers: Vec::new(),
                body: Some(yaml_to_json(&example["value"]).to_string()),
            };
            let mut answers = Vec::new();
            let mut taken = false;
            for who in callers() {
                let TestResponse {
                    status,
                    content_type,
                    json: answer,
                    ..
                } = send_http(&app, who, &request).await;
                if (200..300).contains(&status) {
                    taken = true;
                    answers = match schemas.as_documented(
                        &request.function,
                        status,
                        &content_type,
                        &answer,
                    ) {
                        Ok(()) => Vec::new(),
                        Err(e) => vec![format!("{status}, not as documented: {e}")],
                    };
                    break;
                }
                answers.push(format!("{status} {}", answer["detail"]));
            }
            if !taken || !answers.is_empty() {
                refused.push(format!(
                    "{method} {template} example {name:?}: {}",
                    answers.join(", ")
                ));
            }
        }
    }
    assert!(examples >= 5, "only {examples} examples in the document");
    assert!(
        refused.is_empty(),
        "examples no caller could send:\n{}",
        refused.join("\n")
    );
}
