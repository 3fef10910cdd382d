//! Each sample event in events/ (the ones `cargo lambda invoke
//! --data-file` uses) is fed to its function's handler, as Lambda would.

use skolnav::api::Ctx;
use skolnav::auth::Authenticator;
use skolnav::demo;
use skolnav::ids::{OutboxId, PersonId, ReportId};
use skolnav::outbox::{self, Notice};
use skolnav::store::{Condition, Store};
use skolnav_tests::{RecordingMailer, school_morning, sqlite_store, workspace_root};
use std::sync::Arc;

fn event_text(function: &str) -> String {
    let path = workspace_root().join(format!("events/{function}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Harness {
    ctx: Ctx,
    issuer: skolnav::devkeys::DevIssuer,
}

async fn harness() -> Harness {
    let store = Arc::new(sqlite_store());
    demo::seed(store.as_ref()).await.expect("seed");
    let issuer =
        skolnav::devkeys::DevIssuer::generate(skolnav_local::ISSUER, skolnav_local::AUDIENCE);
    let auth =
        Authenticator::with_keys(issuer.auth_config("http://unused.invalid/"), issuer.jwks());
    Harness {
        ctx: Ctx {
            store,
            auth: Arc::new(auth),
            clock: Arc::new(skolnav::clock::FixedClock::at(school_morning())),
        },
        issuer,
    }
}

async fn invoke(
    h: &Harness,
    function: &str,
    who: PersonId,
    text: &str,
) -> (u16, serde_json::Value) {
    let token = h
        .issuer
        .token_for(&who.to_string(), std::time::Duration::from_secs(300));
    let text = text.replace("REPLACED-BY-TEST", &token);
    let req = lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("events/{function}.json is not an API Gateway event: {e}"));
    let res = skolnav::lambda::handle(&h.ctx, function, req).await;
    let status = res.status().as_u16();
    let body = match res.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    (status, body)
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
        ("absence-list", guardian, event_text("absence-list"), 200),
        (
            "absence-pending",
            mentor,
            event_text("absence-pending"),
            200,
        ),
        ("absence-today", mentor, event_text("absence-today"), 200),
        ("absence-approve", mentor, approve, 200),
    ];
    for (function, who, text, want) in cases {
        let (status, body) = invoke(&h, function, who, &text).await;
        assert_eq!(status, want, "{function}: {body}");
    }
    // A function serves only its own routes.
    let (status, _) = invoke(&h, "absence-list", guardian, &event_text("absence-report")).await;
    assert_eq!(status, 404);
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
