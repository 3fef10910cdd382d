//! E1 end to end through the local server's HTTP surface, on the embedded
//! store and on DynamoDB Local: staff create talk times, guardians book,
//! move and cancel, staff see who has booked. The guarantees of the issue
//! (one booking per slot under 100 concurrent families, a move never
//! holding two slots or losing one, idempotent retries) are here too.

use serde_json::{Value, json};
use skolnav::demo;
use skolnav::directory::{self, Language, Person, Relation};
use skolnav::ids::{PersonId, TalkRoundId};
use skolnav::keys;
use skolnav::store::Condition;
use skolnav_tests::{Backend, TestApp, TestResponse};

fn talks_path() -> String {
    format!("/groups/{}/talks", demo::class(1))
}

fn slots_path() -> String {
    format!("/groups/{}/talks/slots", demo::class(1))
}

fn bookings_path(pupil: PersonId) -> String {
    format!("/pupils/{pupil}/talk-bookings")
}

fn booking_path(pupil: PersonId, round: &str) -> String {
    format!("/pupils/{pupil}/talk-bookings/{round}")
}

fn afternoon() -> Value {
    json!({
        "days": [{ "date": "2026-12-02", "start": "14:00", "end": "16:00", "talkMinutes": 30 }],
        "place": "Klassrum 4A",
        "bookingDeadline": "2026-11-30"
    })
}

/// The mentor of 4A creates four half-hour talks; returns the round and
/// the slot ids in time order.
async fn create_afternoon(app: &TestApp) -> (String, Vec<String>) {
    let res = app
        .post(demo::staff(demo::MENTOR_4A), &talks_path(), afternoon())
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let round = res.json["round"]["id"].as_str().expect("round").to_string();
    let slots = res.json["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|s| s["id"].as_str().expect("slot id").to_string())
        .collect();
    (round, slots)
}

async fn book(app: &TestApp, guardian: PersonId, pupil: PersonId, slot: &str) -> TestResponse {
    app.post(guardian, &bookings_path(pupil), json!({ "slotId": slot }))
        .await
}

fn ids(res: &TestResponse, list: &str) -> Vec<String> {
    res.json[list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn staff_create_four_half_hour_talks_and_a_guardian_sees_them_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, slots) = create_afternoon(&app).await;
    assert_eq!(slots.len(), 4);
    let seen = app.get(demo::guardian(1), &slots_path()).await;
    assert_eq!(seen.status, 200, "{}", seen.json);
    assert_eq!(ids(&seen, "items"), slots, "in time order");
    assert_eq!(seen.json["items"][0]["start"], "2026-12-02T14:00:00+01:00");
    assert_eq!(seen.json["items"][3]["end"], "2026-12-02T16:00:00+01:00");
    assert_eq!(seen.json["items"][0]["place"], "Klassrum 4A");
}

async fn a_guardian_sees_the_slots_from_today_on_and_staff_every_slot(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, past) = create_afternoon(&app).await;
    // The next morning after those talks, a new round.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-12-03T08:00:00+01:00")
            .expect("a time")
            .to_utc(),
    );
    let next = json!({
        "days": [{ "date": "2026-12-04", "start": "14:00", "end": "16:00", "talkMinutes": 30 }],
        "place": "Klassrum 4A",
        "bookingDeadline": "2026-12-03"
    });
    let res = app
        .post(demo::staff(demo::MENTOR_4A), &talks_path(), next)
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let upcoming = ids(&res, "slots");

    let seen = app.get(demo::guardian(1), &slots_path()).await;
    assert_eq!(seen.status, 200, "{}", seen.json);
    assert_eq!(ids(&seen, "items"), upcoming, "the open slots from today");
    let seen = app.get(demo::staff(demo::MENTOR_4A), &slots_path()).await;
    assert_eq!(ids(&seen, "items"), [past, upcoming].concat());
}

