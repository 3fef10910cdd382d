//! C3 through the local server's HTTP surface, on the embedded store and
//! on DynamoDB Local: principals and school admins publish news to their
//! school or its groups, now or at a set time; families read what is
//! addressed to them once it is published, and hear of it once.

use chrono::Duration;
use serde_json::{Value, json};
use skolnav::clock::Clock;
use skolnav::demo;
use skolnav::ids::GroupId;
use skolnav_tests::{Backend, TestApp};

const NEWS: &str = "/news";

fn school_news() -> String {
    format!("/schools/{}/news", demo::school())
}

fn group_news(group: GroupId) -> String {
    format!("/groups/{group}/news")
}

fn to_school(pupils: bool, guardians: bool) -> Value {
    json!({ "school": { "schoolId": demo::school().to_string(), "pupils": pupils, "guardians": guardians } })
}

fn item(audience: Value, title: &str) -> Value {
    json!({ "audience": audience, "title": title, "body": "Läs mer på **skolans** anslagstavla." })
}

async fn drain(app: &TestApp) {
    for _ in 0..3 {
        app.deliver_outbox().await;
    }
}

async fn families_read_what_is_addressed_to_them_and_hear_of_it_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let principal = demo::staff(demo::PRINCIPAL);
    let res = app
        .post(principal, NEWS, item(to_school(true, true), "Skolfoto"))
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    assert_eq!(res.json["news"]["published"], true);
    let res = app
        .post(
            demo::staff(demo::ADMIN),
            NEWS,
            item(to_school(false, true), "Föräldramöte"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let to_4b = json!({ "groups": [{ "groupId": demo::class(2).to_string() }] });
    let res = app.post(principal, NEWS, item(to_4b, "Bara 4B")).await;
    assert_eq!(res.status, 201, "{}", res.json);
    drain(&app).await;

    assert_eq!(
        app.get(demo::guardian(1), &school_news())
            .await
            .item_titles(),
        ["Föräldramöte", "Skolfoto"],
        "newest first"
    );
    assert_eq!(
        app.get(demo::pupil(1), &school_news()).await.item_titles(),
        ["Skolfoto"]
    );
    let staff = app
        .get(demo::staff(demo::SUBJECT_TEACHER), &school_news())
        .await;
    assert_eq!(staff.item_titles(), ["Föräldramöte", "Skolfoto"]);
    assert_eq!(
        app.get(demo::guardian(41), &school_news()).await.status,
        404
    );
    // Group news: 4B's families, not 4A's.
    assert_eq!(
        app.get(demo::guardian(21), &group_news(demo::class(2)))
            .await
            .item_titles(),
        ["Bara 4B"]
    );
    let other = app
        .get(demo::guardian(1), &group_news(demo::class(2)))
        .await;
    assert_eq!(other.status, 404, "{}", other.json);

    let mut heard = app.notice_titles(demo::guardian(1)).await;
    heard.sort();
    assert_eq!(heard, ["Föräldramöte", "Skolfoto"]);
    assert_eq!(app.notice_titles(demo::pupil(1)).await, ["Skolfoto"]);
    let mut heard_4b = app.notice_titles(demo::guardian(21)).await;
    heard_4b.sort();
    assert_eq!(heard_4b, ["Bara 4B", "Föräldramöte", "Skolfoto"]);
    assert!(app.notice_titles(demo::guardian(41)).await.is_empty());
    assert!(app.notice_titles(principal).await.is_empty());
    let mut to: Vec<(String, String)> = app
        .mailer
        .sent()
        .into_iter()
        .map(|m| (m.to, m.subject))
        .collect();
    let all = to.len();
    to.sort();
    to.dedup();
    assert_eq!(all, to.len(), "no address gets the same news twice");
}

async fn scheduled_news_shows_and_notifies_only_when_its_time_comes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let principal = demo::staff(demo::PRINCIPAL);
    let at = app.clock.now() + Duration::hours(2);
    let mut body = item(to_school(true, true), "Lucia");
    body["publishAt"] = json!(at.to_rfc3339());
    let res = app.post(principal, NEWS, body).await;
    assert_eq!(res.status, 201, "{}", res.json);
    assert_eq!(res.json["news"]["published"], false);
    drain(&app).await;
    let released = skolnav::news::release_due(app.store.as_ref(), app.clock.as_ref())
        .await
        .unwrap();
    assert_eq!(released.released, 0, "not yet");
    assert!(
        app.get(demo::guardian(1), &school_news())
            .await
            .item_titles()
            .is_empty()
    );
    assert!(app.notice_titles(demo::guardian(1)).await.is_empty());
    // Its staff see it coming.
    let staff = app.get(demo::staff(demo::ADMIN), &school_news()).await;
    assert_eq!(staff.item_titles(), ["Lucia"]);
    assert_eq!(staff.json["items"][0]["published"], false);

    app.clock.set(at + Duration::minutes(1));
    assert_eq!(
        app.get(demo::guardian(1), &school_news())
            .await
            .item_titles(),
        ["Lucia"]
    );
    // Two release runs (overlapping schedules): the notices go out once.
    let first = skolnav::news::release_due(app.store.as_ref(), app.clock.as_ref())
        .await
        .unwrap();
    let second = skolnav::news::release_due(app.store.as_ref(), app.clock.as_ref())
        .await
        .unwrap();
    assert_eq!((first.released, second.released), (1, 0));
    drain(&app).await;
    assert_eq!(app.notice_titles(demo::guardian(1)).await, ["Lucia"]);
    assert_eq!(app.notice_titles(demo::pupil(40)).await, ["Lucia"]);
}

