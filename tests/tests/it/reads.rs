//! How many requests a read takes. A pupil's or guardian's read of a
//! group or of their own child is decided by their own record alone (a
//! guardianship carries where the child is a pupil, `child_places`): the
//! group, whose school only staff views need, is not read, nor is the
//! child. A guardianship without that copy reads the child's membership.

use serde_json::Value;
use skolnav::child_places::ChildPlaces;
use skolnav::directory::Relation;
use skolnav::ids::{FileId, PersonId, PostId};
use skolnav::store::Condition;
use skolnav::{blog, demo, directory, keys};
use skolnav_tests::{Backend, TestApp};

/// The caller's record: the one read every bearer route makes first.
fn caller(who: PersonId) -> String {
    format!("query {}", keys::person_partition(who))
}

/// The function's sample event, served through its Lambda handler as
/// `who`: the status, the body, and every read request it made.
async fn reads_of(app: &TestApp, function: &str, who: PersonId) -> (u16, Value, Vec<String>) {
    reads_of_event(app, function, who, &skolnav_tests::sample_event(function)).await
}

/// As [`reads_of`], for an event of the test's own.
async fn reads_of_event(
    app: &TestApp,
    function: &str,
    who: PersonId,
    event: &str,
) -> (u16, Value, Vec<String>) {
    let (ctx, issuer, watched) = app.reading_ctx();
    let (status, body) = skolnav_tests::invoke_event(&ctx, &issuer, function, who, event).await;
    (status, body, watched.watcher.taken())
}

async fn a_guardian_reads_a_class_day_of_lessons_in_two_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let lessons = format!("query {}", keys::lessons_of_group_partition(demo::class(1)));

    let guardian = demo::guardian(1);
    let (status, body, reads) = reads_of(&app, "lessons-group-day", guardian).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reads,
        [caller(guardian), lessons.clone()],
        "the caller (whose guardianship says the child is in 4A), the lessons"
    );

    // A guardian of the other class only: refused on their own record, as
    // if the class did not exist.
    let other = demo::guardian(21);
    let (status, _, reads) = reads_of(&app, "lessons-group-day", other).await;
    assert_eq!(status, 404);
    assert_eq!(reads, [caller(other)]);

    // Staff are decided by the class's school, so they read the class.
    let mentor = demo::staff(demo::MENTOR_4A);
    let (status, body, reads) = reads_of(&app, "lessons-group-day", mentor).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reads,
        [
            caller(mentor),
            format!("get {}", keys::group(demo::class(1)).pk),
            lessons
        ]
    );
}

async fn a_guardian_reads_the_talk_slots_in_two_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let guardian = demo::guardian(1);
    let (status, body, reads) = reads_of(&app, "talk-slots", guardian).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reads,
        [
            caller(guardian),
            format!("query {}", keys::talks_partition(demo::class(1)))
        ]
    );
    // A pupil of the class does not book talks: 403, from their own record.
    let pupil = demo::pupil(1);
    let (status, _, reads) = reads_of(&app, "talk-slots", pupil).await;
    assert_eq!(status, 403);
    assert_eq!(reads, [caller(pupil)]);
}

async fn a_guardian_lists_their_childs_reports_without_the_child_being_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reports = format!("query {}", keys::person_partition(demo::pupil(1)));
    let guardian = demo::guardian(1);
    let (status, body, reads) = reads_of(&app, "absence-list", guardian).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(reads, [caller(guardian), reports.clone()]);
    // Staff and anyone else are decided by the pupil's record: read first.
    let other = demo::guardian(21);
    let (status, _, reads) = reads_of(&app, "absence-list", other).await;
    assert_eq!(status, 404);
    assert_eq!(
        reads,
        [caller(other), reports],
        "the pupil's record is a query of their partition too; no report is listed"
    );
}

