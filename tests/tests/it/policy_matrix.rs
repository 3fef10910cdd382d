//! F1 as a matrix: every use case of the absence slice x every role x the
//! caller's own object or another's, through HTTP. A refused read is 404
//! when the caller may not know the object exists, 403 when they may.
//!
//! The object is pupil 1 of class 4A at Solrosskolan and a report for them.

use serde_json::json;
use skolnav::demo;
use skolnav::ids::PersonId;
use skolnav_tests::{Backend, TestApp};

#[derive(Debug, Clone, Copy)]
enum Role {
    GuardianOfChild,
    GuardianOfOtherChild,
    PupilThemself,
    OtherPupil,
    MentorOfChildsGroup,
    MentorOfOtherGroup,
    TeacherOfChildsGroup,
    SchoolAdmin,
    Principal,
    AdminOfOtherSchool,
}

use Role::*;

const ROLES: [Role; 10] = [
    GuardianOfChild,
    GuardianOfOtherChild,
    PupilThemself,
    OtherPupil,
    MentorOfChildsGroup,
    MentorOfOtherGroup,
    TeacherOfChildsGroup,
    SchoolAdmin,
    Principal,
    AdminOfOtherSchool,
];

fn person(role: Role) -> PersonId {
    match role {
        GuardianOfChild => demo::guardian(1),
        GuardianOfOtherChild => demo::guardian(21),
        PupilThemself => demo::pupil(1),
        OtherPupil => demo::pupil(21),
        MentorOfChildsGroup => demo::staff(demo::MENTOR_4A),
        MentorOfOtherGroup => demo::staff(demo::MENTOR_4B),
        TeacherOfChildsGroup => demo::staff(demo::SUBJECT_TEACHER),
        SchoolAdmin => demo::staff(demo::ADMIN),
        Principal => demo::staff(demo::PRINCIPAL),
        AdminOfOtherSchool => demo::staff(demo::OTHER_SCHOOL_ADMIN),
    }
}

/// Expected status per use case, in the order of ROLES.
const REPORT: [u16; 10] = [201, 404, 403, 404, 403, 403, 403, 403, 403, 404];
const LIST: [u16; 10] = [200, 404, 200, 404, 200, 403, 200, 200, 200, 404];
const APPROVE: [u16; 10] = [403, 404, 403, 404, 200, 403, 403, 200, 200, 404];
const PENDING: [u16; 10] = [404, 404, 404, 404, 200, 200, 403, 200, 200, 404];
const TODAY: [u16; 10] = [404, 404, 404, 404, 200, 200, 200, 200, 200, 404];

