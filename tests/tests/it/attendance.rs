//! B3: a teacher registers attendance for a lesson, on both stores. The
//! lessons are the demo school's Monday (`demo::lessons`): V01 is 4A's
//! Svenska (45 minutes, its mentor; pupil 1 arrives 20 minutes late,
//! pupil 2 is not expected), V04 Idrott for 4A and 4B.

use serde_json::json;
use skolnav::attendance::{self, AbsenceReason};
use skolnav::demo;
use skolnav::ids::LessonId;
use skolnav_tests::{Backend, TestApp};

fn day() -> chrono::NaiveDate {
    "2026-11-23".parse().unwrap()
}

fn lesson(n: u32) -> LessonId {
    demo::lessons(day())[n as usize - 1].id
}

fn path(n: u32) -> String {
    format!("/lessons/{}/attendance", lesson(n))
}

async fn app(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    demo::seed_lessons(app.store.as_ref(), day()).await.unwrap();
    app
}

async fn a_teacher_registers_a_lesson_and_minutes_default_to_the_pupils_scheduled_time(
    backend: Backend,
) {
    let app = app(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let res = app
        .put(
            mentor,
            &path(1),
            json!({"absences": [
                {"pupilId": demo::pupil(3).to_string(), "reason": "invalid"},
                {"pupilId": demo::pupil(1).to_string(), "reason": "valid", "comment": "Tandläkare"},
                {"pupilId": demo::pupil(4).to_string(), "reason": "late", "minutes": 10}
            ]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    let stored = attendance::get(app.store.as_ref(), lesson(1))
        .await
        .unwrap()
        .expect("registered");
    let minutes: Vec<(AbsenceReason, u32)> = stored
        .absences
        .iter()
        .map(|a| (a.reason, a.minutes))
        .collect();
    assert_eq!(
        minutes,
        [
            (AbsenceReason::Invalid, 45),
            // Pupil 1's own times in the schedule: 25 of the 45 minutes.
            (AbsenceReason::Valid, 25),
            (AbsenceReason::Late, 10),
        ]
    );
    assert_eq!(stored.registered_by, mentor);
    assert_eq!(res.json["absences"][0]["minutes"], 45);
}

async fn registering_again_replaces_and_an_empty_list_confirms_no_absence(backend: Backend) {
    let app = app(backend).await;
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    let first = app
        .put(
            teacher,
            &path(4),
            json!({"absences": [
                {"pupilId": demo::pupil(21).to_string(), "reason": "invalid"}
            ]}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.json);
    let again = app
        .put(
            teacher,
            &path(4),
            json!({"absences": [], "comment": "Alla på plats"}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.json);
    let stored = attendance::get(app.store.as_ref(), lesson(4))
        .await
        .unwrap()
        .expect("registered");
    assert!(
        stored.absences.is_empty(),
        "the second registration replaced the first"
    );
    assert_eq!(stored.comment.as_deref(), Some("Alla på plats"));
}

async fn bad_input_is_a_400_naming_the_field(backend: Backend) {
    let app = app(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let pupil = demo::pupil(3).to_string();
    for (body, field) in [
        (
            json!({"absences": [{"pupilId": pupil, "reason": "late"}]}),
            "absences[0].minutes",
        ),
        (
            json!({"absences": [{"pupilId": pupil, "reason": "invalid", "minutes": 46}]}),
            "absences[0].minutes",
        ),
        (
            json!({"absences": [{"pupilId": pupil, "reason": "bored"}]}),
            "absences[0].reason",
        ),
        (
            json!({"absences": [{"pupilId": "x", "reason": "valid"}]}),
            "absences[0].pupilId",
        ),
        (
            json!({"absences": [
                {"pupilId": pupil, "reason": "valid"},
                {"pupilId": pupil, "reason": "invalid"}
            ]}),
            "absences[1].pupilId",
        ),
        (json!({}), "absences"),
    ] {
        let res = app.put(mentor, &path(1), body.clone()).await;
        assert_eq!(res.status, 400, "{body}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(res.json["invalidParams"][0]["name"], field, "{}", res.json);
    }
    let res = app
        .put(
            mentor,
            "/lessons/not-a-lesson/attendance",
            json!({"absences": []}),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json["invalidParams"][0]["name"], "lessonId");
    assert!(
        attendance::get(app.store.as_ref(), lesson(1))
            .await
            .unwrap()
            .is_none(),
        "nothing was written"
    );
}

async fn a_pupil_not_expected_at_the_lesson_is_refused_naming_the_field(backend: Backend) {
    let app = app(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    // Pupil 21 is in 4B; pupil 2 is excepted from this lesson by the schedule.
    for pupil in [demo::pupil(21), demo::pupil(2)] {
        let res = app
            .put(
                mentor,
                &path(1),
                json!({"absences": [{"pupilId": pupil.to_string(), "reason": "invalid"}]}),
            )
            .await;
        assert_eq!(res.status, 422, "{}", res.json);
        assert_eq!(res.json["invalidParams"][0]["name"], "absences[0].pupilId");
    }
}

async fn a_teacher_registers_only_lessons_of_groups_they_teach(backend: Backend) {
    let app = app(backend).await;
    let body = json!({"absences": []});
    for (who, want) in [
        (demo::staff(demo::MENTOR_4B), 403),
        (demo::staff(demo::PRINCIPAL), 403),
        (demo::guardian(1), 404),
        (demo::pupil(1), 404),
        (demo::staff(demo::OTHER_SCHOOL_ADMIN), 404),
    ] {
        let res = app.put(who, &path(1), body.clone()).await;
        assert_eq!(res.status, want, "{who}: {}", res.json);
    }
    assert!(
        attendance::get(app.store.as_ref(), lesson(1))
            .await
            .unwrap()
            .is_none()
    );
    let unknown = app
        .put(
            demo::staff(demo::MENTOR_4A),
            &format!("/lessons/{}/attendance", LessonId::generate()),
            body,
        )
        .await;
    assert_eq!(unknown.status, 404);
}

async fn a_cancelled_lesson_cannot_be_registered(backend: Backend) {
    let app = app(backend).await;
    let mut cancelled = demo::lessons(day()).remove(0);
    cancelled.cancelled = true;
    app.store
        .batch_put(&cancelled.items().unwrap())
        .await
        .unwrap();
    let res = app
        .put(
            demo::staff(demo::MENTOR_4A),
            &path(1),
            json!({"absences": []}),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.json);
    assert_eq!(
        res.json["type"]
            .as_str()
            .map(|t| t.ends_with("lesson-cancelled")),
        Some(true),
        "{}",
        res.json
    );
}

/// The start dates and titles of the caller's unreported lessons.
async fn unreported(app: &TestApp, who: skolnav::ids::PersonId) -> Vec<String> {
    let res = app.get(who, "/me/lessons/unreported").await;
    assert_eq!(res.status, 200, "{}", res.json);
    res.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                &l["start"].as_str().unwrap_or_default()[..10],
                l["title"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

async fn a_teacher_sees_the_lessons_of_the_last_two_weeks_not_yet_reported(backend: Backend) {
    let app = app(backend).await;
    // Wednesday 4 November is 19 days back; Tuesday 17 November within the
    // 14 days; today is Monday 23 November, 10:00 in Sweden.
    for day in ["2026-11-04", "2026-11-17"] {
        demo::seed_lessons(app.store.as_ref(), day.parse().unwrap())
            .await
            .unwrap();
    }
    app.clock
        .set(skolnav_tests::school_morning() + chrono::Duration::hours(2));
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    assert_eq!(
        unreported(&app, teacher).await,
        [
            "2026-11-17 Matematik 4A",
            "2026-11-17 Idrott 4AB",
            "2026-11-23 Matematik 4A"
        ],
        "not the lessons of 4 November, nor today's 13:00 lesson that has not begun"
    );
    // Confirming a lesson (nobody absent) reports it.
    let tuesday_maths = demo::lessons("2026-11-17".parse().unwrap())[1].id;
    let res = app
        .put(
            teacher,
            &format!("/lessons/{tuesday_maths}/attendance"),
            json!({ "absences": [] }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    assert_eq!(
        unreported(&app, teacher).await,
        ["2026-11-17 Idrott 4AB", "2026-11-23 Matematik 4A"]
    );
    // Each teacher sees their own; someone who teaches nothing, nothing.
    assert_eq!(
        unreported(&app, demo::staff(demo::MENTOR_4A)).await,
        ["2026-11-17 Svenska 4A", "2026-11-23 Svenska 4A"]
    );
    assert!(unreported(&app, demo::guardian(1)).await.is_empty());
}

async fn the_school_sees_reported_and_registered_absence_of_today_per_pupil(backend: Backend) {
    let app = app(backend).await;
    // Pupil 3's guardian reports the afternoon; pupil 5 is reported by no
    // one. The mentor registers both away from the morning's Svenska.
    let reported = app
        .post(
            demo::guardian(3),
            &format!("/pupils/{}/absence-reports", demo::pupil(3)),
            json!({"day": "2026-11-23", "fromTime": "13:00", "toTime": "15:00", "reason": "other"}),
        )
        .await;
    assert_eq!(reported.status, 201, "{}", reported.json);
    let res = app
        .put(
            demo::staff(demo::MENTOR_4A),
            &path(1),
            json!({"absences": [
                {"pupilId": demo::pupil(3).to_string(), "reason": "invalid"},
                {"pupilId": demo::pupil(5).to_string(), "reason": "late", "minutes": 15}
            ]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);

    let today = app
        .get(
            demo::staff(demo::SUBJECT_TEACHER),
            &format!("/schools/{}/absence-today", demo::school()),
        )
        .await;
    assert_eq!(today.status, 200, "{}", today.json);
    assert_eq!(today.json["count"], 2, "{}", today.json);
    let pupil = |n: u32| {
        today.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["pupilId"] == demo::pupil(n).to_string())
            .cloned()
            .unwrap_or_else(|| panic!("pupil {n} in {}", today.json))
    };
    let three = pupil(3);
    assert_eq!(three["entries"][0]["from"], "13:00:00");
    assert_eq!(
        three["lessons"][0]["reason"], "invalid",
        "the report covers the afternoon only"
    );
    assert_eq!(three["lessons"][0]["title"], "Svenska 4A");
    let five = pupil(5);
    assert!(five["entries"].as_array().unwrap().is_empty());
    assert_eq!(five["lessons"][0]["reason"], "late");
    assert_eq!(five["lessons"][0]["minutes"], 15);
    assert!(
        !five["pupilName"].as_str().unwrap_or_default().is_empty(),
        "named from the pupil's record"
    );
    // Registering again without pupil 5 takes them off today's list.
    let res = app
        .put(
            demo::staff(demo::MENTOR_4A),
            &path(1),
            json!({"absences": [{"pupilId": demo::pupil(3).to_string(), "reason": "invalid"}]}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    let again = app
        .get(
            demo::staff(demo::MENTOR_4A),
            &format!("/schools/{}/absence-today", demo::school()),
        )
        .await;
    assert_eq!(again.json["count"], 1, "{}", again.json);
}

on_both_stores!(
    the_school_sees_reported_and_registered_absence_of_today_per_pupil,
    a_teacher_sees_the_lessons_of_the_last_two_weeks_not_yet_reported,
    a_teacher_registers_a_lesson_and_minutes_default_to_the_pupils_scheduled_time,
    registering_again_replaces_and_an_empty_list_confirms_no_absence,
    bad_input_is_a_400_naming_the_field,
    a_pupil_not_expected_at_the_lesson_is_refused_naming_the_field,
    a_teacher_registers_only_lessons_of_groups_they_teach,
    a_cancelled_lesson_cannot_be_registered,
);
