//! B1, B2, B5 end to end through the local server's HTTP surface, on the
//! embedded store and on DynamoDB Local.

use serde_json::{Value, json};
use skolnav::demo;
use skolnav_tests::{Backend, TestApp};

fn reports_path(pupil: u32) -> String {
    format!("/pupils/{}/absence-reports", demo::pupil(pupil))
}

fn approve_path(pupil: u32, report: &str) -> String {
    format!(
        "/pupils/{}/absence-reports/{report}/approve",
        demo::pupil(pupil)
    )
}

fn sick_day(day: &str) -> Value {
    json!({ "firstDay": day, "reason": "sick", "note": "Feber" })
}

async fn report(
    app: &TestApp,
    guardian: u32,
    pupil: u32,
    body: Value,
) -> skolnav_tests::TestResponse {
    app.post(demo::guardian(guardian), &reports_path(pupil), body)
        .await
}

async fn a_guardian_reports_a_sick_day_and_sees_it_pending(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = report(&app, 1, 1, sick_day("2026-11-23")).await;
    assert_eq!(res.status, 201, "{}", res.json);
    assert_eq!(res.json["status"], "pending");
    assert_eq!(res.json["reason"], "sick");
    assert_eq!(res.json["period"]["kind"], "wholeDays");
    assert_eq!(res.json["reportedBy"], demo::guardian(1).to_string());

    let list = app.get(demo::guardian(1), &reports_path(1)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list.json["items"][0]["id"], res.json["id"]);
}

async fn a_mentor_approves_and_the_guardian_gets_one_swedish_receipt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = report(&app, 1, 1, sick_day("2026-11-24")).await;
    let id = created.json["id"].as_str().expect("id").to_string();

    let pending = app
        .get(
            demo::staff(demo::MENTOR_4A),
            &format!("/schools/{}/absence-reports/pending", demo::school()),
        )
        .await;
    assert_eq!(pending.status, 200);
    assert_eq!(pending.json["count"], 1);

    let approved = app
        .post(
            demo::staff(demo::MENTOR_4A),
            &approve_path(1, &id),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.json);
    assert_eq!(approved.json["status"], "approved");
    assert_eq!(
        approved.json["approvedBy"],
        demo::staff(demo::MENTOR_4A).to_string()
    );

    let again = app
        .post(demo::staff(demo::ADMIN), &approve_path(1, &id), json!({}))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.json["approvedBy"],
        demo::staff(demo::MENTOR_4A).to_string(),
        "approving twice changes nothing"
    );

    assert_eq!(app.deliver_outbox().await, 1);
    assert_eq!(app.deliver_outbox().await, 0, "nothing left to send");
    let sent = app.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].to.starts_with("erik."),
        "to the reporting guardian: {}",
        sent[0].to
    );
    assert!(
        sent[0].subject.starts_with("Frånvaroanmälan godkänd"),
        "{}",
        sent[0].subject
    );
    assert!(sent[0].text.contains("2026-11-24"));

    let pending = app
        .get(
            demo::staff(demo::ADMIN),
            &format!("/schools/{}/absence-reports/pending", demo::school()),
        )
        .await;
    assert_eq!(
        pending.json["count"], 0,
        "approved reports leave the pending list"
    );
    let list = app.get(demo::guardian(1), &reports_path(1)).await;
    assert_eq!(
        list.json["items"][0]["status"], "approved",
        "the guardian sees the approval"
    );
}

async fn a_guardian_who_reads_english_gets_the_receipt_in_english(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = report(&app, 2, 2, sick_day("2026-11-25")).await;
    let id = created.json["id"].as_str().expect("id").to_string();
    let res = app
        .post(
            demo::staff(demo::MENTOR_4A),
            &approve_path(2, &id),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 200);
    app.deliver_outbox().await;
    let sent = app.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].subject.starts_with("Absence report approved"),
        "{}",
        sent[0].subject
    );
}