async fn overlapping_zero_length_or_past_times_are_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let day = |date: &str, start: &str, end: &str, minutes: u32| json!({ "date": date, "start": start, "end": end, "talkMinutes": minutes });
    let with_days = |days: Vec<Value>| json!({ "days": days, "place": "Rum 1", "bookingDeadline": "2026-11-30" });
    let cases = [
        (
            with_days(vec![day("2026-12-02", "14:00", "14:00", 30)]),
            400,
            "days[0].end",
        ),
        (
            with_days(vec![
                day("2026-12-02", "14:00", "16:00", 30),
                day("2026-12-02", "15:00", "17:00", 30),
            ]),
            400,
            "days[1].start",
        ),
        (
            with_days(vec![day("2026-12-02", "14:00", "14:20", 30)]),
            400,
            "days[0].talkMinutes",
        ),
        (
            with_days(vec![day("2026-12-02", "14:00", "16:00", 0)]),
            400,
            "days[0].talkMinutes",
        ),
        (
            with_days(vec![day("2026-12-02", "2pm", "16:00", 30)]),
            400,
            "days[0].start",
        ),
        (
            with_days(vec![day("2026-11-20", "14:00", "16:00", 30)]),
            422,
            "days[0].date",
        ),
        (
            json!({ "days": [day("2026-12-02", "14:00", "16:00", 30)], "bookingDeadline": "2026-11-30" }),
            400,
            "place",
        ),
        (
            json!({ "days": [day("2026-12-02", "14:00", "16:00", 30)], "place": "Rum 1" }),
            400,
            "bookingDeadline",
        ),
        (
            json!({ "days": [day("2026-12-02", "14:00", "16:00", 30)], "place": "Rum 1",
                    "bookingDeadline": "2026-11-30", "roundId": "01JD0000000000000000000R01" }),
            400,
            "bookingDeadline",
        ),
    ];
    for (body, status, field) in cases {
        let res = app.post(mentor, &talks_path(), body.clone()).await;
        assert_eq!(res.status, status, "{body}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(res.json["invalidParams"][0]["name"], field, "{body}");
    }
    let (_, slots) = create_afternoon(&app).await;
    let overlap = app
        .post(
            mentor,
            &talks_path(),
            with_days(vec![
                day("2026-12-03", "14:00", "15:00", 30),
                day("2026-12-02", "15:45", "16:30", 15),
            ]),
        )
        .await;
    assert_eq!(overlap.status, 409, "{}", overlap.json);
    assert_eq!(overlap.json["invalidParams"][0]["name"], "days[1].start");
    assert_eq!(overlap.json["existingSlotId"], slots[3].as_str());
    let seen = app.get(mentor, &slots_path()).await;
    assert_eq!(ids(&seen, "items"), slots, "nothing else was written");
}

async fn times_that_start_in_the_last_minutes_of_a_four_hour_talk_overlap_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let times = |start: &str, end: &str, minutes: u32| {
        json!({
            "days": [{ "date": "2026-12-05", "start": start, "end": end, "talkMinutes": minutes }],
            "place": "Rum 1",
            "bookingDeadline": "2026-11-30"
        })
    };
    let long = app
        .post(mentor, &talks_path(), times("08:00", "12:00", 240))
        .await;
    assert_eq!(long.status, 201, "{}", long.json);
    let res = app
        .post(mentor, &talks_path(), times("11:45", "12:15", 15))
        .await;
    assert_eq!(res.status, 409, "{}", res.json);
    assert_eq!(res.json["existingSlotId"], ids(&long, "slots")[0].as_str());
    let res = app
        .post(mentor, &talks_path(), times("12:00", "12:30", 15))
        .await;
    assert_eq!(res.status, 201, "it ends as they begin: {}", res.json);
}

async fn staff_add_slots_to_a_round_which_keeps_its_deadline(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, _) = create_afternoon(&app).await;
    let more = app
        .post(
            demo::staff(demo::ADMIN),
            &talks_path(),
            json!({
                "roundId": round,
                "days": [{ "date": "2026-12-03", "start": "08:00", "end": "09:00", "talkMinutes": 20, "breakMinutes": 10 }],
                "videoLink": "https://meet.example.se/4a"
            }),
        )
        .await;
    assert_eq!(more.status, 201, "{}", more.json);
    assert_eq!(more.json["slots"].as_array().map(Vec::len), Some(2));
    assert_eq!(more.json["slots"][1]["start"], "2026-12-03T08:30:00+01:00");
    assert_eq!(more.json["round"]["bookingDeadline"], "2026-11-30");
    let all = app.get(demo::guardian(1), &slots_path()).await;
    assert_eq!(all.json["items"].as_array().map(Vec::len), Some(6));
}

