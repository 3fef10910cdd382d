//! C1 through the local server's HTTP surface, on the embedded store and
//! on DynamoDB Local: staff put events in the calendars of groups, of a
//! school or of its staff; pupils and guardians see exactly what is
//! addressed to them, and never a staff-only event.

use serde_json::{Value, json};
use skolnav::demo;
use skolnav::ids::{GroupId, PersonId, SchoolId};
use skolnav_tests::{Backend, TestApp, TestResponse};

const EVENTS: &str = "/calendar/events";
const RANGE: &str = "from=2026-11-23&to=2026-12-31";

fn to_group(group: GroupId) -> Value {
    json!({ "groups": [{ "groupId": group.to_string() }] })
}

fn to_school(school: SchoolId, pupils: bool, guardians: bool) -> Value {
    json!({ "school": { "schoolId": school.to_string(), "pupils": pupils, "guardians": guardians } })
}

fn to_staff(school: SchoolId) -> Value {
    json!({ "schoolStaff": { "schoolId": school.to_string() } })
}

fn event(audience: Value, title: &str) -> Value {
    json!({
        "audience": audience,
        "title": title,
        "description": "Ta med matsäck.",
        "subject": "Idrott",
        "start": "2026-11-25T09:00:00",
        "end": "2026-11-25T11:30:00",
    })
}

async fn create(app: &TestApp, who: PersonId, body: Value) -> TestResponse {
    let res = app.post(who, EVENTS, body).await;
    assert_eq!(res.status, 201, "{}", res.json);
    res
}

fn titles(res: &TestResponse) -> Vec<String> {
    let mut t = res.item_titles();
    t.sort();
    t
}

async fn school_titles(app: &TestApp, who: PersonId) -> TestResponse {
    app.get(
        who,
        &format!("/schools/{}/calendar?{RANGE}", demo::school()),
    )
    .await
}

async fn a_pupil_or_a_guardian_never_sees_a_staff_only_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let principal = demo::staff(demo::PRINCIPAL);
    let school = demo::school();
    create(&app, principal, event(to_staff(school), "Personalmöte")).await;
    create(
        &app,
        principal,
        event(to_school(school, true, true), "Skolavslutning"),
    )
    .await;
    create(
        &app,
        principal,
        event(to_school(school, false, true), "Föräldramöte"),
    )
    .await;
    create(
        &app,
        principal,
        event(to_school(school, true, false), "Friluftsdag"),
    )
    .await;

    let staff = school_titles(&app, demo::staff(demo::SUBJECT_TEACHER)).await;
    assert_eq!(staff.status, 200, "{}", staff.json);
    assert_eq!(
        titles(&staff),
        [
            "Friluftsdag",
            "Föräldramöte",
            "Personalmöte",
            "Skolavslutning"
        ]
    );
    let pupil = school_titles(&app, demo::pupil(1)).await;
    assert_eq!(pupil.status, 200, "{}", pupil.json);
    assert_eq!(titles(&pupil), ["Friluftsdag", "Skolavslutning"]);
    let guardian = school_titles(&app, demo::guardian(1)).await;
    assert_eq!(guardian.status, 200, "{}", guardian.json);
    assert_eq!(titles(&guardian), ["Föräldramöte", "Skolavslutning"]);
    for res in [&pupil, &guardian] {
        assert!(!res.json.to_string().contains("Personalmöte"));
    }
    // A family of another school does not learn the calendar exists.
    let other = school_titles(&app, demo::guardian(41)).await;
    assert_eq!(other.status, 404, "{}", other.json);
    // A pupil cannot address anyone; a teacher cannot address the staff.
    let res = app
        .post(demo::pupil(1), EVENTS, event(to_staff(school), "x"))
        .await;
    assert_eq!(res.status, 403, "{}", res.json);
    let res = app
        .post(
            demo::staff(demo::SUBJECT_TEACHER),
            EVENTS,
            event(to_staff(school), "x"),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.json);
    assert_eq!(
        res.json["invalidParams"][0]["name"],
        "audience.schoolStaff.schoolId"
    );
}