async fn every_use_case_answers_every_role_as_the_policy_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pupil = demo::pupil(1);
    let reports = format!("/pupils/{pupil}/absence-reports");
    let mut failures = Vec::new();

    // Report: each role tries a different day so only policy decides.
    for (i, role) in ROLES.iter().enumerate() {
        let day = format!("2026-12-{:02}", i + 1);
        let res = app
            .post(
                person(*role),
                &reports,
                json!({ "firstDay": day, "reason": "sick" }),
            )
            .await;
        if res.status != REPORT[i] {
            failures.push(format!(
                "report as {role:?}: {} (want {})",
                res.status, REPORT[i]
            ));
        }
    }

    let created = app
        .post(
            demo::guardian(1),
            &reports,
            json!({ "firstDay": "2026-11-23", "reason": "other" }),
        )
        .await;
    let report_id = created.json["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(created.status, 201);

    for (i, role) in ROLES.iter().enumerate() {
        let res = app.get(person(*role), &reports).await;
        if res.status != LIST[i] {
            failures.push(format!(
                "list as {role:?}: {} (want {})",
                res.status, LIST[i]
            ));
        }
        if res.status == 200 {
            let items = res.json["items"].as_array().map(Vec::len).unwrap_or(0);
            if items != 2 {
                failures.push(format!("list as {role:?}: {items} items"));
            }
        }
        if res.status >= 400 && res.json.to_string().contains(&report_id) {
            failures.push(format!("list as {role:?}: refusal leaks the report id"));
        }
    }

    let school = demo::school();
    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .get(
                person(*role),
                &format!("/schools/{school}/absence-reports/pending"),
            )
            .await;
        if res.status != PENDING[i] {
            failures.push(format!(
                "pending as {role:?}: {} (want {})",
                res.status, PENDING[i]
            ));
        }
        if res.status == 200 {
            // The mentor of 4B does not see a 4A pupil's report.
            let sees = res.json["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|r| r["id"] == report_id.as_str()));
            let should = !matches!(role, MentorOfOtherGroup);
            if sees != should {
                failures.push(format!("pending as {role:?}: sees the report = {sees}"));
            }
        }
    }

    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .get(person(*role), &format!("/schools/{school}/absence-today"))
            .await;
        if res.status != TODAY[i] {
            failures.push(format!(
                "today as {role:?}: {} (want {})",
                res.status, TODAY[i]
            ));
        }
    }

    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .post(
                person(*role),
                &format!("/pupils/{pupil}/absence-reports/{report_id}/approve"),
                json!({}),
            )
            .await;
        if res.status != APPROVE[i] {
            failures.push(format!(
                "approve as {role:?}: {} (want {})",
                res.status, APPROVE[i]
            ));
        }
    }

    // Another family's object: guardian 1 may not touch pupil 21 at all.
    let other = format!("/pupils/{}/absence-reports", demo::pupil(21));
    let res = app.get(demo::guardian(1), &other).await;
    if res.status != 404 {
        failures.push(format!("guardian 1 listing pupil 21: {}", res.status));
    }
    let res = app
        .post(
            demo::guardian(1),
            &other,
            json!({ "firstDay": "2026-11-23", "reason": "sick" }),
        )
        .await;
    if res.status != 404 {
        failures.push(format!("guardian 1 reporting for pupil 21: {}", res.status));
    }
    // An unknown pupil looks exactly like one you may not see.
    let ghost = format!("/pupils/{}/absence-reports", PersonId::generate());
    let res = app.get(demo::staff(demo::ADMIN), &ghost).await;
    if res.status != 404 {
        failures.push(format!("unknown pupil: {}", res.status));
    }

    assert!(
        failures.is_empty(),
        "policy matrix:\n{}",
        failures.join("\n")
    );
}

/// E1, on group 4A and pupil 1, in the order of ROLES.
const TALK_CREATE: [u16; 10] = [403, 404, 403, 404, 201, 403, 201, 201, 201, 404];
const TALK_SLOTS: [u16; 10] = [200, 404, 403, 404, 200, 403, 200, 200, 200, 404];
const TALK_BOOKINGS: [u16; 10] = [403, 404, 403, 404, 200, 403, 200, 200, 200, 404];
const TALK_BOOK: [u16; 10] = [201, 404, 403, 404, 403, 403, 403, 403, 403, 404];
const TALK_MOVE: [u16; 10] = [200, 404, 403, 404, 403, 403, 403, 403, 403, 404];
const TALK_CANCEL: [u16; 10] = [200, 404, 403, 404, 403, 403, 403, 403, 403, 404];
const TALK_REMOVE: [u16; 10] = [403, 404, 403, 404, 200, 403, 200, 200, 200, 404];