fn booking_list_path() -> String {
    format!("/groups/{}/talks/bookings", demo::class(1))
}

/// The mentor of 4A creates two half-hour talks from 14:00 on `date`, in a
/// new round or added to `round`; returns the round and the slot ids.
async fn two_talks_on(app: &TestApp, date: &str, round: Option<&str>) -> (String, Vec<String>) {
    let mut body = json!({
        "days": [{ "date": date, "start": "14:00", "end": "15:00", "talkMinutes": 30 }],
        "place": "Klassrum 4A"
    });
    match round {
        Some(r) => body["roundId"] = json!(r),
        None => body["bookingDeadline"] = json!("2026-11-30"),
    }
    let res = app
        .post(demo::staff(demo::MENTOR_4A), &talks_path(), body)
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let round = res.json["round"]["id"].as_str().expect("round").to_string();
    (round, ids(&res, "slots"))
}

/// Each round of a booking list page: its id and its slots' ids.
fn rounds_on(page: &TestResponse) -> Vec<(String, Vec<String>)> {
    assert_eq!(page.status, 200, "{}", page.json);
    page.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| {
            let slots = r["slots"]
                .as_array()
                .expect("slots")
                .iter()
                .map(|s| {
                    assert_eq!(s["roundId"], r["roundId"], "a slot of another round");
                    s["id"].as_str().expect("slot id").to_string()
                })
                .collect();
            (r["roundId"].as_str().expect("round id").to_string(), slots)
        })
        .collect()
}

async fn the_booking_list_is_one_round_a_page_the_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (first, first_slots) = two_talks_on(&app, "2026-12-02", None).await;
    let (second, second_slots) = two_talks_on(&app, "2026-12-03", None).await;
    let (third, third_slots) = two_talks_on(&app, "2026-12-04", None).await;
    let booked = book(&app, demo::guardian(1), demo::pupil(1), &first_slots[1]).await;
    assert_eq!(booked.status, 201, "{}", booked.json);
    let mentor = demo::staff(demo::MENTOR_4A);

    let page = app.get(mentor, &booking_list_path()).await;
    assert_eq!(rounds_on(&page), [(third, third_slots)]);
    let cursor = page.json["nextCursor"].as_str().expect("a next page");
    let rest = app
        .get(
            mentor,
            &format!("{}?limit=5&cursor={cursor}", booking_list_path()),
        )
        .await;
    assert_eq!(
        rounds_on(&rest),
        [(second, second_slots), (first, first_slots)]
    );
    assert!(rest.json["nextCursor"].is_null(), "{}", rest.json);
    let oldest = &rest.json["items"][1];
    assert_eq!(
        oldest["slots"][1]["booking"]["pupilId"],
        demo::pupil(1).to_string()
    );
    assert_eq!(oldest["notBooked"].as_array().map(Vec::len), Some(19));
    assert_eq!(
        rest.json["items"][0]["notBooked"].as_array().map(Vec::len),
        Some(20),
        "a booking counts in its own round only"
    );

    let bad = app
        .get(mentor, &format!("{}?limit=0", booking_list_path()))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.json);
    assert_eq!(bad.json["invalidParams"][0]["name"], "limit");
}

async fn times_added_to_an_older_round_are_in_its_page_and_not_in_the_newer_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (older, mut older_slots) = two_talks_on(&app, "2026-12-02", None).await;
    let (newer, newer_slots) = two_talks_on(&app, "2026-12-03", None).await;
    // The older round now spans the newer one's day.
    let (same, added) = two_talks_on(&app, "2026-12-04", Some(&older)).await;
    assert_eq!(same, older);
    older_slots.extend(added);
    let mentor = demo::staff(demo::MENTOR_4A);
    let page = app
        .get(mentor, &format!("{}?limit=2", booking_list_path()))
        .await;
    assert_eq!(
        rounds_on(&page),
        [(newer, newer_slots), (older, older_slots)]
    );
}