async fn an_overlapping_report_is_a_conflict_naming_the_existing_report(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = report(
        &app,
        1,
        1,
        json!({ "firstDay": "2026-11-23", "lastDay": "2026-11-25", "reason": "sick" }),
    )
    .await;
    assert_eq!(first.status, 201);
    // Another family reporting the same day is not affected.
    let second = app
        .post(demo::guardian(2), &reports_path(2), sick_day("2026-11-23"))
        .await;
    assert_eq!(second.status, 201, "another child is not affected");
    let overlap = report(
        &app,
        1,
        1,
        json!({ "day": "2026-11-24", "fromTime": "08:00", "toTime": "10:00", "reason": "other" }),
    )
    .await;
    assert_eq!(overlap.status, 409, "{}", overlap.json);
    assert_eq!(overlap.content_type, "application/problem+json");
    assert_eq!(overlap.json["existingReportId"], first.json["id"]);
    let list = app.get(demo::guardian(1), &reports_path(1)).await;
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(1));
}

async fn parts_of_one_day_that_do_not_overlap_are_both_kept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let part = |from: &str, to: &str| json!({ "day": "2026-11-26", "fromTime": from, "toTime": to, "reason": "other", "note": "Tandläkare" });
    assert_eq!(report(&app, 1, 1, part("08:00", "10:00")).await.status, 201);
    assert_eq!(report(&app, 1, 1, part("10:00", "12:00")).await.status, 201);
    assert_eq!(report(&app, 1, 1, part("11:30", "13:00")).await.status, 409);
    assert_eq!(report(&app, 1, 1, sick_day("2026-11-26")).await.status, 409);
}

async fn reports_outside_today_to_thirty_days_ahead_are_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let late = report(
        &app,
        1,
        1,
        json!({ "firstDay": "2026-12-20", "lastDay": "2026-12-24", "reason": "other" }),
    )
    .await;
    assert_eq!(late.status, 422, "{}", late.json);
    assert_eq!(late.json["invalidParams"][0]["name"], "lastDay");
    let past = report(&app, 1, 1, sick_day("2026-11-20")).await;
    assert_eq!(past.status, 422);
    assert_eq!(past.json["invalidParams"][0]["name"], "firstDay");
    let edge = report(&app, 1, 1, sick_day("2026-12-23")).await;
    assert_eq!(
        edge.status, 201,
        "exactly 30 days ahead is allowed: {}",
        edge.json
    );
}

async fn bad_input_is_a_400_naming_the_field_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases: Vec<(String, &str)> = vec![
        (json!({ "firstDay": "2026-13-01", "reason": "sick" }).to_string(), "firstDay"),
        (json!({ "firstDay": "2026-11-25", "lastDay": "2026-11-24", "reason": "sick" }).to_string(), "lastDay"),
        (json!({ "firstDay": "2026-11-25", "reason": "bored" }).to_string(), "reason"),
        (json!({ "firstDay": "2026-11-25" }).to_string(), "reason"),
        (json!({ "reason": "sick" }).to_string(), "firstDay"),
        (json!({ "day": "2026-11-25", "fromTime": "10:00", "toTime": "09:00", "reason": "sick" }).to_string(), "toTime"),
        (json!({ "day": "2026-11-25", "fromTime": "25:00", "toTime": "26:00", "reason": "sick" }).to_string(), "fromTime"),
        (json!({ "day": "2026-11-25", "reason": "sick" }).to_string(), "fromTime"),
        (json!({ "firstDay": "2026-11-25", "reason": "sick", "status": "approved" }).to_string(), "status"),
        (json!({ "firstDay": "2026-11-25", "reason": "sick", "note": "x".repeat(501) }).to_string(), "note"),
        ("{\"firstDay\": \"2026-11-25\", ".to_string(), "body"),
        ("".to_string(), "body"),
        ("[1, 2]".to_string(), "body"),
        (
            "{\"firstDay\": \"2026-11-25\", \"reason\": \"sick\"} trailing".to_string(),
            "body",
        ),
    ];
    for (body, field) in cases {
        let res = app
            .post_raw(demo::guardian(1), &reports_path(1), body.clone(), None)
            .await;
        assert_eq!(res.status, 400, "{body}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(
            res.json["type"],
            "https://skolnav.se/problems/invalid-input"
        );
        let named = res.json["invalidParams"][0]["name"]
            .as_str()
            .unwrap_or_default();
        assert!(
            named.starts_with(field),
            "{body}: named {named}, expected {field}"
        );
    }
    let huge = app
        .post_raw(
            demo::guardian(1),
            &reports_path(1),
            "x".repeat(70_000),
            None,
        )
        .await;
    assert_eq!(huge.status, 413);
    assert_eq!(huge.json["invalidParams"][0]["name"], "body");
    let bad_id = app
        .post(
            demo::guardian(1),
            "/pupils/not-an-id/absence-reports",
            sick_day("2026-11-25"),
        )
        .await;
    assert_eq!(bad_id.status, 400);
    assert_eq!(bad_id.json["invalidParams"][0]["name"], "pupilId");

    let list = app.get(demo::guardian(1), &reports_path(1)).await;
    assert_eq!(list.json["items"], json!([]), "nothing was written");
}