async fn a_guardian_of_group_a_never_sees_group_b_events_and_hears_of_their_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, b) = (demo::class(1), demo::class(2));
    let to_a = create(
        &app,
        demo::staff(demo::MENTOR_4A),
        event(to_group(a), "Utflykt 4A"),
    )
    .await;
    assert_eq!(to_a.status, 201, "{}", to_a.json);
    assert_eq!(to_a.json["calendars"], 1, "{}", to_a.json);
    create(
        &app,
        demo::staff(demo::MENTOR_4B),
        event(to_group(b), "Utflykt 4B"),
    )
    .await;
    app.deliver_outbox().await;

    let own = app
        .get(demo::guardian(1), &format!("/groups/{a}/calendar?{RANGE}"))
        .await;
    assert_eq!(own.status, 200, "{}", own.json);
    assert_eq!(titles(&own), ["Utflykt 4A"]);
    let other = app
        .get(demo::guardian(1), &format!("/groups/{b}/calendar?{RANGE}"))
        .await;
    assert_eq!(other.status, 404, "{}", other.json);
    assert!(!other.json.to_string().contains("Utflykt 4B"));

    assert_eq!(app.notice_titles(demo::guardian(1)).await, ["Utflykt 4A"]);
    assert!(
        app.mailer
            .sent()
            .iter()
            .any(|m| m.subject == "Ny händelse i kalendern: Utflykt 4A"),
        "guardians who want school mail are mailed"
    );
    // A mentor may not put events in another class's calendar.
    let res = app
        .post(
            demo::staff(demo::MENTOR_4A),
            EVENTS,
            event(to_group(b), "x"),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.json);
}

async fn a_weekly_series_shows_in_every_range_it_reaches_and_no_later(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = demo::class(1);
    let mut body = event(to_group(a), "Simning");
    body["repeat"] = json!({ "every": "week", "until": "2026-12-16" });
    create(&app, demo::staff(demo::MENTOR_4A), body).await;
    let mut all_day = event(to_group(a), "Jullov");
    all_day.as_object_mut().unwrap().remove("start");
    all_day.as_object_mut().unwrap().remove("end");
    all_day["allDay"] = json!({ "firstDay": "2026-12-21", "lastDay": "2027-01-06" });
    create(&app, demo::staff(demo::MENTOR_4A), all_day).await;

    let read = |range: &'static str| {
        let app = &app;
        async move {
            let res = app
                .get(demo::pupil(1), &format!("/groups/{a}/calendar?{range}"))
                .await;
            assert_eq!(res.status, 200, "{}", res.json);
            titles(&res)
        }
    };
    assert_eq!(read("from=2026-12-09&to=2026-12-09").await, ["Simning"]);
    assert_eq!(
        read("from=2026-12-17&to=2026-12-20").await,
        Vec::<String>::new()
    );
    assert_eq!(read("from=2027-01-02&to=2027-01-31").await, ["Jullov"]);
    assert_eq!(
        read("from=2026-12-14&to=2026-12-22").await,
        ["Jullov", "Simning"]
    );
}

async fn bad_event_input_gets_a_problem_naming_the_field_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let a = demo::class(1);
    let mut no_start = event(to_group(a), "x");
    no_start.as_object_mut().unwrap().remove("start");
    let mut backwards = event(to_group(a), "x");
    backwards["end"] = json!("2026-11-25T08:00:00");
    let mut endless = event(to_group(a), "x");
    endless["repeat"] = json!({ "every": "week", "until": "2028-06-01" });
    let mut monthly = event(to_group(a), "x");
    monthly["repeat"] = json!({ "every": "month", "until": "2026-12-01" });
    let mut bad_time = event(to_group(a), "x");
    bad_time["start"] = json!("25/11 09:00");
    let grade_years = event(
        json!({ "gradeYears": { "schoolId": demo::school().to_string(), "years": [4] } }),
        "x",
    );
    let cases = [
        (no_start, "start"),
        (backwards, "end"),
        (endless, "repeat.until"),
        (monthly, "repeat.every"),
        (bad_time, "start"),
        (event(to_group(a), "  "), "title"),
        (grade_years, "audience"),
    ];
    for (body, field) in cases {
        let res = app.post(mentor, EVENTS, body.clone()).await;
        assert!(
            matches!(res.status, 400 | 403 | 422),
            "{body}: {}",
            res.json
        );
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(
            res.json["invalidParams"][0]["name"], field,
            "{body}: {}",
            res.json
        );
    }
    let res = app
        .get(
            mentor,
            &format!("/groups/{a}/calendar?from=2026-12-01&to=2026-11-01"),
        )
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json["invalidParams"][0]["name"], "to");
    let res = app
        .get(mentor, &format!("/groups/{a}/calendar?from=tomorrow"))
        .await;
    assert_eq!(res.json["invalidParams"][0]["name"], "from");
    let res = app
        .get(mentor, &format!("/groups/{a}/calendar?{RANGE}"))
        .await;
    assert!(titles(&res).is_empty(), "nothing was written: {}", res.json);
}