async fn a_round_stored_without_its_stretch_of_starts_lists_every_slot_of_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, mut slots) = two_talks_on(&app, "2026-12-02", None).await;
    let (_, others) = two_talks_on(&app, "2026-12-03", None).await;
    // As a round was stored before it kept where its slots start.
    let key = keys::talk_round(
        demo::class(1),
        TalkRoundId::parse(&round).expect("round id"),
    );
    let mut item = app.store.get(&key).await.expect("read").expect("the round");
    assert!(item.attrs.remove("firstStart").is_some());
    assert!(item.attrs.remove("lastStart").is_some());
    app.store.put(&item, Condition::None).await.expect("stored");
    let (_, added) = two_talks_on(&app, "2026-12-04", Some(&round)).await;
    slots.extend(added);
    let page = app
        .get(
            demo::staff(demo::MENTOR_4A),
            &format!("{}?limit=2", booking_list_path()),
        )
        .await;
    let rounds = rounds_on(&page);
    assert_eq!(rounds[1], (round, slots));
    assert_eq!(rounds[0].1, others);
}

async fn both_guardians_see_one_booking_and_either_may_move_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, slots) = create_afternoon(&app).await;
    // Pupil 2 has guardians 2 and 51.
    let booked = book(&app, demo::guardian(2), demo::pupil(2), &slots[0]).await;
    assert_eq!(booked.status, 201, "{}", booked.json);
    assert_eq!(booked.json["roundId"], round.as_str());
    assert_eq!(booked.json["slotId"], slots[0].as_str());

    let second = app.get(demo::guardian(51), &slots_path()).await;
    let own = second.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["id"] == slots[0].as_str())
        .expect("the other guardian sees the booking");
    assert_eq!(own["booking"]["pupilId"], demo::pupil(2).to_string());
    // Another family sees the booked slot no more.
    let other = app.get(demo::guardian(1), &slots_path()).await;
    assert_eq!(ids(&other, "items"), slots[1..].to_vec());

    let again = book(&app, demo::guardian(51), demo::pupil(2), &slots[1]).await;
    assert_eq!(again.status, 409, "{}", again.json);
    assert_eq!(again.json["bookedSlotId"], slots[0].as_str());

    let moved = app
        .put(
            demo::guardian(51),
            &booking_path(demo::pupil(2), &round),
            json!({ "slotId": slots[2] }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.json);
    assert_eq!(moved.json["slotId"], slots[2].as_str());
    let after = app.get(demo::staff(demo::MENTOR_4A), &slots_path()).await;
    let holders: Vec<Value> = after.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["booking"]["pupilId"].clone())
        .collect();
    let p2 = Value::String(demo::pupil(2).to_string());
    assert_eq!(holders, [Value::Null, Value::Null, p2, Value::Null]);
}

async fn a_guardian_cancels_and_the_slot_is_open_for_another_family(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, slots) = create_afternoon(&app).await;
    assert_eq!(
        book(&app, demo::guardian(1), demo::pupil(1), &slots[0])
            .await
            .status,
        201
    );
    let taken = book(&app, demo::guardian(3), demo::pupil(3), &slots[0]).await;
    assert_eq!(taken.status, 409);
    assert_eq!(
        taken.json["type"],
        "https://skolnav.se/problems/talk-slot-taken"
    );
    let cancelled = app
        .delete(
            demo::guardian(1),
            &booking_path(demo::pupil(1), &round),
            None,
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.json);
    let twice = app
        .delete(
            demo::guardian(1),
            &booking_path(demo::pupil(1), &round),
            None,
        )
        .await;
    assert_eq!(twice.status, 409);
    assert_eq!(
        book(&app, demo::guardian(3), demo::pupil(3), &slots[0])
            .await
            .status,
        201
    );
}