async fn a_school_that_auto_approves_approves_on_arrival_and_sends_the_receipt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut school = skolnav::directory::school(app.store.as_ref(), demo::school())
        .await
        .expect("read")
        .expect("school");
    school.settings.auto_approve_absence = true;
    app.store
        .put(
            &skolnav::directory::school_item(&school).expect("item"),
            skolnav::store::Condition::None,
        )
        .await
        .expect("put");
    let res = report(&app, 1, 1, sick_day("2026-11-23")).await;
    assert_eq!(res.status, 201);
    assert_eq!(res.json["status"], "approved");
    assert_eq!(app.deliver_outbox().await, 1);
    let pending = app
        .get(
            demo::staff(demo::ADMIN),
            &format!("/schools/{}/absence-reports/pending", demo::school()),
        )
        .await;
    assert_eq!(pending.json["count"], 0);
}

async fn staff_see_who_is_reported_absent_today(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    report(&app, 1, 1, sick_day("2026-11-23")).await;
    report(&app, 21, 21, sick_day("2026-11-24")).await;
    report(
        &app,
        3,
        3,
        json!({ "day": "2026-11-23", "fromTime": "13:00", "toTime": "15:00", "reason": "other" }),
    )
    .await;
    let path = format!("/schools/{}/absence-today", demo::school());
    let today = app.get(demo::staff(demo::SUBJECT_TEACHER), &path).await;
    assert_eq!(today.status, 200, "{}", today.json);
    assert_eq!(today.json["date"], "2026-11-23");
    assert_eq!(today.json["count"], 2, "tomorrow's report is not today's");
    let pupils: Vec<&str> = today.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["pupilId"].as_str())
        .collect();
    assert!(pupils.contains(&demo::pupil(1).to_string().as_str()));
    assert!(pupils.contains(&demo::pupil(3).to_string().as_str()));
    let part = today.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["pupilId"] == demo::pupil(3).to_string())
        .expect("pupil 3");
    assert_eq!(part["entries"][0]["from"], "13:00:00");
    // The other school's admin does not see this school.
    let other = app.get(demo::staff(demo::OTHER_SCHOOL_ADMIN), &path).await;
    assert_eq!(other.status, 404);
}

async fn a_retry_with_the_same_idempotency_key_gets_the_first_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = sick_day("2026-11-27").to_string();
    let first = app
        .post_raw(
            demo::guardian(1),
            &reports_path(1),
            body.clone(),
            Some("key-1"),
        )
        .await;
    assert_eq!(first.status, 201);
    let retry = app
        .post_raw(
            demo::guardian(1),
            &reports_path(1),
            body.clone(),
            Some("key-1"),
        )
        .await;
    assert_eq!(retry.status, 201, "{}", retry.json);
    assert_eq!(retry.json, first.json);
    assert_eq!(
        retry
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let reused = app
        .post_raw(
            demo::guardian(1),
            &reports_path(1),
            sick_day("2026-11-30").to_string(),
            Some("key-1"),
        )
        .await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.json["invalidParams"][0]["name"], "Idempotency-Key");
    // Another guardian's key of the same text is their own.
    let other = app
        .post_raw(demo::guardian(51), &reports_path(2), body, Some("key-1"))
        .await;
    assert_eq!(other.status, 201, "{}", other.json);
    let list = app.get(demo::guardian(1), &reports_path(1)).await;
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(1));
}

async fn an_idempotency_key_is_forgotten_after_a_day(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .post_raw(
            demo::guardian(1),
            &reports_path(1),
            sick_day("2026-11-27").to_string(),
            Some("daily-key"),
        )
        .await;
    assert_eq!(first.status, 201);
    app.clock
        .set(skolnav_tests::school_morning() + chrono::Duration::hours(25));
    // DynamoDB's TTL deletes lazily; an expired record must not answer.
    let next_day = app
        .post_raw(
            demo::guardian(1),
            &reports_path(1),
            sick_day("2026-11-30").to_string(),
            Some("daily-key"),
        )
        .await;
    assert_eq!(next_day.status, 201, "{}", next_day.json);
    assert_ne!(next_day.json["id"], first.json["id"]);
}

