//! F4 on every POST of docs/openapi.yaml: a request retried with its
//! Idempotency-Key (a client that lost the answer) gets the first answer
//! (as documented) again, marked `Idempotent-Replayed: true`, and the table holds nothing
//! more than after the first. Each POST is sent as someone it serves: the
//! first of the sweep's callers it answers 2xx, with its documented example
//! or a body built from its schema, at objects that exist (outsiders.rs
//! makes them: a report to approve, a talk slot to book, a notice to mark
//! read).

use super::bad_input::{callers, diff};
use super::openapi::{document, filled_path, operations, valid_body};
use super::outsiders::{id_of, objects};
use serde_json::{Value as Json, json};
use skolnav_tests::{Backend, TestApp, TestResponse};

on_both_stores!(every_post_retried_with_its_key_gets_the_first_answer_and_stores_nothing_more);

/// POSTs with the operation's own key (a key is a person's, across routes).
async fn post(
    app: &TestApp,
    who: skolnav::ids::PersonId,
    path: &str,
    body: &Json,
    key: &str,
) -> TestResponse {
    app.post_raw(who, path, body.to_string(), Some(key)).await
}

async fn every_post_retried_with_its_key_gets_the_first_answer_and_stores_nothing_more(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let doc = document();
    let objects = objects(&app, &doc).await;
    let mut schemas = super::answers::Schemas::new(&doc);
    let mut posts = 0;
    let mut wrong = Vec::new();
    for (method, template, item, op) in operations(&doc) {
        if method != "POST" {
            continue;
        }
        posts += 1;
        let key = format!("retry-{}", op["operationId"].as_str().unwrap_or_default());
        let path = filled_path(&doc, &template, &item, &op, |p| id_of(&objects, p));
        let mut body = valid_body(&doc, &op).unwrap_or_else(|| json!({}));
        if let Some(slot) = body.get_mut("slotId") {
            *slot = json!(id_of(&objects, "slotId"));
        }
        // Each caller's key is their own: the first one served is the
        // one whose retry is checked.
        let mut served = None;
        let mut refused = Vec::new();
        for who in callers() {
            let first = post(&app, who, &path, &body, &key).await;
            if (200..300).contains(&first.status) {
                served = Some((who, first));
                break;
            }
            refused.push(format!("{} {}", first.status, first.json["detail"]));
        }
        let Some((who, first)) = served else {
            wrong.push(format!(
                "POST {template}: no caller was served: {refused:?}"
            ));
            continue;
        };
        let id = op["operationId"].as_str().unwrap_or_default();
        if let Err(e) = schemas.as_documented(id, first.status, &first.content_type, &first.json) {
            wrong.push(format!("POST {template} as {who}: {e}"));
        }
        let stored = app.table.dump().await;
        let retry = post(&app, who, &path, &body, &key).await;
        let replayed = retry
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok());
        if retry.status != first.status || retry.json != first.json || replayed != Some("true") {
            wrong.push(format!(
                "POST {template} as {who}: first {} {}, retry {} {} (replayed {replayed:?})",
                first.status, first.json, retry.status, retry.json
            ));
        }
        let changed = diff(&stored, &app.table.dump().await);
        if !changed.is_empty() {
            wrong.push(format!(
                "POST {template}: the retry stored\n{}",
                changed.join("\n")
            ));
        }
    }
    assert!(posts >= 10, "only {posts} POSTs in the document");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