async fn after_the_deadline_booking_moving_and_cancelling_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, slots) = create_afternoon(&app).await;
    assert_eq!(
        book(&app, demo::guardian(1), demo::pupil(1), &slots[0])
            .await
            .status,
        201
    );
    // 30 November is the last day; 1 December 00:30 in Stockholm is after.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-30T23:30:00Z")
            .expect("time")
            .into(),
    );
    let late = book(&app, demo::guardian(3), demo::pupil(3), &slots[1]).await;
    assert_eq!(late.status, 422, "{}", late.json);
    assert_eq!(
        late.json["type"],
        "https://skolnav.se/problems/talk-booking-closed"
    );
    assert!(
        late.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("2026-11-30")),
        "{}",
        late.json
    );
    let moved = app
        .put(
            demo::guardian(1),
            &booking_path(demo::pupil(1), &round),
            json!({ "slotId": slots[1] }),
        )
        .await;
    assert_eq!(moved.status, 422);
    let cancelled = app
        .delete(
            demo::guardian(1),
            &booking_path(demo::pupil(1), &round),
            None,
        )
        .await;
    assert_eq!(cancelled.status, 422);
}

async fn staff_see_who_booked_and_who_has_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, slots) = create_afternoon(&app).await;
    book(&app, demo::guardian(1), demo::pupil(1), &slots[1]).await;
    book(&app, demo::guardian(4), demo::pupil(4), &slots[3]).await;
    let list = app
        .get(
            demo::staff(demo::SUBJECT_TEACHER),
            &format!("/groups/{}/talks/bookings", demo::class(1)),
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.json);
    let r = &list.json["items"][0];
    assert_eq!(r["roundId"], round.as_str());
    assert_eq!(
        r["slots"][1]["booking"]["pupilId"],
        demo::pupil(1).to_string()
    );
    assert_eq!(
        r["slots"][1]["booking"]["bookedBy"],
        demo::guardian(1).to_string()
    );
    assert!(r["slots"][1]["booking"]["pupilName"].is_string());
    let not_booked: Vec<&str> = r["notBooked"]
        .as_array()
        .expect("notBooked")
        .iter()
        .filter_map(|p| p["pupilId"].as_str())
        .collect();
    assert_eq!(not_booked.len(), 18, "20 pupils in 4A, 2 booked");
    assert!(!not_booked.contains(&demo::pupil(1).to_string().as_str()));
    assert!(not_booked.contains(&demo::pupil(2).to_string().as_str()));
}

async fn booking_moving_and_cancelling_each_send_one_confirmation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, slots) = create_afternoon(&app).await;
    book(&app, demo::guardian(1), demo::pupil(1), &slots[0]).await;
    app.put(
        demo::guardian(1),
        &booking_path(demo::pupil(1), &round),
        json!({ "slotId": slots[1] }),
    )
    .await;
    app.delete(
        demo::guardian(1),
        &booking_path(demo::pupil(1), &round),
        None,
    )
    .await;
    assert_eq!(app.deliver_outbox().await, 3);
    let sent = app.mailer.sent();
    let mut subjects: Vec<&str> = sent.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort();
    assert!(
        subjects[0].starts_with("Utvecklingssamtal avbokat"),
        "{subjects:?}"
    );
    assert!(
        subjects[1].starts_with("Utvecklingssamtal bokat"),
        "{subjects:?}"
    );
    assert!(
        subjects[2].starts_with("Utvecklingssamtal flyttat"),
        "{subjects:?}"
    );
    let moved = sent
        .iter()
        .find(|m| m.subject.contains("flyttat"))
        .expect("moved");
    assert!(
        moved.subject.contains("2026-12-02 14:30-15:00"),
        "{}",
        moved.subject
    );
    assert!(
        moved.text.contains("14:00-14:30"),
        "the earlier time: {}",
        moved.text
    );
    assert!(sent.iter().all(|m| m.to.starts_with("erik.")));
    // Each carries the talk as an iCalendar event: one UID, the move
    // replaces the booked time, the cancellation cancels it.
    let ics = |word: &str| {
        let mail = sent
            .iter()
            .find(|m| m.subject.starts_with(&format!("Utvecklingssamtal {word}:")))
            .expect("mail");
        assert_eq!(mail.attachments.len(), 1, "{word}");
        assert!(mail.attachments[0].file_name.ends_with(".ics"));
        (
            mail.attachments[0].content_type.clone(),
            String::from_utf8(mail.attachments[0].data.clone()).expect("utf-8"),
        )
    };
    let (booked_type, booked) = ics("bokat");
    let (_, moved) = ics("flyttat");
    let (cancelled_type, cancelled) = ics("avbokat");
    assert!(booked_type.contains("method=PUBLISH"), "{booked_type}");
    assert!(booked.contains("DTSTART:20261202T130000Z"), "{booked}");
    assert!(moved.contains("DTSTART:20261202T133000Z"), "{moved}");
    assert!(cancelled_type.contains("method=CANCEL"), "{cancelled_type}");
    assert!(cancelled.contains("STATUS:CANCELLED"), "{cancelled}");
    let uid = |ics: &str| {
        ics.lines()
            .find(|l| l.starts_with("UID:"))
            .map(String::from)
    };
    assert_eq!(uid(&booked), uid(&cancelled));
    assert_eq!(uid(&booked), uid(&moved));
}