async fn only_school_leaders_publish_news_and_bad_input_names_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let to_4a = json!({ "groups": [{ "groupId": demo::class(1).to_string() }] });
    // A mentor posts to their class through the blog, not as news.
    let res = app
        .post(demo::staff(demo::MENTOR_4A), NEWS, item(to_4a.clone(), "x"))
        .await;
    assert_eq!(res.status, 403, "{}", res.json);
    assert_eq!(
        res.json["invalidParams"][0]["name"],
        "audience.groups[0].groupId"
    );
    let res = app
        .post(
            demo::staff(demo::MENTOR_4A),
            NEWS,
            item(to_school(true, true), "x"),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.json);
    assert_eq!(
        app.post(demo::guardian(1), NEWS, item(to_school(true, true), "x"))
            .await
            .status,
        403
    );
    let res = app
        .post(
            demo::staff(demo::OTHER_SCHOOL_ADMIN),
            NEWS,
            item(to_school(true, true), "x"),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.json);

    let principal = demo::staff(demo::PRINCIPAL);
    let mut far = item(to_school(true, true), "x");
    far["publishAt"] = json!("2028-01-01T08:00:00Z");
    let mut bad_time = item(to_school(true, true), "x");
    bad_time["publishAt"] = json!("i morgon");
    let staff_only = item(
        json!({ "schoolStaff": { "schoolId": demo::school().to_string() } }),
        "x",
    );
    let cases = [
        (item(to_school(true, true), " "), "title"),
        (
            json!({ "audience": to_school(true, true), "title": "x", "body": "" }),
            "body",
        ),
        (far, "publishAt"),
        (bad_time, "publishAt"),
        (staff_only, "audience"),
        (item(to_school(false, false), "x"), "audience.school"),
    ];
    for (body, field) in cases {
        let res = app.post(principal, NEWS, body.clone()).await;
        assert!(matches!(res.status, 400 | 422), "{body}: {}", res.json);
        assert_eq!(
            res.json["invalidParams"][0]["name"], field,
            "{body}: {}",
            res.json
        );
    }
    assert!(
        app.get(principal, &school_news())
            .await
            .item_titles()
            .is_empty(),
        "nothing written"
    );
}

async fn news_to_a_grade_year_reaches_only_its_pupils_and_their_guardians(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.put_4b_in_grade_5().await;
    let to_grade_5 = json!({ "gradeYears": {
        "schoolId": demo::school().to_string(), "years": [5]
    } });
    let res = app
        .post(
            demo::staff(demo::PRINCIPAL),
            NEWS,
            item(to_grade_5, "Lägerskola åk 5"),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    assert_eq!(res.json["news"]["gradeYears"], json!([5]), "{}", res.json);
    drain(&app).await;

    for (who, sees) in [
        (demo::pupil(21), true),
        (demo::guardian(21), true),
        (demo::guardian(70), true),
        (demo::pupil(1), false),
        (demo::guardian(1), false),
        (demo::staff(demo::MENTOR_4A), true),
    ] {
        let feed = app.get(who, &school_news()).await;
        assert_eq!(feed.status, 200, "{who}: {}", feed.json);
        assert_eq!(
            feed.item_titles().contains(&"Lägerskola åk 5".to_string()),
            sees,
            "{who}: {}",
            feed.json
        );
        let notices = app.get(who, "/me/notices").await;
        let noticed = notices.json["items"].as_array().map(Vec::len).unwrap_or(0);
        if who != demo::staff(demo::MENTOR_4A) {
            assert_eq!(noticed, usize::from(sees), "{who}: {}", notices.json);
        }
    }
}

on_both_stores!(
    news_to_a_grade_year_reaches_only_its_pupils_and_their_guardians,
    families_read_what_is_addressed_to_them_and_hear_of_it_once,
    scheduled_news_shows_and_notifies_only_when_its_time_comes,
    only_school_leaders_publish_news_and_bad_input_names_the_field,
);