async fn a_mentor_reads_a_lessons_attendance_in_five_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let day = "2026-11-23".parse().unwrap();
    demo::seed_lessons(app.store.as_ref(), day).await.unwrap();
    let lesson = demo::lessons(day)[0].id;
    assert!(
        skolnav_tests::sample_event("attendance-get").contains(&lesson.to_string()),
        "the sample is 4A's Svenska"
    );
    let mentor = demo::staff(demo::MENTOR_4A);
    let (status, body, reads) = reads_of(&app, "attendance-get", mentor).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lesson"]["id"], lesson.to_string());
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

/// A PDF the 4A mentor uploaded and attached to a post to 4A's families.
async fn file_on_a_4a_post(app: &TestApp) -> (FileId, PostId) {
    let store = app.store.as_ref();
    let mentor = directory::person_record(store, demo::staff(demo::MENTOR_4A))
        .await
        .unwrap()
        .expect("the demo mentor");
    let file = skolnav_tests::uploaded_pdf(
        store,
        &app.files,
        app.clock.as_ref(),
        &mentor,
        "Veckobrev.pdf",
    )
    .await
    .unwrap();
    let published = blog::publish(
        store,
        app.files.as_ref(),
        app.clock.as_ref(),
        &mentor,
        &skolnav_tests::families_of(demo::class(1)),
        blog::PostText {
            title: "Veckobrev".into(),
            body: "Se bifogat.".into(),
        },
        &[file],
    )
    .await
    .unwrap();
    (file, published.post.id)
}

async fn a_guardian_of_another_class_is_refused_a_file_before_the_post_is_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (file, post) = file_on_a_4a_post(&app).await;
    let event = skolnav_tests::sample_event("files-download")
        .replace("01JD0000000000000000000F01", &file.to_string());
    let file_read = format!("get {}", keys::file(file).pk);

    let guardian = demo::guardian(1);
    let (status, body, reads) = reads_of_event(&app, "files-download", guardian, &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reads,
        [
            caller(guardian),
            file_read.clone(),
            format!("get {}", keys::blog_post(demo::class(1), post).pk),
        ],
        "the caller, the file, then the post"
    );

    // 4B's guardian is refused on their own record (their child is not in
    // 4A): the post, its title and who it reached, is never read for them.
    let other = demo::guardian(21);
    let (status, _, reads) = reads_of_event(&app, "files-download", other, &event).await;
    assert_eq!(status, 404);
    assert_eq!(reads, [caller(other), file_read]);
}