async fn a_retried_approval_with_its_key_sends_one_receipt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = report(&app, 1, 1, sick_day("2026-11-24")).await;
    let id = created.json["id"].as_str().expect("id").to_string();
    for _ in 0..3 {
        let res = app
            .post_raw(
                demo::staff(demo::MENTOR_4A),
                &approve_path(1, &id),
                "{}".into(),
                Some("approve-once"),
            )
            .await;
        assert_eq!(res.status, 200);
    }
    assert_eq!(app.deliver_outbox().await, 1);
    assert_eq!(app.mailer.sent().len(), 1);
}

async fn a_mailer_that_fails_twice_then_succeeds_sends_exactly_one_mail(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = report(&app, 1, 1, sick_day("2026-11-24")).await;
    let id = created.json["id"].as_str().expect("id").to_string();
    app.post(demo::staff(demo::ADMIN), &approve_path(1, &id), json!({}))
        .await;
    app.mailer.fail_next(2);
    assert_eq!(app.deliver_outbox().await, 0);
    assert_eq!(app.deliver_outbox().await, 0);
    assert_eq!(app.deliver_outbox().await, 1);
    assert_eq!(app.deliver_outbox().await, 0);
    assert_eq!(app.mailer.sent().len(), 1);
}

async fn a_mail_that_keeps_failing_is_set_aside_after_five_attempts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = report(&app, 1, 1, sick_day("2026-11-24")).await;
    let id = created.json["id"].as_str().expect("id").to_string();
    app.post(demo::staff(demo::ADMIN), &approve_path(1, &id), json!({}))
        .await;
    app.mailer.fail_next(1000);
    for _ in 0..skolnav::outbox::MAX_ATTEMPTS + 3 {
        app.deliver_outbox().await;
    }
    let pending = skolnav::outbox::pending(app.store.as_ref(), 10)
        .await
        .expect("pending");
    assert!(pending.is_empty(), "a failed item leaves the pending index");
    app.mailer.fail_next(0);
    assert_eq!(app.deliver_outbox().await, 0);
    assert!(app.mailer.sent().is_empty());
}

async fn concurrent_overlapping_reports_land_exactly_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut tasks = Vec::new();
    for n in 0..8 {
        // Both guardians of pupil 2 press at once, several times each.
        let guardian = if n % 2 == 0 { 2 } else { 51 };
        let app_base = app.base.clone();
        let token = app.token(demo::guardian(guardian));
        let http = app.http.clone();
        tasks.push(tokio::spawn(async move {
            http.post(format!("{app_base}{}", reports_path(2)))
                .bearer_auth(token)
                .json(
                    &json!({ "firstDay": "2026-11-25", "lastDay": "2026-11-27", "reason": "sick" }),
                )
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap_or(0));
    }
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let list = app.get(demo::guardian(2), &reports_path(2)).await;
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(1));
}

async fn the_report_list_pages_with_a_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for day in [
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
        "2026-11-27",
    ] {
        assert_eq!(report(&app, 1, 1, sick_day(day)).await.status, 201);
    }
    let seen = first_days(&walk(&app, demo::guardian(1), &reports_path(1), 2).await);
    assert_eq!(
        seen,
        [
            "2026-11-27",
            "2026-11-26",
            "2026-11-25",
            "2026-11-24",
            "2026-11-23"
        ],
        "newest first, each once"
    );
    let bad = app
        .get(demo::guardian(1), &format!("{}?limit=0", reports_path(1)))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["invalidParams"][0]["name"], "limit");
}