async fn every_talk_use_case_answers_every_role_as_the_policy_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = demo::class(1);
    let pupil = demo::pupil(1);
    let talks = format!("/groups/{group}/talks");
    let mut failures = Vec::new();
    let mut check = |what: &str, role: Role, got: u16, want: u16| {
        if got != want {
            failures.push(format!("{what} as {role:?}: {got} (want {want})"));
        }
    };

    let created = app
        .post(
            demo::staff(demo::MENTOR_4A),
            &talks,
            json!({
                "days": [{ "date": "2026-12-14", "start": "08:00", "end": "18:00", "talkMinutes": 20 }],
                "place": "Klassrum 4A",
                "bookingDeadline": "2026-11-30"
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let round = created.json["round"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let slots: Vec<String> = created.json["slots"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(slots.len(), 30);

    for (i, role) in ROLES.iter().enumerate() {
        // Each role its own day, so only policy decides.
        let res = app
            .post(
                person(*role),
                &talks,
                json!({
                    "days": [{ "date": format!("2026-12-{:02}", i + 1), "start": "14:00", "end": "15:00", "talkMinutes": 30 }],
                    "place": "Rum 1",
                    "bookingDeadline": "2026-11-30"
                }),
            )
            .await;
        check("create talk times", *role, res.status, TALK_CREATE[i]);
    }
    for (i, role) in ROLES.iter().enumerate() {
        let res = app.get(person(*role), &format!("{talks}/slots")).await;
        check("list slots", *role, res.status, TALK_SLOTS[i]);
        let res = app.get(person(*role), &format!("{talks}/bookings")).await;
        check("booking list", *role, res.status, TALK_BOOKINGS[i]);
    }
    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .post(
                person(*role),
                &format!("/pupils/{pupil}/talk-bookings"),
                json!({ "slotId": slots[i] }),
            )
            .await;
        check("book", *role, res.status, TALK_BOOK[i]);
    }
    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .put(
                person(*role),
                &format!("/pupils/{pupil}/talk-bookings/{round}"),
                json!({ "slotId": slots[10 + i] }),
            )
            .await;
        check("move", *role, res.status, TALK_MOVE[i]);
    }
    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .delete(
                person(*role),
                &format!("/pupils/{pupil}/talk-bookings/{round}"),
                None,
            )
            .await;
        check("cancel", *role, res.status, TALK_CANCEL[i]);
    }
    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .delete(
                person(*role),
                &format!("{talks}/slots/{}", slots[20 + i]),
                None,
            )
            .await;
        check("remove slot", *role, res.status, TALK_REMOVE[i]);
    }

    // Another family's pupil: guardian 1 may not book for pupil 21, and
    // pupil 21 (of 4B) cannot be booked into a 4A slot by their guardian.
    let res = app
        .post(
            demo::guardian(1),
            &format!("/pupils/{}/talk-bookings", demo::pupil(21)),
            json!({ "slotId": slots[5] }),
        )
        .await;
    if res.status != 404 {
        failures.push(format!("guardian 1 booking for pupil 21: {}", res.status));
    }
    let res = app
        .post(
            demo::guardian(21),
            &format!("/pupils/{}/talk-bookings", demo::pupil(21)),
            json!({ "slotId": slots[5] }),
        )
        .await;
    if res.status != 404 {
        failures.push(format!("a 4A slot for a 4B pupil: {}", res.status));
    }
    // A guardian sees only their own children's bookings.
    let booked = app
        .post(
            demo::guardian(3),
            &format!("/pupils/{}/talk-bookings", demo::pupil(3)),
            json!({ "slotId": slots[6] }),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.json);
    let seen = app.get(demo::guardian(1), &format!("{talks}/slots")).await;
    if seen.json.to_string().contains(&demo::pupil(3).to_string()) {
        failures.push("guardian 1 sees pupil 3's booking".into());
    }

    assert!(
        failures.is_empty(),
        "talk policy matrix:\n{}",
        failures.join("\n")
    );
}

/// C2 and C7, on group 4A, in the order of ROLES. Publishing addresses
/// 4A; editing and deleting a post the mentor of 4A wrote.
const BLOG_PUBLISH: [u16; 10] = [403, 403, 403, 403, 201, 403, 201, 201, 201, 403];
const BLOG_FEED: [u16; 10] = [200, 404, 200, 404, 200, 403, 200, 200, 200, 404];
const BLOG_CHANGE: [u16; 10] = [403, 404, 403, 404, 200, 403, 403, 403, 403, 404];
const NOTICES: [u16; 10] = [200; 10];

