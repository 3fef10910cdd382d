//! How many requests a read takes. A pupil's or guardian's read of a
//! group or of their own child is decided by their own record and, for a
//! guardian of a group's pupil, their children's memberships: the group,
//! whose school only staff views need, is not read, nor is the child.

use skolnav::demo;
use skolnav::keys;
use skolnav_tests::{Backend, TestApp};

/// The caller's record: the one read every bearer route makes first.
fn caller(who: skolnav::ids::PersonId) -> String {
    format!("query {}", keys::person_partition(who))
}

async fn a_guardian_reads_a_class_day_of_lessons_without_the_class_being_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ctx, issuer, watched) = app.reading_ctx();
    let event = skolnav_tests::sample_event("lessons-group-day");
    let lessons = format!("query {}", keys::lessons_of_group_partition(demo::class(1)));

    let guardian = demo::guardian(1);
    let (status, body) =
        skolnav_tests::invoke_event(&ctx, &issuer, "lessons-group-day", guardian, &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        watched.watcher.taken(),
        [caller(guardian), "get-many 1".into(), lessons.clone()],
        "the caller, their child's membership, the lessons"
    );

    // A guardian of the other class only: refused after the same one
    // membership read, as if the class did not exist.
    let other = demo::guardian(21);
    let (status, _) =
        skolnav_tests::invoke_event(&ctx, &issuer, "lessons-group-day", other, &event).await;
    assert_eq!(status, 404);
    assert_eq!(
        watched.watcher.taken(),
        [caller(other), "get-many 1".into()]
    );

    // Staff are decided by the class's school, so they read the class.
    let mentor = demo::staff(demo::MENTOR_4A);
    let (status, body) =
        skolnav_tests::invoke_event(&ctx, &issuer, "lessons-group-day", mentor, &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        watched.watcher.taken(),
        [
            caller(mentor),
            format!("get {}", keys::group(demo::class(1)).pk),
            lessons
        ]
    );
}

async fn a_guardian_reads_the_talk_slots_without_the_class_being_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ctx, issuer, watched) = app.reading_ctx();
    let event = skolnav_tests::sample_event("talk-slots");
    let guardian = demo::guardian(1);
    let (status, body) =
        skolnav_tests::invoke_event(&ctx, &issuer, "talk-slots", guardian, &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        watched.watcher.taken(),
        [
            caller(guardian),
            "get-many 1".into(),
            format!("query {}", keys::talks_partition(demo::class(1)))
        ]
    );
    // A pupil of the class does not book talks: 403, from their own record.
    let pupil = demo::pupil(1);
    let (status, _) = skolnav_tests::invoke_event(&ctx, &issuer, "talk-slots", pupil, &event).await;
    assert_eq!(status, 403);
    assert_eq!(watched.watcher.taken(), [caller(pupil)]);
}

async fn a_guardian_lists_their_childs_reports_without_the_child_being_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ctx, issuer, watched) = app.reading_ctx();
    let event = skolnav_tests::sample_event("absence-list");
    let reports = format!("query {}", keys::person_partition(demo::pupil(1)));
    let guardian = demo::guardian(1);
    let (status, body) =
        skolnav_tests::invoke_event(&ctx, &issuer, "absence-list", guardian, &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(watched.watcher.taken(), [caller(guardian), reports.clone()]);
    // Staff and anyone else are decided by the pupil's record: read first.
    let other = demo::guardian(21);
    let (status, _) =
        skolnav_tests::invoke_event(&ctx, &issuer, "absence-list", other, &event).await;
    assert_eq!(status, 404);
    assert_eq!(
        watched.watcher.taken(),
        [caller(other), reports],
        "the pupil's record is a query of their partition too; no report is listed"
    );
}

async fn a_mentor_reads_a_lessons_attendance_in_five_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let day = "2026-11-23".parse().unwrap();
    demo::seed_lessons(app.store.as_ref(), day).await.unwrap();
    let lesson = demo::lessons(day)[0].id;
    let (ctx, issuer, watched) = app.reading_ctx();
    let event = skolnav_tests::sample_event("attendance-get");
    assert!(
        event.contains(&lesson.to_string()),
        "the sample is 4A's Svenska"
    );
    let mentor = demo::staff(demo::MENTOR_4A);
    let (status, body) =
        skolnav_tests::invoke_event(&ctx, &issuer, "attendance-get", mentor, &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lesson"]["id"], lesson.to_string());
    let reads = watched.watcher.taken();
    assert_eq!(
        reads[..4],
        [
            caller(mentor),
            format!("get {}", keys::lesson(lesson).pk),
            "get-many 2".into(),
            format!("query {}", keys::members_of_group_partition(demo::class(1))),
        ],
        "the caller, the lesson, its registration and school together, its pupils"
    );
    assert_eq!(reads.len(), 5, "then their reported days: {reads:?}");
    assert!(reads[4].starts_with("get-many"), "{reads:?}");
}

on_both_stores!(
    a_mentor_reads_a_lessons_attendance_in_five_requests,
    a_guardian_reads_a_class_day_of_lessons_without_the_class_being_read,
    a_guardian_reads_the_talk_slots_without_the_class_being_read,
    a_guardian_lists_their_childs_reports_without_the_child_being_read,
);