async fn a_school_event_reaches_each_family_of_the_school_once_through_the_outbox(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let principal = demo::staff(demo::PRINCIPAL);
    let res = create(
        &app,
        principal,
        event(to_school(demo::school(), true, true), "Skolavslutning"),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.json);
    assert!(res.json.get("notified").is_none(), "{}", res.json);

    // The expansion, delivered twice (a replayed stream record), writes
    // each batch once.
    let pending = skolnav::outbox::pending(app.store.as_ref(), 100)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1, "one item to expand");
    let item = app
        .store
        .get(&skolnav::keys::outbox(pending[0]))
        .await
        .unwrap()
        .unwrap();
    for _ in 0..2 {
        skolnav::notices::expand(
            app.store.as_ref(),
            skolnav_tests::school_morning(),
            item.clone(),
        )
        .await
        .unwrap();
    }
    let batches = skolnav::outbox::pending(app.store.as_ref(), 100)
        .await
        .unwrap();
    // 40 pupils and 60 guardians of Solrosskolan: two batches of 50.
    assert_eq!(batches.len(), 2);
    app.deliver_outbox().await;
    app.deliver_outbox().await;
    assert!(
        skolnav::outbox::pending(app.store.as_ref(), 100)
            .await
            .unwrap()
            .is_empty()
    );

    for who in [
        demo::guardian(1),
        demo::guardian(21),
        demo::guardian(70),
        demo::pupil(1),
        demo::pupil(40),
    ] {
        let notices = app.get(who, "/me/notices").await;
        assert_eq!(
            notices.json["items"].as_array().map(Vec::len),
            Some(1),
            "{who}: {}",
            notices.json
        );
    }
    for who in [demo::guardian(41), principal] {
        let notices = app.get(who, "/me/notices").await;
        assert_eq!(
            notices.json["items"].as_array().map(Vec::len),
            Some(0),
            "{who}"
        );
    }
    let mut to: Vec<String> = app.mailer.sent().into_iter().map(|m| m.to).collect();
    let all = to.len();
    to.sort();
    to.dedup();
    assert_eq!(all, to.len(), "each address once");
    assert!(all > 20, "the families were mailed: {all}");
}

async fn send_reminders(app: &TestApp) -> skolnav::reminders::Summary {
    skolnav::reminders::send_day_before(app.store.as_ref(), app.clock.as_ref())
        .await
        .unwrap()
}

/// The event reminders a person has, as "title day", sorted.
async fn reminded(app: &TestApp, who: PersonId) -> Vec<String> {
    let res = app.get(who, "/me/notices").await;
    let mut titles: Vec<String> = res.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["subject"]["kind"] == "eventReminder")
        .map(|n| {
            format!(
                "{} {}",
                n["subject"]["title"].as_str().unwrap_or_default(),
                n["subject"]["day"].as_str().unwrap_or_default()
            )
        })
        .collect();
    titles.sort();
    titles
}