async fn every_blog_and_notice_use_case_answers_every_role_as_the_policy_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = demo::class(1);
    let feed = format!("/groups/{group}/posts");
    let body = |title: &str| {
        json!({
            "audience": { "groups": [{ "groupId": group.to_string() }] },
            "title": title,
            "body": "Text"
        })
    };
    let mut failures = Vec::new();
    let mut check = |what: &str, role: Role, got: u16, want: u16| {
        if got != want {
            failures.push(format!("{what} as {role:?}: {got} (want {want})"));
        }
    };

    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .post(person(*role), "/blog/posts", body(&format!("{role:?}")))
            .await;
        check("publish", *role, res.status, BLOG_PUBLISH[i]);
    }
    for (i, role) in ROLES.iter().enumerate() {
        let res = app.get(person(*role), &feed).await;
        check("feed", *role, res.status, BLOG_FEED[i]);
    }
    let created = app
        .post(
            demo::staff(demo::MENTOR_4A),
            "/blog/posts",
            body("Mentorns"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let post = created.json["post"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let post_path = format!("{feed}/{post}");
    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .put(
                person(*role),
                &post_path,
                json!({ "title": format!("{role:?}"), "body": "Ändrad" }),
            )
            .await;
        check("edit", *role, res.status, BLOG_CHANGE[i]);
    }
    // Delete: the author last, so every other role meets the post.
    let mut order: Vec<usize> = (0..ROLES.len()).collect();
    order.sort_by_key(|i| matches!(ROLES[*i], MentorOfChildsGroup));
    for i in order {
        let role = ROLES[i];
        let res = app.delete(person(role), &post_path, None).await;
        check("delete", role, res.status, BLOG_CHANGE[i]);
    }
    app.deliver_outbox().await;
    for (i, role) in ROLES.iter().enumerate() {
        let res = app.get(person(*role), "/me/notices").await;
        check("unread notices", *role, res.status, NOTICES[i]);
        let res = app.get(person(*role), "/me/notices/unread-count").await;
        check("unread count", *role, res.status, NOTICES[i]);
        // Notices reach only the addressed families of 4A.
        let has = u16::from(res.json["unread"].as_u64().unwrap_or(0) > 0);
        let should = u16::from(matches!(role, GuardianOfChild | PupilThemself));
        check("has notices (1 = yes)", *role, has, should);
    }

    assert!(
        failures.is_empty(),
        "blog policy matrix:\n{}",
        failures.join("\n")
    );
}

/// C1, on group 4A and school Solrosskolan, in the order of ROLES.
/// Creating addresses 4A, or the school's staff (the principal alone);
/// reading the school's calendar is for its staff, pupils and families.
const CALENDAR_CREATE_GROUP: [u16; 10] = [403, 403, 403, 403, 201, 403, 201, 201, 201, 403];
const CALENDAR_CREATE_STAFF: [u16; 10] = [403, 403, 403, 403, 403, 403, 403, 403, 201, 403];
const CALENDAR_GROUP: [u16; 10] = [200, 404, 200, 404, 200, 403, 200, 200, 200, 404];
const CALENDAR_SCHOOL: [u16; 10] = [200, 200, 200, 200, 200, 200, 200, 200, 200, 404];

async fn every_calendar_use_case_answers_every_role_as_the_policy_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = demo::class(1);
    let school = demo::school();
    let event = |audience: serde_json::Value, title: String| {
        json!({
            "audience": audience,
            "title": title,
            "allDay": { "firstDay": "2026-11-27" }
        })
    };
    let to_group = json!({ "groups": [{ "groupId": group.to_string() }] });
    let to_staff = json!({ "schoolStaff": { "schoolId": school.to_string() } });
    let mut failures = Vec::new();
    let mut check = |what: &str, role: Role, got: u16, want: u16| {
        if got != want {
            failures.push(format!("{what} as {role:?}: {got} (want {want})"));
        }
    };
    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .post(
                person(*role),
                "/calendar/events",
                event(to_group.clone(), format!("{role:?}")),
            )
            .await;
        check("create for 4A", *role, res.status, CALENDAR_CREATE_GROUP[i]);
        let res = app
            .post(
                person(*role),
                "/calendar/events",
                event(to_staff.clone(), format!("{role:?} personal")),
            )
            .await;
        check(
            "create for staff",
            *role,
            res.status,
            CALENDAR_CREATE_STAFF[i],
        );
    }
    let range = "from=2026-11-23&to=2026-11-30";
    for (i, role) in ROLES.iter().enumerate() {
        let res = app
            .get(person(*role), &format!("/groups/{group}/calendar?{range}"))
            .await;
        check("group calendar", *role, res.status, CALENDAR_GROUP[i]);
        let res = app
            .get(
                person(*role),
                &format!("/schools/{school}/calendar?{range}"),
            )
            .await;
        check("school calendar", *role, res.status, CALENDAR_SCHOOL[i]);
        // Only staff see the staff-only event.
        let sees = u16::from(res.json.to_string().contains("personal"));
        let staff = u16::from(!matches!(
            role,
            GuardianOfChild
                | GuardianOfOtherChild
                | PupilThemself
                | OtherPupil
                | AdminOfOtherSchool
        ));
        check("sees the staff event (1 = yes)", *role, sees, staff);
    }
    assert!(
        failures.is_empty(),
        "calendar policy matrix:\n{}",
        failures.join("\n")
    );
}