/// The mentor of 4A creates half-hour talks on `date` through the HTTP
/// surface; the ids of the slots, by start.
async fn talk_times(app: &TestApp, start: &str, end: &str, date: &str) -> Vec<String> {
    let body = serde_json::json!({
        "days": [{ "date": date, "start": start, "end": end, "talkMinutes": 30 }],
        "place": "Klassrum 4A",
        "bookingDeadline": "2026-11-30"
    });
    let path = format!("/groups/{}/talks", demo::class(1));
    let res = app.post(demo::staff(demo::MENTOR_4A), &path, body).await;
    assert_eq!(res.status, 201, "{}", res.json);
    res.json["slots"]
        .as_array()
        .map(|slots| {
            slots
                .iter()
                .filter_map(|s| s["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn creating_talk_times_reads_only_the_slots_they_could_overlap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Talks end at most four hours after they start, so times from 14:00
    // can only overlap slots that start from 10:00 on: 12:00 and 12:30
    // here, not the morning's nor those of a week later.
    talk_times(&app, "08:00", "10:00", "2026-12-02").await;
    let near = talk_times(&app, "12:00", "13:00", "2026-12-02").await;
    talk_times(&app, "14:00", "16:00", "2026-12-09").await;

    let (ctx, issuer, watched) = app.reading_ctx();
    let mentor = demo::staff(demo::MENTOR_4A);
    // The sample event: 14:00-16:00 on 2 December.
    let event = skolnav_tests::sample_event("talk-create");
    let (status, body) =
        skolnav_tests::invoke_event(&ctx, &issuer, "talk-create", mentor, &event).await;
    assert_eq!(status, 201, "{body}");
    let talks = keys::talks_partition(demo::class(1));
    assert_eq!(
        watched.watcher.taken(),
        [
            caller(mentor),
            format!("get {}", keys::group(demo::class(1)).pk),
            "get-many 1".into(),
            format!("query {talks}"),
        ],
        "the caller, the class, the schedule's version, then the slots"
    );
    let slots_read: Vec<String> = watched
        .watcher
        .answered_taken()
        .into_iter()
        .filter(|key| key.pk == talks)
        .filter_map(|key| {
            key.sk
                .strip_prefix(keys::TALK_SLOT_PREFIX)
                .map(str::to_string)
        })
        .collect();
    assert_eq!(slots_read, near);
}

async fn talk_times_that_cannot_be_created_are_refused_before_the_talks_are_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ctx, issuer, watched) = app.reading_ctx();
    let mentor = demo::staff(demo::MENTOR_4A);
    // The sample event, moved to a day in the past.
    let event = skolnav_tests::sample_event("talk-create").replace("2026-12-02", "2026-11-20");
    let (status, body) =
        skolnav_tests::invoke_event(&ctx, &issuer, "talk-create", mentor, &event).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["invalidParams"][0]["name"], "days[0].date");
    assert_eq!(
        watched.watcher.taken(),
        [
            caller(mentor),
            format!("get {}", keys::group(demo::class(1)).pk)
        ],
        "the caller and the class, to decide who may create; nothing of the talks"
    );
}

/// Guardian 1's guardianship of pupil 1 written again with `places`.
async fn guardianship_of_pupil_1_with(app: &TestApp, places: Option<ChildPlaces>) {
    let relation = Relation::GuardianOf {
        pupil_id: demo::pupil(1),
        places,
    };
    let item = relation.to_item(demo::guardian(1)).unwrap();
    app.store.put(&item, Condition::None).await.unwrap();
}

async fn a_guardianship_without_a_copy_of_the_childs_places_reads_the_childs_membership(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let lessons = format!("query {}", keys::lessons_of_group_partition(demo::class(1)));
    let guardian = demo::guardian(1);
    guardianship_of_pupil_1_with(&app, None).await;
    let (status, body, reads) = reads_of(&app, "lessons-group-day", guardian).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reads,
        [caller(guardian), "get-many 1".into(), lessons],
        "the caller, their child's membership, the lessons"
    );

    // The copy is what decides once there is one: one that says the child
    // is in no class closes 4A, though the child's membership is there.
    guardianship_of_pupil_1_with(&app, Some(ChildPlaces::default())).await;
    let (status, _, reads) = reads_of(&app, "lessons-group-day", guardian).await;
    assert_eq!(status, 404);
    assert_eq!(reads, [caller(guardian)]);
}

async fn a_teacher_reads_their_own_day_in_one_request_and_others_are_decided_on_their_record(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    let day = format!("query {}", keys::lessons_of_teacher_partition(teacher));

    // The sample event asks for the subject teacher's own day.
    let (status, body, reads) = reads_of(&app, "lessons-teacher-day", teacher).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reads,
        std::slice::from_ref(&day),
        "their own lessons, no record first"
    );

    // The principal reads it through their duty at the teacher's school.
    let principal = demo::staff(demo::PRINCIPAL);
    let (status, body, reads) = reads_of(&app, "lessons-teacher-day", principal).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(reads, [caller(principal), caller(teacher), day]);

    // A guardian is refused on the two records, before any lesson is read.
    let guardian = demo::guardian(1);
    let (status, _, reads) = reads_of(&app, "lessons-teacher-day", guardian).await;
    assert_eq!(status, 404);
    assert_eq!(reads, [caller(guardian), caller(teacher)]);
}

async fn a_teacher_lists_their_unreported_lessons_without_their_record_being_read(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let friday = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    demo::seed_lessons(app.store.as_ref(), friday)
        .await
        .expect("lessons");
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    let (status, body, reads) = reads_of(&app, "lessons-unreported", teacher).await;
    assert_eq!(status, 200, "{body}");
    let due = body["items"].as_array().map(Vec::len).unwrap_or_default();
    assert!(due > 0, "Friday's lessons are unreported: {body}");
    assert_eq!(
        reads,
        [
            format!("query {}", keys::lessons_of_teacher_partition(teacher)),
            format!("get-many {due}"),
        ],
        "their lessons, then whether each has a registration"
    );
}

