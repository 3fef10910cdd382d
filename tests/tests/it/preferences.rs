//! C7, F5: every person keeps their own language and e-mail choices
//! (GET/PUT /me/preferences), on the embedded store and on DynamoDB Local.

use serde_json::{Value, json};
use skolnav::demo;
use skolnav_tests::{Backend, TestApp};

const PATH: &str = "/me/preferences";

fn english_without_school_mail() -> Value {
    json!({
        "language": "en",
        "mail": { "importantNotices": true, "schoolMessages": false, "userMessages": true }
    })
}

async fn each_person_reads_and_changes_only_their_own_preferences(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (me, other) = (demo::guardian(1), demo::guardian(2));
    let other_before = app.get(other, PATH).await.json;
    let before = app.get(me, PATH).await;
    assert_eq!(before.status, 200, "{}", before.json);
    assert_eq!(
        before.json,
        json!({
            "language": "sv",
            "mail": { "importantNotices": true, "schoolMessages": true, "userMessages": true }
        }),
        "Swedish, and every kind of e-mail on, until the person says otherwise"
    );

    let changed = app.put(me, PATH, english_without_school_mail()).await;
    assert_eq!(changed.status, 200, "{}", changed.json);
    assert_eq!(changed.json, english_without_school_mail());
    assert_eq!(app.get(me, PATH).await.json, english_without_school_mail());
    assert_eq!(app.get(other, PATH).await.json, other_before);
    // The rest of the person is untouched.
    let whoami = app.get(me, "/me").await;
    assert_eq!(whoami.json["person"]["id"], json!(me.to_string()));
    assert!(whoami.json["person"]["givenName"].is_string());

    // Staff have preferences too.
    let staff = demo::staff(demo::MENTOR_4A);
    assert_eq!(
        app.put(staff, PATH, english_without_school_mail())
            .await
            .status,
        200
    );
}

async fn a_preference_body_with_a_missing_or_unknown_field_is_refused_and_changes_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let me = demo::guardian(1);
    assert_eq!(
        app.put(me, PATH, english_without_school_mail())
            .await
            .status,
        200
    );
    let cases = [
        (
            json!({ "language": "sv", "mail": { "importantNotices": false } }),
            "mail.schoolMessages",
        ),
        (
            json!({ "language": "de", "mail": english_without_school_mail()["mail"] }),
            "language",
        ),
        (
            json!({ "language": "sv", "mail": { "importantNotices": true, "schoolMessages": true, "userMessages": true, "sms": true } }),
            "mail.sms",
        ),
        (
            json!({ "mail": english_without_school_mail()["mail"] }),
            "language",
        ),
    ];
    for (body, field) in cases {
        let res = app.put(me, PATH, body.clone()).await;
        assert_eq!(res.status, 400, "{body}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(
            res.json["invalidParams"][0]["name"], field,
            "{body}: {}",
            res.json
        );
    }
    assert_eq!(app.get(me, PATH).await.json, english_without_school_mail());
}

on_both_stores!(
    each_person_reads_and_changes_only_their_own_preferences,
    a_preference_body_with_a_missing_or_unknown_field_is_refused_and_changes_nothing,
);