async fn removing_a_booked_slot_needs_a_reason_and_tells_the_guardian(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, slots) = create_afternoon(&app).await;
    book(&app, demo::guardian(2), demo::pupil(2), &slots[0]).await;
    app.deliver_outbox().await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let path = |slot: &str| format!("{}/{slot}", slots_path());
    let open = app.delete(mentor, &path(&slots[3]), None).await;
    assert_eq!(
        open.status, 200,
        "an open slot needs no reason: {}",
        open.json
    );
    let bare = app.delete(mentor, &path(&slots[0]), None).await;
    assert_eq!(bare.status, 400, "{}", bare.json);
    assert_eq!(bare.json["invalidParams"][0]["name"], "reason");
    let removed = app
        .delete(
            mentor,
            &path(&slots[0]),
            Some(json!({ "reason": "Mentor is ill" })),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.json);
    let left = app.get(mentor, &slots_path()).await;
    assert_eq!(ids(&left, "items"), slots[1..3].to_vec());
    assert_eq!(app.deliver_outbox().await, 1);
    let sent = app.mailer.sent();
    let last = sent.last().expect("mail");
    assert!(
        last.subject.starts_with("Development talk called off"),
        "{}",
        last.subject
    );
    assert!(last.text.contains("Mentor is ill"));
    // The booking went with the slot: the family may book again.
    assert_eq!(
        book(&app, demo::guardian(2), demo::pupil(2), &slots[1])
            .await
            .status,
        201
    );
    let gone = app
        .delete(
            demo::guardian(2),
            &booking_path(demo::pupil(2), &round),
            None,
        )
        .await;
    assert_eq!(gone.status, 200);
}

async fn a_retried_booking_with_its_idempotency_key_gets_the_same_answer_and_one_mail(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (_, slots) = create_afternoon(&app).await;
    let body = json!({ "slotId": slots[2] }).to_string();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let res = app
            .post_raw(
                demo::guardian(1),
                &bookings_path(demo::pupil(1)),
                body.clone(),
                Some("book-once"),
            )
            .await;
        answers.push((res.status, res.json));
    }
    assert_eq!(answers[0].0, 201, "{}", answers[0].1);
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(app.deliver_outbox().await, 1);
    assert_eq!(app.mailer.sent().len(), 1);
}

/// `n` families with one pupil each in class 4A, written directly.
async fn add_families(app: &TestApp, n: usize) -> Vec<(PersonId, PersonId)> {
    let mut items = Vec::new();
    let mut families = Vec::new();
    for i in 0..n {
        let pupil = PersonId::generate();
        let guardian = PersonId::generate();
        let person = |id: PersonId, given: &str| Person {
            id,
            given_name: given.to_string(),
            family_name: format!("Familj{i}"),
            email: Some(format!("family{i}@example.se")),
            mobile: None,
            text_to: None,
            language: Language::Sv,
            mail: Default::default(),
            left: None,
            protected_identity: false,
        };
        items.extend(
            directory::person_items(
                &person(pupil, "Elev"),
                &[
                    Relation::EnrolledAt {
                        school_id: demo::school(),
                        school_year: None,
                    },
                    Relation::MemberOf {
                        group_id: demo::class(1),
                        school_id: demo::school(),
                        name: None,
                    },
                ],
            )
            .expect("pupil items"),
        );
        items.extend(
            directory::person_items(
                &person(guardian, "Förälder"),
                &[Relation::GuardianOf {
                    pupil_id: pupil,
                    places: None,
                }],
            )
            .expect("guardian items"),
        );
        families.push((guardian, pupil));
    }
    app.store.batch_put(&items).await.expect("families");
    families
}

