//! Each sample event in events/ (the ones `cargo lambda invoke
//! --data-file` uses) is fed to its function's handler, as Lambda would.

use skolnav::api::Ctx;
use skolnav::clock::Clock;
use skolnav::demo;
use skolnav::ids::{OutboxId, PersonId, ReportId};
use skolnav::outbox::{self, Notice};
use skolnav::store::{Condition, Store};
use skolnav_tests::{RecordingMailer, school_morning, sqlite_store};
use std::sync::Arc;

fn event_text(function: &str) -> String {
    skolnav_tests::sample_event(function)
}

struct Harness {
    ctx: Ctx,
    issuer: skolnav::devkeys::DevIssuer,
}

async fn harness() -> Harness {
    let store = Arc::new(sqlite_store());
    demo::seed(store.as_ref()).await.expect("seed");
    let (ctx, issuer) = skolnav_tests::lambda_ctx(
        store,
        Arc::new(skolnav::clock::FixedClock::at(school_morning())),
        Arc::new(skolnav::files::FolderFiles::new(
            std::env::temp_dir().join(format!("skolnav-events-{}", ulid::Ulid::generate())),
            "http://unused.invalid",
        )),
    );
    Harness { ctx, issuer }
}

async fn invoke(
    h: &Harness,
    function: &str,
    who: PersonId,
    text: &str,
) -> (u16, serde_json::Value) {
    skolnav_tests::invoke_event(&h.ctx, &h.issuer, function, who, text).await
}

