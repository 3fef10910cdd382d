//! A4 read use cases: a teacher's day and a group's day, through HTTP and
//! at the domain (to count requests), on both stores. The lessons are the
//! demo school's (`demo::lessons`) on the tests' school day.

use skolnav::demo;
use skolnav::directory;
use skolnav::ids::{GroupId, PersonId};
use skolnav::lessons;
use skolnav::store::StoreError;
use skolnav_tests::{Backend, Reading, TestApp, Watched, Watcher, Writing};
use std::sync::atomic::{AtomicU64, Ordering};

const DAY: &str = "2026-11-23";

fn day() -> chrono::NaiveDate {
    DAY.parse().unwrap()
}

async fn app(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    demo::seed_lessons(app.store.as_ref(), day()).await.unwrap();
    // The next day has lessons too; they must not show.
    demo::seed_lessons(app.store.as_ref(), day().succ_opt().unwrap())
        .await
        .unwrap();
    app
}

fn titles(json: &serde_json::Value) -> Vec<String> {
    json["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|l| l["title"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Counts read requests by kind.
#[derive(Default)]
struct Requests {
    queries: AtomicU64,
    others: AtomicU64,
}

impl Watcher for Requests {
    fn writing(&self, _write: Writing<'_>) -> Result<(), StoreError> {
        Ok(())
    }
    fn reading(&self, read: Reading<'_>) {
        match read {
            Reading::Query(_) => self.queries.fetch_add(1, Ordering::SeqCst),
            _ => self.others.fetch_add(1, Ordering::SeqCst),
        };
    }
}

async fn a_teachers_own_day_is_one_query_and_holds_only_their_lessons(backend: Backend) {
    let app = app(backend).await;
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    let res = app
        .get(teacher, &format!("/teachers/{teacher}/lessons?date={DAY}"))
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    assert_eq!(res.json["date"], DAY);
    assert_eq!(titles(&res.json), ["Matematik 4A", "Idrott 4AB"]);
    let first = &res.json["items"][0];
    assert_eq!(first["start"], "2026-11-23T09:10:00+01:00");
    assert_eq!(first["minutes"], 45);

    let store = Watched::new(app.store.clone(), Requests::default());
    let caller = directory::person_record(app.store.as_ref(), teacher)
        .await
        .unwrap()
        .unwrap();
    let view = lessons::teacher_day(&store, &caller, teacher, day())
        .await
        .unwrap();
    assert_eq!(view.items.len(), 2);
    assert!(view.items.iter().all(|l| l.teacher_ids.contains(&teacher)));
    assert_eq!(store.watcher.queries.load(Ordering::SeqCst), 1);
    assert_eq!(store.watcher.others.load(Ordering::SeqCst), 0);
}

async fn a_groups_day_is_one_query_after_the_group(backend: Backend) {
    let app = app(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let res = app
        .get(
            mentor,
            &format!("/groups/{}/lessons?date={DAY}", demo::class(1)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    assert_eq!(
        titles(&res.json),
        ["Svenska 4A", "Matematik 4A", "Idrott 4AB"]
    );
    // Staff see every pupil's exception, with the pupil's own minutes.
    let exceptions = &res.json["items"][0]["pupilExceptions"];
    assert_eq!(exceptions.as_array().map(Vec::len), Some(2), "{exceptions}");
    assert_eq!(exceptions[0]["minutes"], 25);
    assert_eq!(exceptions[1]["minutes"], 0);

    let store = Watched::new(app.store.clone(), Requests::default());
    let caller = directory::person_record(app.store.as_ref(), mentor)
        .await
        .unwrap()
        .unwrap();
    lessons::group_day(&store, &caller, demo::class(1), day())
        .await
        .unwrap();
    assert_eq!(store.watcher.queries.load(Ordering::SeqCst), 1);
    assert_eq!(
        store.watcher.others.load(Ordering::SeqCst),
        1,
        "the group item, for its school"
    );
}

async fn a_guardian_of_a_pupil_in_group_a_cannot_read_group_bs_day(backend: Backend) {
    let app = app(backend).await;
    let guardian = demo::guardian(1);
    let own = app
        .get(
            guardian,
            &format!("/groups/{}/lessons?date={DAY}", demo::class(1)),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.json);
    // Only their own child's exception, never another child's.
    let exceptions = &own.json["items"][0]["pupilExceptions"];
    assert_eq!(exceptions.as_array().map(Vec::len), Some(1), "{exceptions}");
    assert_eq!(exceptions[0]["pupilId"], demo::pupil(1).to_string());
    assert!(!own.json.to_string().contains(&demo::pupil(2).to_string()));

    let other = app
        .get(
            guardian,
            &format!("/groups/{}/lessons?date={DAY}", demo::class(2)),
        )
        .await;
    assert_eq!(other.status, 404, "{}", other.json);
    assert!(!other.json.to_string().contains("Svenska 4B"));
    let unknown = app
        .get(
            guardian,
            &format!("/groups/{}/lessons?date={DAY}", GroupId::generate()),
        )
        .await;
    assert_eq!(unknown.status, 404, "an unknown group looks the same");
}

async fn a_pupil_sees_their_groups_day_with_only_their_own_exception(backend: Backend) {
    let app = app(backend).await;
    let res = app
        .get(
            demo::pupil(2),
            &format!("/groups/{}/lessons?date={DAY}", demo::class(1)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    let exceptions = &res.json["items"][0]["pupilExceptions"];
    assert_eq!(exceptions.as_array().map(Vec::len), Some(1));
    assert_eq!(exceptions[0]["pupilId"], demo::pupil(2).to_string());
    assert_eq!(exceptions[0]["participates"], false);
}

async fn a_leader_reads_a_teachers_day_and_a_colleague_may_not(backend: Backend) {
    let app = app(backend).await;
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    let path = format!("/teachers/{teacher}/lessons?date={DAY}");
    let principal = app.get(demo::staff(demo::PRINCIPAL), &path).await;
    assert_eq!(principal.status, 200);
    assert_eq!(titles(&principal.json), ["Matematik 4A", "Idrott 4AB"]);
    let colleague = app.get(demo::staff(demo::MENTOR_4B), &path).await;
    assert_eq!(colleague.status, 403);
    let elsewhere = app.get(demo::staff(demo::OTHER_SCHOOL_ADMIN), &path).await;
    assert_eq!(elsewhere.status, 404);
    let stranger = app
        .get(
            demo::staff(demo::PRINCIPAL),
            &format!("/teachers/{}/lessons?date={DAY}", PersonId::generate()),
        )
        .await;
    assert_eq!(stranger.status, 404);
}

async fn a_bad_date_or_id_is_a_400_naming_the_field(backend: Backend) {
    let app = app(backend).await;
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    for (path, field) in [
        (
            format!("/teachers/{teacher}/lessons?date=2026-13-01"),
            "date",
        ),
        (
            format!("/groups/{}/lessons?date=imorgon", demo::class(1)),
            "date",
        ),
        ("/teachers/not-an-id/lessons".to_string(), "personId"),
        ("/groups/../lessons".to_string(), "groupId"),
    ] {
        let res = app.get(teacher, &path).await;
        if res.status == 404 && field == "groupId" {
            // A path that does not match the route at all.
            continue;
        }
        assert_eq!(res.status, 400, "{path}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(res.json["invalidParams"][0]["name"], field, "{}", res.json);
    }
}

async fn without_a_date_the_day_is_today_in_sweden(backend: Backend) {
    let app = app(backend).await;
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    let res = app
        .get(teacher, &format!("/teachers/{teacher}/lessons"))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["date"], DAY);
    assert_eq!(titles(&res.json).len(), 2);
}

on_both_stores!(
    a_teachers_own_day_is_one_query_and_holds_only_their_lessons,
    a_groups_day_is_one_query_after_the_group,
    a_guardian_of_a_pupil_in_group_a_cannot_read_group_bs_day,
    a_pupil_sees_their_groups_day_with_only_their_own_exception,
    a_leader_reads_a_teachers_day_and_a_colleague_may_not,
    a_bad_date_or_id_is_a_400_naming_the_field,
    without_a_date_the_day_is_today_in_sweden,
);