async fn a_school_administrator_reads_the_sms_credit_without_the_school_being_read(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let school = format!("get {}", keys::school(demo::school()).pk);
    let admin = demo::staff(demo::ADMIN);
    let (status, body, reads) = reads_of(&app, "sms-credit-get", admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reads,
        [caller(admin), school.clone()],
        "the caller, whose duty names the school, then the credit"
    );

    // The organisation's administrator is decided on the school's
    // organisation: the school, then the credit beside it.
    let organisation_admin = demo::staff(demo::ORGANISATION_ADMIN);
    let (status, body, reads) = reads_of(&app, "sms-credit-get", organisation_admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        reads,
        [caller(organisation_admin), school.clone(), school.clone()]
    );

    // Other staff of the school: 403 on the school, the credit not read.
    let mentor = demo::staff(demo::MENTOR_4A);
    let (status, _, reads) = reads_of(&app, "sms-credit-get", mentor).await;
    assert_eq!(status, 403);
    assert_eq!(reads, [caller(mentor), school]);
}

async fn a_calendar_feed_reads_each_childs_record_and_booked_talks_in_one_query(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let guardian = demo::guardian(1);
    let slot = talk_times(&app, "14:00", "15:00", "2026-12-02").await[0].clone();
    let booked = app
        .post(
            guardian,
            &format!("/pupils/{}/talk-bookings", demo::pupil(1)),
            serde_json::json!({ "slotId": slot }),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.json);
    let made = app
        .post(guardian, "/me/calendar-feed", serde_json::json!({}))
        .await;
    assert_eq!(made.status, 201, "{}", made.json);
    let token = made.json["path"]
        .as_str()
        .and_then(|p| p.strip_prefix("/calendar/feeds/"))
        .expect("the feed's path");

    let (ctx, _, watched) = app.reading_ctx();
    let event =
        skolnav_tests::sample_event("calendar-feed").replace("REPLACED-BY-FEED-TOKEN", token);
    let req = lambda_http::request::from_str(&event).expect("events/calendar-feed.json");
    let res = skolnav_tests::handle(&ctx, "calendar-feed", req).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let child = directory::person(app.store.as_ref(), demo::pupil(1))
        .await
        .unwrap()
        .expect("pupil 1");
    let talk = format!("SUMMARY:Utvecklingssamtal: {}", child.given_name);
    assert!(
        res.text.contains(&talk),
        "the booked talk, named: {}",
        res.text
    );

    let reads = watched.watcher.taken();
    let of_child = format!("query {}", keys::person_partition(demo::pupil(1)));
    assert_eq!(
        reads.iter().filter(|r| **r == of_child).count(),
        1,
        "the child's record and bookings in one query: {reads:?}"
    );
    assert_eq!(
        reads.len(),
        5,
        "the feed's entry, the holder's record, the child, 4A's and the school's calendars: {reads:?}"
    );
}

on_both_stores!(
    a_calendar_feed_reads_each_childs_record_and_booked_talks_in_one_query,
    a_teacher_reads_their_own_day_in_one_request_and_others_are_decided_on_their_record,
    a_teacher_lists_their_unreported_lessons_without_their_record_being_read,
    a_school_administrator_reads_the_sms_credit_without_the_school_being_read,
    a_guardianship_without_a_copy_of_the_childs_places_reads_the_childs_membership,
    creating_talk_times_reads_only_the_slots_they_could_overlap,
    talk_times_that_cannot_be_created_are_refused_before_the_talks_are_read,
    a_guardian_of_another_class_is_refused_a_file_before_the_post_is_read,
    a_mentor_reads_a_lessons_attendance_in_five_requests,
    a_guardian_reads_a_class_day_of_lessons_in_two_requests,
    a_guardian_reads_the_talk_slots_in_two_requests,
    a_guardian_lists_their_childs_reports_without_the_child_being_read,
);