async fn a_hundred_families_racing_for_one_slot_leave_exactly_one_booking(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, slots) = create_afternoon(&app).await;
    let families = add_families(&app, 100).await;
    let mut tasks = Vec::new();
    for (guardian, pupil) in &families {
        let url = format!("{}{}", app.base, bookings_path(*pupil));
        let token = app.token(*guardian);
        let http = app.http.clone();
        let slot = slots[0].clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({ "slotId": slot }))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap_or(0));
    }
    let won = statuses.iter().filter(|s| **s == 201).count();
    let lost = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((won, lost), (1, 99), "{statuses:?}");
    let list = app
        .get(
            demo::staff(demo::MENTOR_4A),
            &format!("/groups/{}/talks/bookings", demo::class(1)),
        )
        .await;
    let r = &list.json["items"][0];
    let holder = r["slots"][0]["booking"]["pupilId"]
        .as_str()
        .expect("the slot holds one booking");
    assert!(families.iter().any(|(_, p)| p.to_string() == holder));
    let booked_elsewhere = r["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .skip(1)
        .filter(|s| !s["booking"].is_null())
        .count();
    assert_eq!(booked_elsewhere, 0);
    assert_eq!(
        r["notBooked"].as_array().map(Vec::len),
        Some(20 + 100 - 1),
        "every other pupil is still without a booking"
    );
    assert_eq!(app.deliver_outbox().await, 1, "one confirmation");
}

