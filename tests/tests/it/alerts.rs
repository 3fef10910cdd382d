//! B6: guardians hear the same day when their child is registered absent
//! without a valid reason: one SMS per guardian with a mobile number and
//! one mail per preferences, per pupil per day, drawing on the school's
//! SMS credit. On both stores; the demo Monday's lessons (V01 Svenska 4A
//! by its mentor, V04 Idrott 4A and 4B by the subject teacher), today.
//!
//! Pupil 3 (Maja) has one guardian (3, with a mobile number); pupil 4
//! (Astrid) two: guardian 4 with a mobile number, guardian 52 without.

use serde_json::json;
use skolnav::alerts::credit::SmsCredit;
use skolnav::attendance::{self, AbsenceReason};
use skolnav::demo;
use skolnav::ids::LessonId;
use skolnav::sms::MobileNumber;
use skolnav::store::Condition;
use skolnav_tests::{Backend, TestApp};

fn today() -> chrono::NaiveDate {
    "2026-11-23".parse().unwrap()
}

fn lesson(n: usize) -> LessonId {
    demo::lessons(today())[n - 1].id
}

async fn app(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    demo::seed_lessons(app.store.as_ref(), today())
        .await
        .unwrap();
    app
}

async fn register(app: &TestApp, teacher: u32, lesson_n: usize, invalid: &[u32]) {
    let absences: Vec<_> = invalid
        .iter()
        .map(|p| json!({"pupilId": demo::pupil(*p).to_string(), "reason": "invalid"}))
        .collect();
    let res = app
        .put(
            demo::staff(teacher),
            &format!("/lessons/{}/attendance", lesson(lesson_n)),
            json!({ "absences": absences }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
}

/// Delivers until nothing is left: the request, then the pupils' alerts.
async fn deliver(app: &TestApp) {
    for _ in 0..3 {
        app.deliver_outbox().await;
    }
}

fn mobile(guardian: u32) -> String {
    MobileNumber::parse(&demo::guardian_mobile(guardian))
        .unwrap()
        .as_str()
        .to_string()
}

fn texted(app: &TestApp) -> Vec<String> {
    let mut to: Vec<String> = app
        .sms
        .sent()
        .iter()
        .map(|s| s.to.as_str().to_string())
        .collect();
    to.sort();
    to
}

async fn guardian_email(app: &TestApp, guardian: u32) -> String {
    skolnav::directory::person(app.store.as_ref(), demo::guardian(guardian))
        .await
        .unwrap()
        .unwrap()
        .email
        .unwrap()
}

async fn credit(app: &TestApp) -> SmsCredit {
    let res = app
        .get(
            demo::staff(demo::ADMIN),
            &format!("/schools/{}/sms-credit", demo::school()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    serde_json::from_value(res.json).unwrap()
}

async fn a_pupil_absent_without_reason_today_brings_each_guardian_one_sms_and_one_mail(
    backend: Backend,
) {
    let app = app(backend).await;
    register(&app, demo::MENTOR_4A, 1, &[4]).await;
    deliver(&app).await;

    assert_eq!(
        texted(&app),
        [mobile(4)],
        "guardian 52 has no mobile number"
    );
    let text = &app.sms.sent()[0].text;
    assert!(
        text.contains("Astrid") && text.contains("Svenska"),
        "{text}"
    );
    let mut mailed: Vec<String> = app.mailer.sent().iter().map(|m| m.to.clone()).collect();
    mailed.sort();
    let mut expected = vec![
        guardian_email(&app, 4).await,
        guardian_email(&app, 52).await,
    ];
    expected.sort();
    assert_eq!(mailed, expected);
    assert!(app.mailer.sent()[0].subject.contains("Astrid"));
    assert_eq!(credit(&app).await.credit, demo::DEMO_SMS_CREDIT - 1);
}

async fn more_absences_of_the_pupil_the_same_day_add_no_sms(backend: Backend) {
    let app = app(backend).await;
    register(&app, demo::MENTOR_4A, 1, &[3]).await;
    deliver(&app).await;
    register(&app, demo::SUBJECT_TEACHER, 4, &[3]).await;
    // Registering the first lesson again, now also with pupil 4.
    register(&app, demo::MENTOR_4A, 1, &[3, 4]).await;
    deliver(&app).await;

    let mut expected = vec![mobile(3), mobile(4)];
    expected.sort();
    assert_eq!(texted(&app), expected, "one text per pupil of the day");
    assert_eq!(
        app.mailer.sent().len(),
        3,
        "guardians 3, 4 and 52, once each"
    );
    assert_eq!(credit(&app).await.credit, demo::DEMO_SMS_CREDIT - 2);
}

async fn two_teachers_registering_at_once_send_exactly_one_sms_per_pupil(backend: Backend) {
    let app = app(backend).await;
    // Two lessons, two teachers, the same two pupils, at the same moment;
    // then two workers deliver at the same moment.
    tokio::join!(
        register(&app, demo::MENTOR_4A, 1, &[3, 4]),
        register(&app, demo::SUBJECT_TEACHER, 4, &[3, 4]),
    );
    for _ in 0..3 {
        tokio::join!(app.deliver_outbox(), app.deliver_outbox());
    }

    let mut expected = vec![mobile(3), mobile(4)];
    expected.sort();
    assert_eq!(texted(&app), expected);
    assert_eq!(app.mailer.sent().len(), 3);
    assert_eq!(credit(&app).await.credit, demo::DEMO_SMS_CREDIT - 2);
}

async fn at_zero_credit_the_sms_is_not_sent_the_mail_is_and_the_admin_is_warned(backend: Backend) {
    let app = app(backend).await;
    let empty = SmsCredit::none(demo::school());
    app.store
        .put(&empty.to_item(1).unwrap(), Condition::None)
        .await
        .unwrap();
    register(&app, demo::MENTOR_4A, 1, &[3]).await;
    deliver(&app).await;

    assert!(texted(&app).is_empty());
    assert_eq!(app.mailer.sent().len(), 1, "the mail still goes");
    let res = app
        .get(
            demo::staff(demo::ADMIN),
            &format!("/schools/{}/sms-credit", demo::school()),
        )
        .await;
    assert_eq!(res.json["credit"], 0);
    assert_eq!(res.json["refused"], 1);
    assert!(
        res.json["warning"]
            .as_str()
            .is_some_and(|w| w.contains("ran out")),
        "{}",
        res.json
    );

    // The organisation tops up; the warning goes, the next pupil is texted.
    let path = format!("/schools/{}/sms-credit", demo::school());
    let topped = app
        .post(
            demo::staff(demo::ORGANISATION_ADMIN),
            &path,
            json!({"add": 50}),
        )
        .await;
    assert_eq!(topped.status, 200, "{}", topped.json);
    assert_eq!(topped.json["credit"], 50);
    assert_eq!(topped.json["refused"], 0);
    assert!(topped.json.get("warning").is_none(), "{}", topped.json);
    register(&app, demo::MENTOR_4A, 1, &[3, 4]).await;
    deliver(&app).await;
    assert_eq!(
        texted(&app),
        [mobile(4)],
        "pupil 3 was alerted today already"
    );
}

async fn only_the_organisation_tops_up_and_only_school_leaders_read_the_credit(backend: Backend) {
    let app = app(backend).await;
    let path = format!("/schools/{}/sms-credit", demo::school());
    for (who, status) in [
        (demo::staff(demo::ADMIN), 403),
        (demo::staff(demo::MENTOR_4A), 403),
        (demo::guardian(1), 404),
    ] {
        let res = app.post(who, &path, json!({"add": 10})).await;
        assert_eq!(res.status, status, "{who}: {}", res.json);
    }
    for (who, status) in [
        (demo::staff(demo::PRINCIPAL), 200),
        (demo::staff(demo::ORGANISATION_ADMIN), 200),
        (demo::staff(demo::MENTOR_4A), 403),
        (demo::staff(demo::OTHER_SCHOOL_ADMIN), 404),
        (demo::guardian(1), 404),
    ] {
        let res = app.get(who, &path).await;
        assert_eq!(res.status, status, "{who}: {}", res.json);
    }
    for body in [json!({"add": 0}), json!({"add": -1}), json!({})] {
        let res = app
            .post(demo::staff(demo::ORGANISATION_ADMIN), &path, body.clone())
            .await;
        assert_eq!(res.status, 400, "{body}: {}", res.json);
        assert_eq!(res.json["invalidParams"][0]["name"], "add", "{}", res.json);
    }
    assert_eq!(
        credit(&app).await.credit,
        demo::DEMO_SMS_CREDIT,
        "unchanged"
    );
}

async fn a_guardians_report_makes_the_absence_valid_and_alerts_no_one(backend: Backend) {
    let app = app(backend).await;
    let reported = app
        .post(
            demo::guardian(3),
            &format!("/pupils/{}/absence-reports", demo::pupil(3)),
            json!({"firstDay": "2026-11-23", "reason": "sick"}),
        )
        .await;
    assert_eq!(reported.status, 201, "{}", reported.json);
    let mentor = demo::staff(demo::MENTOR_4A);
    let view = app
        .get(mentor, &format!("/lessons/{}/attendance", lesson(1)))
        .await;
    assert_eq!(view.status, 200, "{}", view.json);
    assert_eq!(
        view.json["reported"][0]["pupilId"],
        demo::pupil(3).to_string()
    );
    assert_eq!(view.json["reported"][0]["reportId"], reported.json["id"]);
    assert!(view.json["registration"].is_null());

    register(&app, demo::MENTOR_4A, 1, &[3]).await;
    let stored = attendance::get(app.store.as_ref(), lesson(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.absences[0].reason, AbsenceReason::Valid);
    assert_eq!(
        stored.absences[0].report_id.map(|r| r.to_string()),
        reported.json["id"].as_str().map(str::to_string)
    );
    deliver(&app).await;
    assert!(texted(&app).is_empty());
    assert!(
        app.mailer
            .sent()
            .iter()
            .all(|m| !m.subject.contains("frånvaro: Maja")),
        "no alert mail"
    );
}

async fn no_alert_for_a_school_without_the_setting_or_a_lesson_of_another_day(backend: Backend) {
    let app = app(backend).await;
    // A lesson of last Tuesday, registered today.
    let tuesday: chrono::NaiveDate = "2026-11-17".parse().unwrap();
    demo::seed_lessons(app.store.as_ref(), tuesday)
        .await
        .unwrap();
    let old = demo::lessons(tuesday)[0].id;
    let res = app
        .put(
            demo::staff(demo::MENTOR_4A),
            &format!("/lessons/{old}/attendance"),
            json!({"absences": [{"pupilId": demo::pupil(3).to_string(), "reason": "invalid"}]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    deliver(&app).await;
    assert!(texted(&app).is_empty(), "not today's lesson");

    let mut school = skolnav::directory::school(app.store.as_ref(), demo::school())
        .await
        .unwrap()
        .unwrap();
    school.settings.alert_unexcused_absence = false;
    app.store
        .put(
            &skolnav::directory::school_item(&school).unwrap(),
            Condition::None,
        )
        .await
        .unwrap();
    register(&app, demo::MENTOR_4A, 1, &[3]).await;
    deliver(&app).await;
    assert!(texted(&app).is_empty(), "the school does not alert");
    assert!(app.mailer.sent().is_empty());
}

async fn a_failed_sms_is_retried_without_texting_or_mailing_anyone_twice(backend: Backend) {
    let app = app(backend).await;
    app.sms.fail_next(1);
    register(&app, demo::MENTOR_4A, 1, &[4]).await;
    deliver(&app).await;
    assert_eq!(texted(&app), [mobile(4)], "sent on the retry");
    assert_eq!(app.mailer.sent().len(), 2, "each mail once");
    assert_eq!(
        credit(&app).await.credit,
        demo::DEMO_SMS_CREDIT - 1,
        "the retry did not draw again"
    );
}

async fn the_texts_name_no_personal_number(backend: Backend) {
    let app = app(backend).await;
    register(&app, demo::MENTOR_4A, 1, &[3, 4]).await;
    deliver(&app).await;
    let texts: Vec<String> = app.sms.sent().iter().map(|s| s.text.clone()).collect();
    assert_eq!(texts.len(), 2);
    for text in texts
        .iter()
        .chain(app.mailer.sent().iter().map(|m| &m.text))
    {
        // A personal number has six or more digits in a row (YYMMDD-NNNN);
        // a date (2026-11-23) and a time (08:15) have at most four.
        let longest_run = text
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest_run <= 4, "{text}");
    }
}

on_both_stores!(
    a_pupil_absent_without_reason_today_brings_each_guardian_one_sms_and_one_mail,
    more_absences_of_the_pupil_the_same_day_add_no_sms,
    two_teachers_registering_at_once_send_exactly_one_sms_per_pupil,
    at_zero_credit_the_sms_is_not_sent_the_mail_is_and_the_admin_is_warned,
    only_the_organisation_tops_up_and_only_school_leaders_read_the_credit,
    a_guardians_report_makes_the_absence_valid_and_alerts_no_one,
    no_alert_for_a_school_without_the_setting_or_a_lesson_of_another_day,
    a_failed_sms_is_retried_without_texting_or_mailing_anyone_twice,
    the_texts_name_no_personal_number,
);

#[tokio::test]
async fn the_sns_adapter_texts_a_swedish_number_through_an_sns_endpoint() {
    use skolnav::sms::{Sms, SmsSender, SnsSmsSender};
    let sender = SnsSmsSender::new(skolnav_tests::sns_client(), Some("Skolnav".into()));
    let marker = ulid::Ulid::generate().to_string();
    let to = MobileNumber::parse("070-987 65 43").unwrap();
    sender
        .send(&Sms {
            to: to.clone(),
            text: format!("Ogiltig frånvaro i dag {marker}"),
        })
        .await
        .expect("publish");
    let data: serde_json::Value = reqwest::get(format!(
        "{}/moto-api/data.json",
        skolnav_tests::moto_endpoint()
    ))
    .await
    .expect("moto data")
    .json()
    .await
    .expect("json");
    let sms = data["sns"]["SMS"].to_string();
    assert!(sms.contains(&marker), "the text did not arrive: {sms}");
    assert!(sms.contains("+46709876543"), "{sms}");
}
