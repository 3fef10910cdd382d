//! F4 cursor pagination on every list of docs/openapi.yaml that takes
//! `limit` and `cursor`: as each caller it serves, walking the list one
//! item per page (following `nextCursor` until it is null) gives the same
//! items in the same order as one page of up to 100, and ends.

use super::bad_input::{callers, path_value};
use super::openapi::{document, filled_path, operations, parameters, query_string};
use super::outsiders::example;
use serde_json::{Value as Json, json};
use skolnav::demo;
use skolnav_tests::{Backend, TestApp};

on_both_stores!(walking_a_list_a_page_at_a_time_gives_the_whole_list_once);

/// Three of each: reports of pupil 1 (waiting for approval), blog posts to
/// 4A's guardians (and the notices they leave), news to the school; and
/// two rounds of four talk slots in 4A, one booked by pupil 2's guardian
/// (which pupil 1's guardian does not see).
async fn fill(app: &TestApp) {
    let doc = document();
    let talks = format!("/groups/{}/talks", demo::class(1));
    let made = app
        .post(
            demo::staff(demo::MENTOR_4A),
            &talks,
            example(&doc, "talk-create"),
        )
        .await;
    assert_eq!(made.status, 201, "POST {talks}: {}", made.json);
    let slot = made.json["slots"][1]["id"].clone();
    // A second round the day after, so the booking list has two pages.
    let mut later = example(&doc, "talk-create");
    later["days"][0]["date"] = json!("2026-12-03");
    let again = app.post(demo::staff(demo::MENTOR_4A), &talks, later).await;
    assert_eq!(again.status, 201, "POST {talks}: {}", again.json);
    let booked = app
        .post(
            demo::guardian(2),
            &format!("/pupils/{}/talk-bookings", demo::pupil(2)),
            json!({ "slotId": slot }),
        )
        .await;
    assert_eq!(booked.status, 201, "booking: {}", booked.json);
    for n in 0..3 {
        let mut report = example(&doc, "absence-report");
        report["firstDay"] = json!(format!("2026-11-{}", 24 + n));
        report["lastDay"] = report["firstDay"].clone();
        let mut post = example(&doc, "blog-publish");
        post["title"] = json!(format!("Veckobrev {n}"));
        let mut news = example(&doc, "news-publish");
        news["title"] = json!(format!("Nyhet {n}"));
        for (who, path, body) in [
            (
                demo::guardian(1),
                format!("/pupils/{}/absence-reports", demo::pupil(1)),
                report,
            ),
            (
                demo::staff(demo::MENTOR_4A),
                "/blog/posts".to_string(),
                post,
            ),
            (demo::staff(demo::PRINCIPAL), "/news".to_string(), news),
        ] {
            let made = app.post(who, &path, body).await;
            assert_eq!(made.status, 201, "POST {path}: {}", made.json);
        }
    }
    app.deliver_outbox().await;
}

async fn walking_a_list_a_page_at_a_time_gives_the_whole_list_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    fill(&app).await;
    let doc = document();
    let mut lists = 0;
    let mut walked = Vec::new();
    let mut wrong = Vec::new();
    for (method, template, item, op) in operations(&doc) {
        let params = parameters(&doc, &item, &op);
        let takes = |name: &str| {
            params
                .iter()
                .any(|p| p["in"].as_str() == Some("query") && p["name"].as_str() == Some(name))
        };
        if method != "GET" || !takes("limit") || !takes("cursor") {
            continue;
        }
        lists += 1;
        let path = filled_path(&doc, &template, &item, &op, path_value);
        for who in callers() {
            let whole = app.get(who, &format!("{path}?limit=100")).await;
            if whole.status != 200 {
                continue;
            }
            let all = whole.json["items"].as_array().cloned().unwrap_or_default();
            if !whole.json["nextCursor"].is_null() {
                wrong.push(format!("GET {template} as {who}: over 100 items"));
                continue;
            }
            let mut pages: Vec<Json> = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..=all.len() + 1 {
                let mut pairs = vec![("limit".to_string(), "1".to_string())];
                pairs.extend(cursor.iter().map(|c| ("cursor".to_string(), c.clone())));
                let query = query_string(&pairs);
                let page = app.get(who, &format!("{path}{query}")).await;
                if page.status != 200 {
                    wrong.push(format!(
                        "GET {template}{query} as {who}: {} {}",
                        page.status, page.json
                    ));
                    break;
                }
                let items = page.json["items"].as_array().cloned().unwrap_or_default();
                if items.len() > 1 {
                    wrong.push(format!(
                        "GET {template} as {who}: {} items on a page of 1",
                        items.len()
                    ));
                }
                pages.extend(items);
                cursor = page.json["nextCursor"].as_str().map(str::to_string);
                if cursor.is_none() {
                    break;
                }
            }
            if cursor.is_some() {
                wrong.push(format!("GET {template} as {who}: the cursors did not end"));
            }
            if pages != all {
                wrong.push(format!(
                    "GET {template} as {who}: {} items a page at a time, {} at once",
                    pages.len(),
                    all.len()
                ));
            }
            if all.len() > 1 {
                walked.push((template.clone(), who));
            }
        }
    }
    assert!(lists >= 7, "only {lists} lists take limit and cursor");
    assert!(
        walked.len() >= 6,
        "only {} lists of more than one item walked",
        walked.len()
    );
    let slots = "/groups/{groupId}/talks/slots";
    for who in [demo::staff(demo::MENTOR_4A), demo::guardian(1)] {
        assert!(
            walked.contains(&(slots.to_string(), who)),
            "{slots} not walked as {who}"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