/// Walks a list of reports at `path` `limit` at a time as `who`,
/// following `nextCursor` until it is null: the items of each page. Where
/// the answer has a `count`, it is the page's.
async fn walk(
    app: &TestApp,
    who: skolnav::ids::PersonId,
    path: &str,
    limit: u32,
) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut query = format!("?limit={limit}");
    for _ in 0..20 {
        let page = app.get(who, &format!("{path}{query}")).await;
        assert_eq!(page.status, 200, "{}", page.json);
        let items = page.json["items"].as_array().expect("items").clone();
        if let Some(count) = page.json.get("count") {
            assert_eq!(count, items.len(), "count is the page's");
        }
        assert!(items.len() <= limit as usize, "{} on a page", items.len());
        pages.push(items);
        match page.json["nextCursor"].as_str() {
            Some(c) => query = format!("?limit={limit}&cursor={c}"),
            None => {
                assert!(page.json["nextCursor"].is_null(), "{}", page.json);
                return pages;
            }
        }
    }
    panic!("the cursors of {path} did not end");
}

/// The first day of each report of the pages, in order.
fn first_days(pages: &[Vec<Value>]) -> Vec<String> {
    pages
        .iter()
        .flatten()
        .map(|item| {
            item["period"]["firstDay"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

async fn the_pending_list_is_a_page_at_a_time_the_oldest_first_day_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Pupils 1 and 2 are in 4A, pupil 21 in 4B.
    for (pupil, day) in [
        (1, "2026-11-26"),
        (21, "2026-11-25"),
        (2, "2026-11-24"),
        (21, "2026-11-23"),
        (1, "2026-11-27"),
    ] {
        assert_eq!(report(&app, pupil, pupil, sick_day(day)).await.status, 201);
    }

    let pending = format!("/schools/{}/absence-reports/pending", demo::school());
    let all_pending =
        |pages: &[Vec<Value>]| pages.iter().flatten().all(|r| r["status"] == "pending");
    let pages = walk(&app, demo::staff(demo::ADMIN), &pending, 2).await;
    assert!(all_pending(&pages), "{pages:?}");
    assert_eq!(
        first_days(&pages),
        [
            "2026-11-23",
            "2026-11-24",
            "2026-11-25",
            "2026-11-26",
            "2026-11-27"
        ],
        "the whole school, oldest first day first, each once"
    );
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);

    let pages = walk(&app, demo::staff(demo::MENTOR_4A), &pending, 2).await;
    assert!(all_pending(&pages), "{pages:?}");
    assert_eq!(
        first_days(&pages),
        ["2026-11-24", "2026-11-26", "2026-11-27"],
        "a mentor walks their own group's reports only"
    );
    let pages = walk(&app, demo::staff(demo::MENTOR_4B), &pending, 1).await;
    assert!(all_pending(&pages), "{pages:?}");
    assert_eq!(first_days(&pages), ["2026-11-23", "2026-11-25"]);

    let first = app.get(demo::staff(demo::ADMIN), &pending).await;
    assert_eq!(first.json["count"], 5, "50 a page without a limit");
    assert!(first.json["nextCursor"].is_null());

    for bad in ["limit=0", "limit=101", "limit=abc", "cursor=ab=="] {
        let res = app
            .get(demo::staff(demo::ADMIN), &format!("{pending}?{bad}"))
            .await;
        assert_eq!(res.status, 400, "{bad}: {}", res.json);
        let field = bad.split('=').next().unwrap_or_default();
        assert_eq!(res.json["invalidParams"][0]["name"], field, "{bad}");
    }
}

on_both_stores!(
    a_guardian_reports_a_sick_day_and_sees_it_pending,
    a_mentor_approves_and_the_guardian_gets_one_swedish_receipt,
    a_guardian_who_reads_english_gets_the_receipt_in_english,
    an_overlapping_report_is_a_conflict_naming_the_existing_report,
    parts_of_one_day_that_do_not_overlap_are_both_kept,
    reports_outside_today_to_thirty_days_ahead_are_refused_naming_the_field,
    bad_input_is_a_400_naming_the_field_and_writes_nothing,
    a_school_that_auto_approves_approves_on_arrival_and_sends_the_receipt,
    staff_see_who_is_reported_absent_today,
    a_retry_with_the_same_idempotency_key_gets_the_first_answer,
    a_retried_approval_with_its_key_sends_one_receipt,
    an_idempotency_key_is_forgotten_after_a_day,
    a_mailer_that_fails_twice_then_succeeds_sends_exactly_one_mail,
    a_mail_that_keeps_failing_is_set_aside_after_five_attempts,
    concurrent_overlapping_reports_land_exactly_once,
    the_report_list_pages_with_a_cursor,
    the_pending_list_is_a_page_at_a_time_the_oldest_first_day_first,
);