async fn a_reminder_reaches_the_families_the_day_before_each_time_and_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let a = demo::class(1);
    let mut trip = event(to_group(a), "Utflykt");
    trip["reminder"] = json!(true);
    create(&app, mentor, trip).await;
    let mut swim = event(to_group(a), "Simning");
    swim["start"] = json!("2026-11-26T13:00:00");
    swim["end"] = json!("2026-11-26T14:00:00");
    swim["repeat"] = json!({ "every": "week", "until": "2026-12-10" });
    swim["reminder"] = json!(true);
    create(&app, mentor, swim).await;
    app.deliver_outbox().await;
    // Monday the 23rd: nothing happens tomorrow.
    assert_eq!(send_reminders(&app).await.sent, 0);
    // Tuesday: the trip is tomorrow; twice run, once sent.
    app.clock
        .set(skolnav_tests::school_morning() + chrono::Duration::days(1));
    assert_eq!(send_reminders(&app).await.sent, 1);
    assert_eq!(send_reminders(&app).await.already_sent, 1);
    for _ in 0..3 {
        app.deliver_outbox().await;
    }
    assert_eq!(
        reminded(&app, demo::guardian(1)).await,
        ["Utflykt 2026-11-25"]
    );
    assert_eq!(reminded(&app, demo::pupil(1)).await, ["Utflykt 2026-11-25"]);
    assert!(
        reminded(&app, demo::guardian(21)).await.is_empty(),
        "4B is not reminded"
    );
    assert!(
        app.mailer
            .sent()
            .iter()
            .any(|m| m.subject == "Påminnelse: Utflykt i morgon"),
        "families who want school mail are mailed"
    );
    // Wednesday 2 December: the swim of the 3rd, a later time of the series.
    app.clock
        .set(skolnav_tests::school_morning() + chrono::Duration::days(9));
    assert_eq!(send_reminders(&app).await.sent, 1);
    for _ in 0..3 {
        app.deliver_outbox().await;
    }
    assert_eq!(
        reminded(&app, demo::guardian(1)).await,
        ["Simning 2026-12-03", "Utflykt 2026-11-25"]
    );

    // A reminder of a staff-only event would reach no family.
    let mut staff = event(to_staff(demo::school()), "Personalmöte");
    staff["reminder"] = json!(true);
    let res = app.post(demo::staff(demo::PRINCIPAL), EVENTS, staff).await;
    assert_eq!(res.status, 400, "{}", res.json);
    assert_eq!(res.json["invalidParams"][0]["name"], "reminder");
}

/// GET without any Authorization, as a calendar app does: status,
/// content type and text.
async fn fetch(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .expect("GET");
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, res.text().await.unwrap_or_default())
}

async fn a_personal_feed_holds_what_its_holder_sees_until_it_is_replaced_or_revoked(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let principal = demo::staff(demo::PRINCIPAL);
    create(
        &app,
        demo::staff(demo::MENTOR_4A),
        event(to_group(demo::class(1)), "Utflykt 4A"),
    )
    .await;
    create(
        &app,
        demo::staff(demo::MENTOR_4B),
        event(to_group(demo::class(2)), "Utflykt 4B"),
    )
    .await;
    create(
        &app,
        principal,
        event(to_staff(demo::school()), "Personalmöte"),
    )
    .await;
    let mut swim = event(to_school(demo::school(), true, true), "Simning");
    swim["repeat"] = json!({ "every": "week", "until": "2026-12-16" });
    create(&app, principal, swim).await;

    let made = app
        .post(demo::guardian(1), "/me/calendar-feed", json!({}))
        .await;
    assert_eq!(made.status, 201, "{}", made.json);
    let path = made.json["path"].as_str().unwrap().to_string();
    let (status, kind, text) = fetch(&app, &path).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("text/calendar"), "{kind}");
    assert!(text.starts_with("BEGIN:VCALENDAR"), "{text}");
    assert!(text.contains("SUMMARY:Utflykt 4A"), "{text}");
    assert!(text.contains("SUMMARY:Simning"));
    assert!(text.contains("RRULE:FREQ=WEEKLY;UNTIL="));
    assert!(!text.contains("Utflykt 4B"), "another class's event");
    assert!(!text.contains("Personalmöte"), "a staff-only event");

    // A booked development talk of the guardian's child is in it too.
    let talks = app
        .post(
            demo::staff(demo::MENTOR_4A),
            &format!("/groups/{}/talks", demo::class(1)),
            json!({
                "days": [{ "date": "2026-12-02", "start": "14:00", "end": "15:00", "talkMinutes": 30, "breakMinutes": 0 }],
                "place": "Klassrum 4A",
                "bookingDeadline": "2026-11-30"
            }),
        )
        .await;
    assert_eq!(talks.status, 201, "{}", talks.json);
    let slot = talks.json["slots"][0]["id"].as_str().unwrap().to_string();
    let booked = app
        .post(
            demo::guardian(1),
            &format!("/pupils/{}/talk-bookings", demo::pupil(1)),
            json!({ "slotId": slot }),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.json);
    let (_, _, text) = fetch(&app, &path).await;
    assert!(text.contains("SUMMARY:Utvecklingssamtal: "), "{text}");
    assert!(text.contains("LOCATION:Klassrum 4A"), "{text}");
    assert!(
        text.contains("DTSTART:20261202T130000Z"),
        "14:00 in Stockholm: {text}"
    );

    // Staff get their staff events in theirs.
    let staff = app
        .post(
            demo::staff(demo::SUBJECT_TEACHER),
            "/me/calendar-feed",
            json!({}),
        )
        .await;
    let (_, _, staff_text) = fetch(&app, staff.json["path"].as_str().unwrap()).await;
    assert!(staff_text.contains("SUMMARY:Personalmöte"), "{staff_text}");

    // A new URL ends the old; revoking ends the new; a guessed one opens
    // nothing.
    let again = app
        .post(demo::guardian(1), "/me/calendar-feed", json!({}))
        .await;
    let new_path = again.json["path"].as_str().unwrap().to_string();
    assert_ne!(new_path, path);
    assert_eq!(fetch(&app, &path).await.0, 404);
    assert_eq!(fetch(&app, &new_path).await.0, 200);
    let revoked = app
        .delete(demo::guardian(1), "/me/calendar-feed", None)
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.json);
    assert_eq!(fetch(&app, &new_path).await.0, 404);
    assert_eq!(
        app.delete(demo::guardian(1), "/me/calendar-feed", None)
            .await
            .status,
        404
    );
    let guessed = format!("/calendar/feeds/{}", "A".repeat(43));
    assert_eq!(fetch(&app, &guessed).await.0, 404);
    assert_eq!(fetch(&app, "/calendar/feeds/not-a-token").await.0, 404);
}