async fn a_move_racing_a_booking_of_its_target_never_holds_two_slots_nor_loses_one(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let res = app
        .post(
            mentor,
            &talks_path(),
            json!({
                "days": [{ "date": "2026-12-02", "start": "08:00", "end": "18:00", "talkMinutes": 20 }],
                "place": "Klassrum 4A",
                "bookingDeadline": "2026-11-30"
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let round = res.json["round"]["id"].as_str().expect("round").to_string();
    let slots: Vec<String> = ids(&res, "slots");
    let mover = (demo::guardian(1), demo::pupil(1));
    assert_eq!(book(&app, mover.0, mover.1, &slots[0]).await.status, 201);
    // Rounds of: the mover moves to slot k while pupil k+2's family books
    // slot k, at the same moment.
    for (k, target) in slots.iter().enumerate().take(9).skip(1) {
        let rival = (demo::guardian(k as u32 + 2), demo::pupil(k as u32 + 2));
        let target = target.clone();
        let move_req = {
            let url = format!("{}{}", app.base, booking_path(mover.1, &round));
            let token = app.token(mover.0);
            let http = app.http.clone();
            let target = target.clone();
            tokio::spawn(async move {
                http.put(url)
                    .bearer_auth(token)
                    .json(&json!({ "slotId": target }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        };
        let book_req = {
            let url = format!("{}{}", app.base, bookings_path(rival.1));
            let token = app.token(rival.0);
            let http = app.http.clone();
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({ "slotId": target }))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        };
        let moved = move_req.await.unwrap_or(0);
        let booked = book_req.await.unwrap_or(0);
        assert!(
            (moved == 200) != (booked == 201),
            "round {k}: exactly one gets slot {k}: move {moved}, book {booked}"
        );
        assert!(moved == 200 || moved == 409, "move {moved}");
        assert!(booked == 201 || booked == 409, "book {booked}");
        let all = app.get(mentor, &slots_path()).await;
        let held: Vec<usize> = all.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .enumerate()
            .filter(|(_, s)| s["booking"]["pupilId"] == mover.1.to_string())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(held.len(), 1, "round {k}: the mover holds {held:?}");
        let holders: Vec<&Value> = all.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|s| s["booking"].get("pupilId"))
            .collect();
        let distinct: std::collections::HashSet<String> =
            holders.iter().map(|v| v.to_string()).collect();
        assert_eq!(distinct.len(), holders.len(), "one slot per pupil");
    }
}

async fn the_day_before_a_talk_the_guardian_gets_one_reminder(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (round, slots) = create_afternoon(&app).await;
    book(&app, demo::guardian(1), demo::pupil(1), &slots[0]).await;
    book(&app, demo::guardian(3), demo::pupil(3), &slots[1]).await;
    app.delete(
        demo::guardian(3),
        &booking_path(demo::pupil(3), &round),
        None,
    )
    .await;
    let confirmations = app.deliver_outbox().await;
    let at = |t: &str| -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(t)
            .expect("time")
            .into()
    };
    let store = app.store.as_ref();
    // Two days before: nothing yet.
    app.clock.set(at("2026-11-30T06:00:00Z"));
    let early = skolnav::reminders::send_day_before(store, app.clock.as_ref())
        .await
        .expect("reminders");
    assert_eq!(early.sent, 0);
    app.clock.set(at("2026-12-01T06:00:00Z"));
    let first = skolnav::reminders::send_day_before(store, app.clock.as_ref())
        .await
        .expect("reminders");
    assert_eq!(
        (first.sent, first.already_sent),
        (1, 0),
        "only the booked slot"
    );
    let rerun = skolnav::reminders::send_day_before(store, app.clock.as_ref())
        .await
        .expect("reminders");
    assert_eq!(
        (rerun.sent, rerun.already_sent),
        (0, 1),
        "a re-run sends nothing"
    );
    assert_eq!(app.deliver_outbox().await, 1);
    let sent = app.mailer.sent();
    assert_eq!(sent.len(), confirmations + 1);
    let reminder = sent.last().expect("reminder");
    assert!(
        reminder
            .subject
            .starts_with("Påminnelse: utvecklingssamtal i morgon"),
        "{}",
        reminder.subject
    );
    assert!(reminder.to.starts_with("erik."));
    assert!(reminder.text.contains("2026-12-02 14:00-14:30"));
}

async fn two_staff_creating_overlapping_times_at_once_create_them_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for day in 1..=5 {
        let body = json!({
            "days": [{ "date": format!("2026-12-{day:02}"), "start": "14:00", "end": "16:00", "talkMinutes": 30 }],
            "place": "Klassrum 4A",
            "bookingDeadline": "2026-11-30"
        });
        let mut tasks = Vec::new();
        for who in [demo::MENTOR_4A, demo::ADMIN, demo::SUBJECT_TEACHER] {
            let url = format!("{}{}", app.base, talks_path());
            let token = app.token(demo::staff(who));
            let http = app.http.clone();
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap_or(0));
        }
        statuses.sort();
        assert_eq!(statuses, [201, 409, 409], "day {day}");
    }
    let all = app.get(demo::staff(demo::MENTOR_4A), &slots_path()).await;
    assert_eq!(all.json["items"].as_array().map(Vec::len), Some(5 * 4));
}

on_both_stores!(
    two_staff_creating_overlapping_times_at_once_create_them_once,
    the_day_before_a_talk_the_guardian_gets_one_reminder,
    staff_create_four_half_hour_talks_and_a_guardian_sees_them_open,
    a_guardian_sees_the_slots_from_today_on_and_staff_every_slot,
    times_that_start_in_the_last_minutes_of_a_four_hour_talk_overlap_it,
    overlapping_zero_length_or_past_times_are_refused_naming_the_field,
    staff_add_slots_to_a_round_which_keeps_its_deadline,
    both_guardians_see_one_booking_and_either_may_move_it,
    a_guardian_cancels_and_the_slot_is_open_for_another_family,
    after_the_deadline_booking_moving_and_cancelling_are_refused,
    staff_see_who_booked_and_who_has_not,
    the_booking_list_is_one_round_a_page_the_newest_first,
    times_added_to_an_older_round_are_in_its_page_and_not_in_the_newer_one,
    a_round_stored_without_its_stretch_of_starts_lists_every_slot_of_it,
    booking_moving_and_cancelling_each_send_one_confirmation,
    removing_a_booked_slot_needs_a_reason_and_tells_the_guardian,
    a_retried_booking_with_its_idempotency_key_gets_the_same_answer_and_one_mail,
    a_hundred_families_racing_for_one_slot_leave_exactly_one_booking,
    a_move_racing_a_booking_of_its_target_never_holds_two_slots_nor_loses_one,
);
