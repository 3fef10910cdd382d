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

use super::bad_input::{Request, diff, path_value, person_texts, send_http};
use super::openapi::{
    document, filled_path, operations, parameters, request_example, required_query, valid_body,
};
use serde_json::{Value as Json, json};
use serde_yaml_ng::Value as Yaml;
use skolnav::demo;
use skolnav::ids::PersonId;
use skolnav_tests::{Backend, TestApp, TestResponse, school_morning};
use std::collections::HashMap;

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

/// The first example of an operation's request body.
pub(crate) fn example(doc: &Yaml, operation: &str) -> Json {
    operations(doc)
        .into_iter()
        .find(|(_, _, _, op)| op["operationId"].as_str() == Some(operation))
        .and_then(|(_, _, _, op)| request_example(&op))
        .unwrap_or_else(|| panic!("{operation} has no example"))
}

/// A path parameter's value: the object made for it, or [`path_value`].
pub(crate) fn id_of(objects: &HashMap<&'static str, String>, param: &str) -> String {
    objects
        .get(param)
        .cloned()
        .unwrap_or_else(|| path_value(param))
}

pub(crate) fn id_in(answer: &TestResponse, pointer: &str) -> String {
    answer
        .json
        .pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {} {}", answer.status, answer.json))
        .to_string()
}

/// Real objects of pupil 1, class 4A and their school, made by those who
/// may (the documented examples, as guardian 1, 4A's mentor and the
/// organisation's admin), for the path parameters that name objects: an
/// outsider must be refused them as they exist, not only as unknown ids,
/// and a POST acts on them (retries.rs). The report and the talk times
/// are on other days than the examples', which a test may send again;
/// `slotId` is open, a classmate booked the round's first slot.
pub(crate) async fn objects(app: &TestApp, doc: &Yaml) -> HashMap<&'static str, String> {
    let guardian = demo::guardian(1);
    let mentor = demo::staff(demo::MENTOR_4A);
    let pupil = demo::pupil(1);
    let class = demo::class(1);
    let day = school_morning().date_naive();
    demo::seed_lessons(app.store.as_ref(), day)
        .await
        .unwrap_or_else(|e| panic!("the day's lessons: {e}"));
    let lesson = demo::lessons(day)
        .into_iter()
        .find(|l| l.group_ids.contains(&class))
        .unwrap_or_else(|| panic!("no lesson of 4A on {day}"));
    let report = app
        .post(
            guardian,
            &format!("/pupils/{pupil}/absence-reports"),
            json!({ "firstDay": "2026-11-30", "reason": "sick" }),
        )
        .await;
    let post = app
        .post(mentor, "/blog/posts", example(doc, "blog-publish"))
        .await;
    let mut times = example(doc, "talk-create");
    times["days"][0]["date"] = json!("2026-12-09");
    times["bookingDeadline"] = json!("2026-12-07");
    let talks = app
        .post(mentor, &format!("/groups/{class}/talks"), times)
        .await;
    let booked = app
        .post(
            demo::guardian(2),
            &format!("/pupils/{}/talk-bookings", demo::pupil(2)),
            json!({ "slotId": id_in(&talks, "/slots/0/id") }),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.json);
    let run = app
        .post(
            demo::staff(demo::ORGANISATION_ADMIN),
            &format!("/organisations/{}/imports", demo::organisation()),
            json!({ "dryRun": true }),
        )
        .await;
    let author = skolnav::directory::person_record(app.store.as_ref(), mentor)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("the mentor's record"));
    let file = skolnav_tests::uploaded_pdf(
        app.store.as_ref(),
        &app.files,
        app.clock.as_ref(),
        &author,
        "veckobrev.pdf",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    app.deliver_outbox().await;
    let notices = app.get(guardian, "/me/notices").await;
    HashMap::from([
        ("reportId", id_in(&report, "/id")),
        ("postId", id_in(&post, "/post/id")),
        ("roundId", id_in(&talks, "/round/id")),
        ("slotId", id_in(&talks, "/slots/1/id")),
        ("lessonId", lesson.id.to_string()),
        ("runId", id_in(&run, "/runId")),
        ("fileId", file.to_string()),
        ("noticeId", id_in(&notices, "/items/0/id")),
    ])
}

async fn no_one_without_a_relation_reaches_what_a_route_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = document();
    let objects = objects(&app, &doc).await;
    let before = app.table.dump().await;
    let mut schemas = super::answers::Schemas::new(&doc);
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
        let names_the_school = params
            .iter()
            .any(|p| NAMING.contains(&p.as_str()) || objects.contains_key(p.as_str()));
        if !names_the_school && request_example(&op).is_none() {
            continue;
        }
        routes += 1;
        let body = valid_body(&doc, &op);
        let request = Request {
            function: op["operationId"].as_str().unwrap_or_default().to_string(),
            method: method.parse().unwrap_or_else(|e| panic!("{method}: {e}")),
            path: filled_path(&doc, &template, &item, &op, |p| id_of(&objects, p)),
            query: required_query(&doc, &item, &op),
            headers: Vec::new(),
            body: body.map(|b| b.to_string()),
        };
        for who in outsiders(&params) {
            let TestResponse {
                status,
                content_type,
                json: answer,
                ..
            } = send_http(&app, who, &request).await;
            if let Err(e) = schemas.as_documented(&request.function, status, &content_type, &answer)
            {
                reached.push(format!("{method} {template} as {who}: {e}"));
            }
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
