//! F1 on every route of docs/openapi.yaml, without a hand-written matrix:
//! a request that names something of Solrosskolan (pupil 1, class 4A, the
//! school, a teacher of it, its organisation's imports) or addresses it in
//! its body (the documented examples) is sent by people with no relation to
//! it: a guardian and a pupil of Ekbackens skola, that school's admin, and
//! for a pupil or a class also a guardian of the other class, for a pupil
//! also a classmate and the classmate's guardians. Each is
//! refused with 403 or 404, no answer holds anyone's name, address or
//! number, and nothing is stored. `policy_matrix` says, per use case, which
//! of the two statuses and what the allowed roles get; this test keeps a
//! new route from arriving without the refusal.

use super::bad_input::{
    Expect, Probe, diff, path_value, person_texts, send_http, valid, yaml_to_json,
};
use super::openapi::{document, operations, parameters, resolve};
use serde_json::Value as Json;
use serde_yaml_ng::Value as Yaml;
use skolnav::demo;
use skolnav::ids::PersonId;
use skolnav_tests::{Backend, TestApp};

on_both_stores!(no_one_without_a_relation_reaches_what_a_route_names);

/// The path parameters that name something of the demo school.
const NAMING: [&str; 5] = [
    "pupilId",
    "groupId",
    "schoolId",
    "personId",
    "organisationId",
];

/// People of the other school (pupil 41 and their guardian, its admin);
/// for a pupil or a class the guardian of a child in class 4B; for a pupil
/// also a classmate and the classmate's two guardians.
fn outsiders(params: &[String]) -> Vec<PersonId> {
    let mut who = vec![
        demo::guardian(41),
        demo::pupil(41),
        demo::staff(demo::OTHER_SCHOOL_ADMIN),
    ];
    if params.iter().any(|p| p == "pupilId" || p == "groupId") {
        who.push(demo::guardian(21));
    }
    if params.iter().any(|p| p == "pupilId") {
        who.extend([demo::pupil(2), demo::guardian(2), demo::guardian(52)]);
    }
    who
}

/// `?from=2026-11-23&to=2026-11-23`: the required query parameters, valid.
fn required_query(doc: &Yaml, item: &Yaml, op: &Yaml) -> String {
    let pairs: Vec<String> = parameters(doc, item, op)
        .iter()
        .filter(|p| p["in"].as_str() == Some("query") && p["required"].as_bool() == Some(true))
        .map(|p| {
            let value = match valid(doc, &p["schema"]) {
                Json::String(s) => s,
                other => other.to_string(),
            };
            format!("{}={value}", p["name"].as_str().unwrap_or_default())
        })
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

async fn no_one_without_a_relation_reaches_what_a_route_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = document();
    let before = app.table.dump().await;
    let private = person_texts(&before);
    assert!(private.len() > 100, "only {} private texts", private.len());
    let mut reached = Vec::new();
    let mut routes = 0;
    for (method, template, item, op) in operations(&doc) {
        if op["security"].as_sequence().is_some_and(|s| s.is_empty()) {
            continue;
        }
        let params: Vec<String> = parameters(&doc, &item, &op)
            .iter()
            .filter(|p| p["in"].as_str() == Some("path"))
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        let media = &op["requestBody"]["content"]["application/json"];
        let example = media["examples"]
            .as_mapping()
            .and_then(|examples| examples.values().next())
            .map(|example| yaml_to_json(&example["value"]));
        let names_the_school = params.iter().any(|p| NAMING.contains(&p.as_str()));
        if !names_the_school && example.is_none() {
            continue;
        }
        routes += 1;
        let body = example
            .or_else(|| (!media.is_null()).then(|| valid(&doc, resolve(&doc, &media["schema"]))));
        let probe = Probe {
            function: op["operationId"].as_str().unwrap_or_default().to_string(),
            method: method.parse().unwrap_or_else(|e| panic!("{method}: {e}")),
            path: params.iter().fold(template.clone(), |path, p| {
                path.replace(&format!("{{{p}}}"), &path_value(p))
            }),
            query: required_query(&doc, &item, &op),
            headers: Vec::new(),
            body: body.map(|b| b.to_string()),
            what: "an outsider".into(),
            expect: Expect::Status(404),
        };
        for who in outsiders(&params) {
            let (status, _, answer) = send_http(&app, who, &probe).await;
            let text = answer.to_string();
            let leaked: Vec<&String> = private.iter().filter(|t| text.contains(*t)).collect();
            if !matches!(status, 403 | 404) || !leaked.is_empty() {
                reached.push(format!(
                    "{method} {template} as {who}: {status}, names {leaked:?}: {text}"
                ));
            }
        }
    }
    assert!(routes >= 35, "only {routes} routes name the school");
    assert!(
        reached.is_empty(),
        "callers without a relation reached:\n{}",
        reached.join("\n")
    );
    let changed = diff(&before, &app.table.dump().await);
    assert!(
        changed.is_empty(),
        "callers without a relation changed what is stored:\n{}",
        changed.join("\n")
    );
}