/// A4, in the order of ROLES: the subject teacher's day (the teacher is
/// `TeacherOfChildsGroup`) and class 4A's day (the child's group), and
/// whether a 200 shows other pupils' exceptions (staff only).
const TEACHER_DAY: [u16; 10] = [404, 404, 404, 404, 403, 403, 200, 200, 200, 404];
const GROUP_DAY: [u16; 10] = [200, 404, 200, 404, 200, 200, 200, 200, 200, 404];
/// B3: registering 4A's Svenska lesson (taught by 4A's mentor; the subject
/// teacher teaches 4A).
const REGISTER: [u16; 10] = [404, 404, 404, 404, 200, 403, 200, 403, 403, 404];

async fn every_lesson_use_case_answers_every_role_as_the_policy_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let day = "2026-11-23";
    demo::seed_lessons(app.store.as_ref(), day.parse().unwrap())
        .await
        .unwrap();
    let teacher = demo::staff(demo::SUBJECT_TEACHER);
    let mut failures = Vec::new();
    for (i, role) in ROLES.iter().enumerate() {
        let who = person(*role);
        let res = app
            .get(who, &format!("/teachers/{teacher}/lessons?date={day}"))
            .await;
        if res.status != TEACHER_DAY[i] {
            failures.push(format!(
                "teacher's day as {role:?}: {} (want {})",
                res.status, TEACHER_DAY[i]
            ));
        }
        let res = app
            .get(
                who,
                &format!("/groups/{}/lessons?date={day}", demo::class(1)),
            )
            .await;
        if res.status != GROUP_DAY[i] {
            failures.push(format!(
                "group's day as {role:?}: {} (want {})",
                res.status, GROUP_DAY[i]
            ));
        }
        if res.status == 200 {
            // Pupil 2's exception: staff see it; pupil 1's family does not.
            let sees_other = res.json.to_string().contains(&demo::pupil(2).to_string());
            let staff = !matches!(role, GuardianOfChild | PupilThemself);
            if sees_other != staff {
                failures.push(format!(
                    "group's day as {role:?}: shows another pupil's exception = {sees_other}"
                ));
            }
        } else if res.json.to_string().contains("Svenska") {
            failures.push(format!("group's day as {role:?}: a refusal leaks lessons"));
        }
        let lesson = demo::lessons(day.parse().unwrap())[0].id;
        let res = app
            .put(
                who,
                &format!("/lessons/{lesson}/attendance"),
                json!({ "absences": [] }),
            )
            .await;
        if res.status != REGISTER[i] {
            failures.push(format!(
                "register attendance as {role:?}: {} (want {})",
                res.status, REGISTER[i]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "lessons policy matrix:\n{}",
        failures.join("\n")
    );
}

/// Each GET of `cases` as each role: the statuses that differ from the
/// row, and refusals whose body shows `leak` (a field of the answer).
async fn get_matrix(app: &TestApp, cases: &[(String, [u16; 10])], leak: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, role) in ROLES.iter().enumerate() {
        for (path, want) in cases {
            let res = app.get(person(*role), path).await;
            if res.status != want[i] {
                failures.push(format!(
                    "{path} as {role:?}: {} (want {})",
                    res.status, want[i]
                ));
            } else if res.status != 200 && res.text.contains(leak) {
                failures.push(format!("{path} as {role:?}: a refusal leaks the answer"));
            }
        }
    }
    failures
}

/// B4, B7: class 4A's absence by day and report (the child's group), the
/// child's report, and Solrosskolan's unreported lessons.
const GROUP_ABSENCE: [u16; 10] = [403, 404, 403, 404, 200, 403, 200, 200, 200, 404];
const PUPIL_REPORT: [u16; 10] = [200, 404, 200, 404, 200, 403, 200, 200, 200, 404];
const SCHOOL_UNREPORTED: [u16; 10] = [404, 404, 404, 404, 403, 403, 403, 200, 200, 404];

async fn every_report_use_case_answers_every_role_as_the_policy_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    demo::seed_lessons(app.store.as_ref(), "2026-11-23".parse().unwrap())
        .await
        .unwrap();
    let period = "from=2026-11-23&to=2026-11-27";
    let class = demo::class(1);
    let cases: [(String, [u16; 10]); 4] = [
        (format!("/groups/{class}/absence?{period}"), GROUP_ABSENCE),
        (
            format!("/groups/{class}/absence-report?{period}"),
            GROUP_ABSENCE,
        ),
        (
            format!("/pupils/{}/absence-report?{period}", demo::pupil(1)),
            PUPIL_REPORT,
        ),
        (
            format!("/schools/{}/unreported-lessons?{period}", demo::school()),
            SCHOOL_UNREPORTED,
        ),
    ];
    let failures = get_matrix(&app, &cases, "scheduledMinutes").await;
    assert!(
        failures.is_empty(),
        "reports policy matrix:\n{}",
        failures.join("\n")
    );
}

