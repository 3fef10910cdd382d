//! A school's own settings, set by its leaders, on both stores.

use serde_json::json;
use skolnav::demo;
use skolnav_tests::{Backend, TestApp};

fn path() -> String {
    format!("/schools/{}/settings", demo::school())
}

fn settings(alert: bool, comments: &[&str]) -> serde_json::Value {
    json!({
        "autoApproveAbsence": false,
        "otherResponsiblesAreGuardians": false,
        "alertUnexcusedAbsence": alert,
        "attendanceComments": comments,
    })
}

async fn the_principal_sets_the_comments_teachers_pick_from_and_turns_alerts_off(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let day = "2026-11-23".parse().unwrap();
    demo::seed_lessons(app.store.as_ref(), day).await.unwrap();
    let principal = demo::staff(demo::PRINCIPAL);
    let before = app.get(principal, &path()).await;
    assert_eq!(before.status, 200, "{}", before.json);
    assert_eq!(before.json["alertUnexcusedAbsence"], true);

    let put = app
        .put(
            principal,
            &path(),
            settings(false, &[" Sjukhusbesök ", "Musikskola"]),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.json);
    assert_eq!(
        put.json["attendanceComments"],
        json!(["Sjukhusbesök", "Musikskola"])
    );

    // The teacher opening a lesson sees the new list.
    let lesson = demo::lessons(day)[0].id;
    let mentor = demo::staff(demo::MENTOR_4A);
    let view = app
        .get(mentor, &format!("/lessons/{lesson}/attendance"))
        .await;
    assert_eq!(view.json["comments"], json!(["Sjukhusbesök", "Musikskola"]));
    // And with alerts off, unexcused absence texts no one.
    let res = app
        .put(
            mentor,
            &format!("/lessons/{lesson}/attendance"),
            json!({"absences": [{"pupilId": demo::pupil(3).to_string(), "reason": "invalid",
                                 "comment": "Musikskola"}]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    for _ in 0..3 {
        app.deliver_outbox().await;
    }
    assert!(app.sms.sent().is_empty());
    // The school's name and the rest of its item are kept.
    let school = skolnav::directory::school(app.store.as_ref(), demo::school())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(school.name, "Solrosskolan");
    assert!(!school.settings.alert_unexcused_absence);
}

async fn only_the_schools_leaders_and_the_organisation_read_and_set_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (who, status) in [
        (demo::staff(demo::ADMIN), 200),
        (demo::staff(demo::ORGANISATION_ADMIN), 200),
        (demo::staff(demo::MENTOR_4A), 403),
        (demo::staff(demo::OTHER_SCHOOL_ADMIN), 404),
        (demo::guardian(1), 404),
        (demo::pupil(1), 404),
    ] {
        let get = app.get(who, &path()).await;
        assert_eq!(get.status, status, "GET by {who}: {}", get.json);
        let put = app.put(who, &path(), settings(true, &[])).await;
        assert_eq!(put.status, status, "PUT by {who}: {}", put.json);
    }
}

async fn bad_settings_are_a_400_naming_the_field_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let principal = demo::staff(demo::PRINCIPAL);
    let before = app.get(principal, &path()).await.json;
    let mut missing = settings(true, &[]);
    missing
        .as_object_mut()
        .unwrap()
        .remove("attendanceComments");
    let mut unknown = settings(true, &[]);
    unknown["smsCredit"] = json!(1000);
    for (body, field) in [
        (missing, "attendanceComments"),
        (unknown, "smsCredit"),
        (settings(true, &["Sjuk", "Sjuk"]), "attendanceComments[1]"),
        (settings(true, &[""]), "attendanceComments[0]"),
        (json!({"autoApproveAbsence": "yes"}), "autoApproveAbsence"),
    ] {
        let res = app.put(principal, &path(), body.clone()).await;
        assert_eq!(res.status, 400, "{body}: {}", res.json);
        assert_eq!(res.json["invalidParams"][0]["name"], field, "{}", res.json);
    }
    assert_eq!(app.get(principal, &path()).await.json, before);
}

on_both_stores!(
    the_principal_sets_the_comments_teachers_pick_from_and_turns_alerts_off,
    only_the_schools_leaders_and_the_organisation_read_and_set_them,
    bad_settings_are_a_400_naming_the_field_and_change_nothing,
);