async fn a_staff_event_notifies_the_schools_staff_and_no_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let principal = demo::staff(demo::PRINCIPAL);
    create(
        &app,
        principal,
        event(to_staff(demo::school()), "Personalmöte"),
    )
    .await;
    for _ in 0..3 {
        app.deliver_outbox().await;
    }
    let count = |who| {
        let app = &app;
        async move {
            app.get(who, "/me/notices").await.json["items"]
                .as_array()
                .map(Vec::len)
                .unwrap_or_default()
        }
    };
    for who in [
        demo::staff(demo::MENTOR_4A),
        demo::staff(demo::MENTOR_4B),
        demo::staff(demo::SUBJECT_TEACHER),
        demo::staff(demo::ADMIN),
    ] {
        assert_eq!(count(who).await, 1, "{who} works at Solrosskolan");
    }
    for who in [
        principal,
        demo::staff(demo::OTHER_SCHOOL_ADMIN),
        demo::guardian(1),
        demo::pupil(1),
    ] {
        assert_eq!(count(who).await, 0, "{who}");
    }
    let mut staff_addresses = Vec::new();
    for n in [
        demo::MENTOR_4A,
        demo::MENTOR_4B,
        demo::SUBJECT_TEACHER,
        demo::ADMIN,
    ] {
        let person = skolnav::directory::person(app.store.as_ref(), demo::staff(n))
            .await
            .unwrap()
            .unwrap();
        staff_addresses.extend(person.email);
    }
    let mut mailed: Vec<String> = app.mailer.sent().into_iter().map(|m| m.to).collect();
    mailed.sort();
    staff_addresses.sort();
    assert_eq!(mailed, staff_addresses, "the staff mailed, no family");
}

on_both_stores!(
    a_staff_event_notifies_the_schools_staff_and_no_family,
    a_personal_feed_holds_what_its_holder_sees_until_it_is_replaced_or_revoked,
    a_reminder_reaches_the_families_the_day_before_each_time_and_once,
    a_school_event_reaches_each_family_of_the_school_once_through_the_outbox,
    a_pupil_or_a_guardian_never_sees_a_staff_only_event,
    a_guardian_of_group_a_never_sees_group_b_events_and_hears_of_their_own,
    a_weekly_series_shows_in_every_range_it_reaches_and_no_later,
    bad_event_input_gets_a_problem_naming_the_field_and_writes_nothing,
);