/// B3: a lesson of the child's class opened for registering (V01,
/// Svenska 4A); B6 and the school's settings: its leaders'.
const ATTENDANCE_VIEW: [u16; 10] = [404, 404, 404, 404, 200, 403, 200, 200, 200, 404];
const SCHOOL_LEADERS: [u16; 10] = [404, 404, 404, 404, 403, 403, 403, 200, 200, 404];

async fn every_lesson_and_school_leader_read_answers_every_role_as_the_policy_says(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let day = "2026-11-23".parse().unwrap();
    demo::seed_lessons(app.store.as_ref(), day).await.unwrap();
    let lesson = demo::lessons(day)[0].id;
    let school = demo::school();
    let cases: [(String, [u16; 10]); 3] = [
        (format!("/lessons/{lesson}/attendance"), ATTENDANCE_VIEW),
        (format!("/schools/{school}/settings"), SCHOOL_LEADERS),
        (format!("/schools/{school}/sms-credit"), SCHOOL_LEADERS),
    ];
    let failures = get_matrix(&app, &cases, "lessonId").await;
    assert!(
        failures.is_empty(),
        "lesson and school policy matrix:\n{}",
        failures.join("\n")
    );
}

on_both_stores!(
    every_talk_use_case_answers_every_role_as_the_policy_says,
    every_use_case_answers_every_role_as_the_policy_says,
    every_blog_and_notice_use_case_answers_every_role_as_the_policy_says,
    every_calendar_use_case_answers_every_role_as_the_policy_says,
    every_lesson_use_case_answers_every_role_as_the_policy_says,
    every_report_use_case_answers_every_role_as_the_policy_says,
    every_lesson_and_school_leader_read_answers_every_role_as_the_policy_says,
);