#[tokio::test]
async fn every_http_sample_event_is_served_by_its_function() {
    let h = harness().await;
    let guardian = demo::guardian(1);
    let mentor = demo::staff(demo::MENTOR_4A);

    let (status, created) = invoke(
        &h,
        "absence-report",
        guardian,
        &event_text("absence-report"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let report_id = created["id"].as_str().expect("id").to_string();

    let approve = event_text("absence-approve").replace("01JD0000000000000000000R01", &report_id);
    let cases = [
        ("directory-me", guardian, event_text("directory-me"), 200),
        (
            "preferences-get",
            guardian,
            event_text("preferences-get"),
            200,
        ),
        (
            "preferences-put",
            guardian,
            event_text("preferences-put"),
            200,
        ),
        ("absence-list", guardian, event_text("absence-list"), 200),
        (
            "absence-pending",
            mentor,
            event_text("absence-pending"),
            200,
        ),
        ("absence-today", mentor, event_text("absence-today"), 200),
        ("absence-approve", mentor, approve, 200),
        (
            "calendar-create",
            mentor,
            event_text("calendar-create"),
            201,
        ),
        (
            "calendar-group",
            guardian,
            event_text("calendar-group"),
            200,
        ),
        (
            "calendar-school",
            guardian,
            event_text("calendar-school"),
            200,
        ),
        (
            "news-publish",
            demo::staff(demo::PRINCIPAL),
            event_text("news-publish"),
            201,
        ),
        ("news-school", guardian, event_text("news-school"), 200),
        (
            "calendar-feed-revoke",
            guardian,
            event_text("calendar-feed-revoke"),
            404,
        ),
        ("news-group", guardian, event_text("news-group"), 200),
        ("me-feed", guardian, event_text("me-feed"), 200),
        (
            "notices-unread",
            guardian,
            event_text("notices-unread"),
            200,
        ),
        (
            "notices-unread-count",
            guardian,
            event_text("notices-unread-count"),
            200,
        ),
        (
            "school-settings-get",
            demo::staff(demo::PRINCIPAL),
            event_text("school-settings-get"),
            200,
        ),
        (
            "school-settings-put",
            demo::staff(demo::PRINCIPAL),
            event_text("school-settings-put"),
            200,
        ),
        (
            "sms-credit-get",
            demo::staff(demo::ADMIN),
            event_text("sms-credit-get"),
            200,
        ),
        (
            "sms-credit-add",
            demo::staff(demo::ORGANISATION_ADMIN),
            event_text("sms-credit-add"),
            200,
        ),
    ];
    for (function, who, text, want) in cases {
        let (status, body) = invoke(&h, function, who, &text).await;
        assert_eq!(status, want, "{function}: {body}");
    }
    // A file: asked for through its sample event, then its download URL
    // by its owner (the folder adapter signs without the bytes).
    let (status, granted) = invoke(&h, "files-upload", mentor, &event_text("files-upload")).await;
    assert_eq!(status, 201, "{granted}");
    let file_id = granted["fileId"].as_str().expect("fileId").to_string();
    let download = event_text("files-download").replace("01JD0000000000000000000F01", &file_id);
    let (status, body) = invoke(&h, "files-download", mentor, &download).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["url"]
            .as_str()
            .is_some_and(|u| u.contains("/local-files/files/")),
        "{body}"
    );
    let (status, body) = invoke(&h, "files-download", guardian, &download).await;
    assert_eq!(
        status, 404,
        "an unattached file is its owner's alone: {body}"
    );
    // The feed: made through its sample event, then fetched with the
    // token in the path and no Authorization header.
    let (status, made) = invoke(
        &h,
        "calendar-feed-create",
        guardian,
        &event_text("calendar-feed-create"),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let token = made["path"]
        .as_str()
        .and_then(|p| p.strip_prefix("/calendar/feeds/"))
        .expect("path")
        .to_string();
    let text = event_text("calendar-feed").replace("REPLACED-BY-FEED-TOKEN", &token);
    let req = lambda_http::request::from_str(&text).expect("events/calendar-feed.json");
    let res =
        skolnav::lambda::handle(&h.ctx, skolnav::api::routes::calendar_feed::ROUTES, req).await;
    assert_eq!(res.status().as_u16(), 200);
    // A function serves only its own routes.
    let (status, _) = invoke(&h, "absence-list", guardian, &event_text("absence-report")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_lesson_sample_events_read_a_teachers_and_a_groups_day_and_register_attendance() {
    let h = harness().await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    demo::seed_lessons(h.ctx.store.as_ref(), day)
        .await
        .expect("lessons");
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    let (status, body) = invoke(
        &h,
        "lessons-teacher-day",
        teacher,
        &event_text("lessons-teacher-day"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2), "{body}");
    let (status, body) = invoke(
        &h,
        "lessons-group-day",
        demo::guardian(1),
        &event_text("lessons-group-day"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(3), "{body}");
    let (status, body) = invoke(
        &h,
        "attendance-register",
        demo::staff(demo::MENTOR_4A),
        &event_text("attendance-register"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["absences"][1]["minutes"], 10, "{body}");
    let (status, body) = invoke(
        &h,
        "attendance-get",
        demo::staff(demo::MENTOR_4A),
        &event_text("attendance-get"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["registration"]["absences"][1]["minutes"], 10, "{body}");
}

#[tokio::test]
async fn the_alert_stream_sample_event_alerts_the_pupils_guardians_once() {
    let h = harness().await;
    let text = event_text("absence-alerts");
    let event = || {
        serde_json::from_str(&text).expect("events/absence-alerts.json is a DynamoDB stream event")
    };
    let id = OutboxId::parse("01JD0000000000000000000X02").expect("id");
    let lesson = skolnav::alerts::AlertLesson {
        lesson_id: skolnav::ids::LessonId::parse("01JD0000000000000000000V01").expect("id"),
        title: "Svenska 4A".into(),
        start: chrono::DateTime::parse_from_rfc3339("2026-11-23T08:15:00+01:00").expect("time"),
    };
    let clock = skolnav::clock::FixedClock::at(school_morning());
    let Some(skolnav::store::Write::Put(item, _)) =
        skolnav::alerts::request(id, &clock, demo::school(), lesson, vec![demo::pupil(3)])
            .expect("request")
    else {
        panic!("a request for one pupil");
    };
    let store: &dyn Store = h.ctx.store.as_ref();
    store
        .put(&item, Condition::MustNotExist)
        .await
        .expect("put");

    let mailer = RecordingMailer::default();
    let sms = skolnav_tests::RecordingSms::default();
    let answer = skolnav::lambda::deliver_alert_stream(store, &mailer, &sms, &clock, event()).await;
    assert!(answer.batch_item_failures.is_empty());
    // The request wrote the pupil's alert of the day; in the cloud that is
    // the next stream record.
    let alert = OutboxId::of_pupil_day(demo::pupil(3), clock.today());
    skolnav::alerts::deliver(store, &mailer, &sms, clock.now(), alert)
        .await
        .expect("delivered");
    let replay = skolnav::lambda::deliver_alert_stream(store, &mailer, &sms, &clock, event()).await;
    assert!(replay.batch_item_failures.is_empty());
    assert_eq!(sms.sent().len(), 1, "{:?}", sms.sent());
    assert_eq!(mailer.sent().len(), 1);
}

#[tokio::test]
async fn the_report_sample_events_read_absence_over_a_week() {
    let h = harness().await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    demo::seed_lessons(h.ctx.store.as_ref(), day)
        .await
        .expect("lessons");
    // At 08:00 on Monday no lesson has begun yet: the reports are empty,
    // and each function answers its own sample.
    let mentor = demo::staff(demo::MENTOR_4A);
    for (function, who) in [
        ("absence-group-days", mentor),
        ("absence-group-report", mentor),
        ("absence-pupil-report", demo::guardian(1)),
        ("lessons-school-unreported", demo::staff(demo::PRINCIPAL)),
    ] {
        let (status, body) = invoke(&h, function, who, &event_text(function)).await;
        assert_eq!(status, 200, "{function}: {body}");
        assert_eq!(body["from"], "2026-11-23", "{function}: {body}");
    }
    let (_, report) = invoke(
        &h,
        "absence-group-report",
        mentor,
        &event_text("absence-group-report"),
    )
    .await;
    assert_eq!(report["pupils"].as_array().map(Vec::len), Some(20));
}

#[tokio::test]
async fn the_talk_sample_events_create_book_move_list_cancel_and_remove() {
    let h = harness().await;
    let guardian = demo::guardian(1);
    let mentor = demo::staff(demo::MENTOR_4A);
    let (status, created) = invoke(&h, "talk-create", mentor, &event_text("talk-create")).await;
    assert_eq!(status, 201, "{created}");
    let round = created["round"]["id"].as_str().expect("round").to_string();
    let slot = |i: usize| {
        created["slots"][i]["id"]
            .as_str()
            .expect("slot")
            .to_string()
    };
    let with = |function: &str, slot: String| {
        event_text(function)
            .replace("01JD0000000000000000000Q01", &slot)
            .replace("01JD0000000000000000000N01", &round)
    };
    let cases = [
        ("talk-book", guardian, with("talk-book", slot(0)), 201),
        ("talk-slots", guardian, event_text("talk-slots"), 200),
        ("talk-bookings", mentor, event_text("talk-bookings"), 200),
        ("talk-move", guardian, with("talk-move", slot(1)), 200),
        ("talk-cancel", guardian, with("talk-cancel", slot(1)), 200),
        (
            "talk-slot-remove",
            mentor,
            with("talk-slot-remove", slot(2)),
            200,
        ),
    ];
    for (function, who, text, want) in cases {
        let (status, body) = invoke(&h, function, who, &text).await;
        assert_eq!(status, want, "{function}: {body}");
    }
}

#[tokio::test]
async fn the_reminder_schedule_event_writes_tomorrows_reminders() {
    let h = harness().await;
    let event: serde_json::Value = serde_json::from_str(&event_text("reminders-daily"))
        .expect("events/reminders-daily.json is JSON");
    let store: &dyn Store = h.ctx.store.as_ref();
    let answer = skolnav::lambda::reminders_event(store, h.ctx.clock.as_ref(), event)
        .await
        .expect("the scheduled run succeeds");
    assert_eq!(answer["day"], "2026-11-24", "{answer}");
    assert_eq!(answer["sent"], 0);
}

#[tokio::test]
async fn the_stream_sample_event_delivers_its_outbox_item_once() {
    let h = harness().await;
    let text = event_text("notifications-deliver");
    let id = OutboxId::parse("01JD0000000000000000000X01").expect("id");
    let first_day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    let item = outbox::message_item(
        id,
        demo::guardian(1),
        Notice::AbsenceApproved {
            report_id: ReportId::generate(),
            pupil_name: "Alva Persson".into(),
            period: skolnav::absence::Period::WholeDays {
                first_day,
                last_day: first_day,
            },
            reason: skolnav::absence::Reason::Sick,
        },
        school_morning(),
    )
    .expect("item");
    h.ctx
        .store
        .put(&item, Condition::MustNotExist)
        .await
        .expect("put");

    let event = || {
        serde_json::from_str(&text)
            .expect("events/notifications-deliver.json is a DynamoDB stream event")
    };
    let mailer = RecordingMailer::default();
    mailer.fail_next(1);
    let clock = skolnav::clock::FixedClock::at(school_morning());
    let store: &dyn Store = h.ctx.store.as_ref();

    let failed = skolnav::lambda::deliver_stream(store, &mailer, &clock, event()).await;
    assert_eq!(
        failed.batch_item_failures.len(),
        1,
        "a failed send is reported for retry"
    );
    assert!(failed.batch_item_failures[0].item_identifier.is_some());

    let retried = skolnav::lambda::deliver_stream(store, &mailer, &clock, event()).await;
    assert!(retried.batch_item_failures.is_empty());
    let replayed = skolnav::lambda::deliver_stream(store, &mailer, &clock, event()).await;
    assert!(replayed.batch_item_failures.is_empty());
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1, "a replayed record sends nothing more");
    assert!(sent[0].subject.contains("Alva Persson"));
}

#[tokio::test]
async fn the_import_sample_events_request_a_run_and_read_its_record() {
    let h = harness().await;
    let admin = demo::staff(demo::ORGANISATION_ADMIN);
    let (status, requested) =
        invoke(&h, "import-request", admin, &event_text("import-request")).await;
    assert_eq!(status, 202, "{requested}");
    assert_eq!(requested["status"], "requested");
    assert_eq!(requested["dryRun"], true);
    let run_id = requested["runId"].as_str().expect("runId").to_string();

    let (status, list) = invoke(&h, "import-runs", admin, &event_text("import-runs")).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["runs"][0]["runId"], run_id.as_str());

    let one = event_text("import-run").replace("01JD0000000000000000000I01", &run_id);
    let (status, record) = invoke(&h, "import-run", admin, &one).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["runId"], run_id.as_str());

    // Staff of a school may know imports exist but not start or read them;
    // a guardian does not learn that the organisation exists.
    let (status, _) = invoke(
        &h,
        "import-runs",
        demo::staff(demo::PRINCIPAL),
        &event_text("import-runs"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = invoke(
        &h,
        "import-request",
        demo::guardian(1),
        &event_text("import-request"),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_schedule_sample_event_runs_the_import_and_a_stream_request_runs_it_dry() {
    use skolnav::import::request::{self, ImportRequest};
    use skolnav_ss12000_fixture::{ServerOptions, Spec, Ss12000Server, generate};
    let store = sqlite_store();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let registry = Ss12000Server::start(
        generate(&Spec::small().today(today)),
        ServerOptions::default(),
    )
    .await;
    let client = skolnav_tests::registry_client(&registry, 100);
    let clock = skolnav::clock::FixedClock::at(
        chrono::DateTime::parse_from_rfc3339("2026-11-02T01:00:00Z")
            .unwrap()
            .into(),
    );
    let event: serde_json::Value = serde_json::from_str(&event_text("import-nightly"))
        .expect("events/import-nightly.json is JSON");
    let answer = skolnav::lambda::import_event(&store, &client, &clock, event)
        .await
        .expect("the scheduled run succeeds");
    assert_eq!(answer["runs"][0]["status"], "succeeded", "{answer}");

    // A request written by the API reaches the function as a stream record.
    let req = ImportRequest {
        run_id: skolnav::ids::ImportRunId::generate(),
        dry_run: true,
        full: true,
        requested_by: demo::staff(demo::ORGANISATION_ADMIN),
        // The request item expires a week after it was made.
        requested_at: chrono::Utc::now(),
    };
    request::request(&store, &req).await.expect("requested");
    let image = store
        .get(&skolnav::keys::import_request(req.run_id))
        .await
        .unwrap()
        .expect("request item")
        .to_map();
    let stream = serde_json::json!({ "Records": [{
        "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
        "awsRegion": "eu-north-1", "eventVersion": "1.1",
        "dynamodb": { "NewImage": dynamodb_json(&serde_json::Value::Object(image)), "SequenceNumber": "1", "SizeBytes": 200, "StreamViewType": "NEW_IMAGE" }
    }]});
    let answer = skolnav::lambda::import_event(&store, &client, &clock, stream)
        .await
        .expect("the requested run is served");
    assert_eq!(
        answer["runs"][0]["runId"],
        req.run_id.to_string(),
        "{answer}"
    );
    let record = skolnav::import::record::get(&store, req.run_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, skolnav::import::record::Status::Succeeded);
    assert!(record.dry_run);
    assert_eq!(record.mode, skolnav::import::record::Mode::Full);
}

/// A JSON value in the attribute-value form a DynamoDB stream record uses.
fn dynamodb_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    match value {
        Value::String(s) => json!({ "S": s }),
        Value::Bool(b) => json!({ "BOOL": b }),
        Value::Number(n) => json!({ "N": n.to_string() }),
        Value::Null => json!({ "NULL": true }),
        Value::Array(a) => json!({ "L": a.iter().map(dynamodb_json).collect::<Vec<_>>() }),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), dynamodb_json(v)))
                .collect(),
        ),
    }
}
