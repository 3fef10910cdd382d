//! B4 and B7: absence over a period and the absence reports, on both
//! stores, through HTTP.
//!
//! The demo school's Monday 23 and Tuesday 24 November 2026
//! (`demo::lessons`), read on Tuesday at 12:00, when Tuesday's Idrott
//! (13:00) has not begun. Class 4A's lessons each day: Svenska 08:15-09:00
//! (45 minutes; pupil 1 from 08:35, so 25; pupil 2 not expected),
//! Matematik 09:10-09:55 (45) and Idrott 13:00-14:00 with 4B (60). Held:
//! Monday's three and Tuesday's Svenska and Matematik.
//!
//! Registered (see `register_the_week`):
//! - Monday Svenska: pupil 3 invalid (45), pupil 1 valid (their 25),
//!   pupil 4 late 10.
//! - Monday Matematik: pupil 3 invalid (45).
//! - Monday Idrott: pupil 3 valid (60), pupil 5 other activity (60).
//! - Tuesday Svenska: confirmed, nobody absent.
//! - Tuesday Matematik: not reported.
//!
//! By hand, class 4A:
//!
//! | pupil | lessons | scheduled | absent | % | missed | unreported |
//! |---|---|---|---|---|---|---|
//! | 1 | 5 | 25+45+60+25+45 = 200 | valid 25 | 12.5 | 1 | 1 |
//! | 2 | 3 | 45+60+45 = 150 | 0 | 0.0 | 0 | 1 |
//! | 3 | 5 | 45+45+60+45+45 = 240 | invalid 90 + valid 60 = 150 | 62.5 | 3 | 1 |
//! | 4 | 5 | 240 | late 10 | 4.2 (4.1666...) | 0 | 1 |
//! | 5 | 5 | 240 | 0 (60 other activity) | 0.0 | 0 | 1 |
//! | 6-20 | 5 each | 240 each | 0 | 0.0 | 0 | 1 each |
//!
//! Total: 5 + 3 + 18 x 5 = 98 lessons; 200 + 150 + 18 x 240 = 4670
//! minutes; absent 25 + 150 + 10 = 185, 185 / 4670 = 3.96% -> 4.0; valid
//! 85, invalid 90, late 10, other activity 60; 4 lessons missed; 20
//! unreported; one whole day (pupil 3's Monday: 150 of 150 minutes).

use serde_json::{Value, json};
use skolnav::demo;
use skolnav::directory;
use skolnav::ids::{GroupId, LessonId, PersonId};
use skolnav::keys;
use skolnav::roster;
use skolnav::store::{Condition, Item};
use skolnav_tests::{Backend, TestApp};

const MONDAY: &str = "2026-11-23";
const TUESDAY: &str = "2026-11-24";

fn lesson(day: &str, n: usize) -> LessonId {
    demo::lessons(day.parse().unwrap())[n - 1].id
}

fn class_4a() -> GroupId {
    demo::class(1)
}

fn week() -> &'static str {
    "from=2026-11-23&to=2026-11-27"
}

/// The demo school with Monday's and Tuesday's lessons, at Tuesday 12:00
/// in Stockholm.
async fn app(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    for day in [MONDAY, TUESDAY] {
        demo::seed_lessons(app.store.as_ref(), day.parse().unwrap())
            .await
            .unwrap();
    }
    app.clock
        .set(skolnav_tests::school_morning() + chrono::Duration::hours(28));
    app
}

async fn register(app: &TestApp, teacher: u32, lesson: LessonId, absences: Value) {
    let res = app
        .put(
            demo::staff(teacher),
            &format!("/lessons/{lesson}/attendance"),
            json!({ "absences": absences }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
}

fn absence(pupil: u32, reason: &str, minutes: Option<u32>) -> Value {
    let mut a = json!({ "pupilId": demo::pupil(pupil).to_string(), "reason": reason });
    if let Some(m) = minutes {
        a["minutes"] = json!(m);
    }
    a
}

/// The registrations of the module's doc.
async fn register_the_week(app: &TestApp) {
    register(
        app,
        demo::MENTOR_4A,
        lesson(MONDAY, 1),
        json!([
            absence(3, "invalid", None),
            absence(1, "valid", None),
            absence(4, "late", Some(10))
        ]),
    )
    .await;
    register(
        app,
        demo::SUBJECT_TEACHER,
        lesson(MONDAY, 2),
        json!([absence(3, "invalid", None)]),
    )
    .await;
    register(
        app,
        demo::SUBJECT_TEACHER,
        lesson(MONDAY, 4),
        json!([absence(3, "valid", None), absence(5, "otherActivity", None)]),
    )
    .await;
    register(app, demo::MENTOR_4A, lesson(TUESDAY, 1), json!([])).await;
}

/// The report row of a pupil.
fn row(report: &Value, pupil: PersonId) -> &Value {
    report["pupils"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["pupilId"] == json!(pupil.to_string()))
        })
        .unwrap_or_else(|| panic!("no row for {pupil} in {report}"))
}

/// (lessons, scheduled, absent, percent, missed, unreported) of a row.
fn numbers(r: &Value) -> (u64, u64, u64, Value, u64, u64) {
    let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}"));
    (
        n("lessons"),
        n("scheduledMinutes"),
        n("absentMinutes"),
        r["absencePercent"].clone(),
        n("lessonsMissed"),
        n("unreportedLessons"),
    )
}

/// 4A's report of the demo week, as its mentor reads it.
async fn mentors_week_report(app: &TestApp) -> skolnav_tests::TestResponse {
    app.get(
        demo::staff(demo::MENTOR_4A),
        &format!("/groups/{}/absence-report?{}", class_4a(), week()),
    )
    .await
}

async fn a_groups_report_over_a_week_adds_up_as_counted_by_hand(backend: Backend) {
    let app = app(backend).await;
    register_the_week(&app).await;
    let res = mentors_week_report(&app).await;
    assert_eq!(res.status, 200, "{}", res.json);
    let r = &res.json;
    assert_eq!(r["groupName"], "4A");
    assert_eq!(r["pupils"].as_array().map(Vec::len), Some(20));
    let p = demo::pupil;
    assert_eq!(numbers(row(r, p(1))), (5, 200, 25, json!(12.5), 1, 1));
    assert_eq!(numbers(row(r, p(2))), (3, 150, 0, json!(0.0), 0, 1));
    assert_eq!(numbers(row(r, p(3))), (5, 240, 150, json!(62.5), 3, 1));
    assert_eq!(row(r, p(3))["invalidMinutes"], 90);
    assert_eq!(row(r, p(3))["validMinutes"], 60);
    assert_eq!(row(r, p(3))["wholeDaysAbsent"], 1);
    assert_eq!(numbers(row(r, p(4))), (5, 240, 10, json!(4.2), 0, 1));
    assert_eq!(row(r, p(4))["lateMinutes"], 10);
    assert_eq!(numbers(row(r, p(5))), (5, 240, 0, json!(0.0), 0, 1));
    assert_eq!(row(r, p(5))["otherActivityMinutes"], 60);
    assert_eq!(numbers(row(r, p(20))), (5, 240, 0, json!(0.0), 0, 1));
    let t = &r["total"];
    assert_eq!(numbers(t), (98, 4670, 185, json!(4.0), 4, 20));
    assert_eq!(
        [
            &t["validMinutes"],
            &t["invalidMinutes"],
            &t["lateMinutes"],
            &t["otherActivityMinutes"],
            &t["wholeDaysAbsent"]
        ],
        [&json!(85), &json!(90), &json!(10), &json!(60), &json!(1)]
    );
}

async fn absence_by_day_gives_each_named_pupils_school_days(backend: Backend) {
    let app = app(backend).await;
    register_the_week(&app).await;
    let res = app
        .get(
            demo::staff(demo::PRINCIPAL),
            &format!(
                "/groups/{}/absence?{}&pupils={},{}",
                class_4a(),
                week(),
                demo::pupil(3),
                demo::pupil(1)
            ),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    let pupils = res.json["pupils"].as_array().expect("pupils");
    assert_eq!(pupils.len(), 2, "only the two named");
    let three = row(&res.json, demo::pupil(3));
    let days: Vec<(String, u64, u64)> = three["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                d["scheduledMinutes"].as_u64().unwrap(),
                d["absentMinutes"].as_u64().unwrap(),
            )
        })
        .collect();
    // Monday 45 + 45 + 60, all absent; Tuesday 45 + 45 so far, none.
    assert_eq!(
        days,
        [(MONDAY.to_string(), 150, 150), (TUESDAY.to_string(), 90, 0)]
    );
    assert_eq!(three["total"]["wholeDaysAbsent"], 1);
    let one = row(&res.json, demo::pupil(1));
    assert_eq!(one["days"][0]["validMinutes"], 25);
    assert_eq!(one["days"][0]["scheduledMinutes"], 130, "25 + 45 + 60");
}

async fn a_guardian_reads_their_own_childs_report_and_no_one_elses(backend: Backend) {
    let app = app(backend).await;
    register_the_week(&app).await;
    let guardian = demo::guardian(1);
    let own = app
        .get(
            guardian,
            &format!("/pupils/{}/absence-report?{}", demo::pupil(1), week()),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.json);
    assert_eq!(numbers(&own.json["total"]), (5, 200, 25, json!(12.5), 1, 1));
    assert_eq!(own.json["givenName"], "Alva");
    assert_eq!(own.json["days"].as_array().map(Vec::len), Some(2));
    // Another child of the same class, a child of another school, nobody.
    for pupil in [demo::pupil(3), demo::pupil(41), PersonId::generate()] {
        let res = app
            .get(
                guardian,
                &format!("/pupils/{pupil}/absence-report?{}", week()),
            )
            .await;
        assert_eq!(res.status, 404, "{pupil}: {}", res.json);
        assert!(!res.text.contains("scheduledMinutes"));
    }
    // The class's lists are for staff.
    for path in ["absence-report", "absence"] {
        let res = app
            .get(
                guardian,
                &format!("/groups/{}/{path}?{}", class_4a(), week()),
            )
            .await;
        assert_eq!(res.status, 403, "{path}: {}", res.json);
        assert!(!res.text.contains(&demo::pupil(3).to_string()));
    }
}

/// Writes a membership of a demo school group without a copy of the
/// pupil's name (as written before memberships carried names).
async fn put_membership(app: &TestApp, pupil: PersonId, group: GroupId) {
    let membership = directory::Relation::MemberOf {
        group_id: group,
        school_id: demo::school(),
        name: None,
    }
    .to_item(pupil)
    .unwrap();
    app.store.put(&membership, Condition::None).await.unwrap();
}

async fn a_pupil_in_two_groups_counts_a_lesson_of_both_once(backend: Backend) {
    let app = app(backend).await;
    let pupil = demo::pupil(6);
    put_membership(&app, pupil, demo::class(2)).await;
    let res = app
        .get(
            demo::staff(demo::MENTOR_4A),
            &format!("/pupils/{pupil}/absence-report?{}", week()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    // 4A's five held lessons (240 minutes) and 4B's Svenska on both days
    // (45 + 45); Monday's Idrott, given to both classes, once: 7 lessons,
    // 330 minutes (twice would be 8 and 390).
    assert_eq!(res.json["total"]["lessons"], 7, "{}", res.json);
    assert_eq!(res.json["total"]["scheduledMinutes"], 330);
}

async fn staff_read_a_groups_report_by_their_relation_to_the_group(backend: Backend) {
    let app = app(backend).await;
    let path = format!("/groups/{}/absence-report?{}", class_4a(), week());
    for (who, want) in [
        (demo::staff(demo::MENTOR_4A), 200),
        (demo::staff(demo::SUBJECT_TEACHER), 200),
        (demo::staff(demo::ADMIN), 200),
        (demo::staff(demo::PRINCIPAL), 200),
        // Staff of the school who neither teach nor mentor 4A.
        (demo::staff(demo::MENTOR_4B), 403),
        (demo::pupil(1), 403),
        (demo::staff(demo::OTHER_SCHOOL_ADMIN), 404),
        (demo::guardian(21), 404),
    ] {
        let res = app.get(who, &path).await;
        assert_eq!(res.status, want, "{who}: {}", res.json);
    }
    let unknown = app
        .get(
            demo::staff(demo::PRINCIPAL),
            &format!("/groups/{}/absence-report?{}", GroupId::generate(), week()),
        )
        .await;
    assert_eq!(unknown.status, 404);
}

/// Marks a pupil as having protected identity (registered by hand).
async fn protect(app: &TestApp, pupil: PersonId) {
    let mut person = directory::person(app.store.as_ref(), pupil)
        .await
        .unwrap()
        .expect("pupil");
    person.protected_identity = true;
    rewrite(app, &person).await;
}

/// Writes a changed pupil as a change by hand does: the person item, then
/// the copy of their name on their memberships.
async fn rewrite(app: &TestApp, person: &directory::Person) {
    let item = Item::new(keys::person(person.id), keys::PERSON, person).unwrap();
    app.store.put(&item, Condition::None).await.unwrap();
    let name = roster::RosterName::of(person);
    let copied = roster::copy_to_memberships(app.store.as_ref(), person.id, &name)
        .await
        .unwrap();
    assert_eq!(copied, 1, "the pupil's membership of 4A");
}

async fn a_pupil_whose_membership_has_no_copy_of_their_name_is_named_from_their_person(
    backend: Backend,
) {
    let app = app(backend).await;
    // Pupil 3's membership of 4A as written before memberships carried
    // names.
    let pupil = demo::pupil(3);
    put_membership(&app, pupil, demo::class(1)).await;
    let person = directory::person(app.store.as_ref(), pupil)
        .await
        .unwrap()
        .expect("pupil");
    let res = mentors_week_report(&app).await;
    assert_eq!(res.status, 200, "{}", res.json);
    let r = row(&res.json, pupil);
    assert_eq!(r["givenName"], person.given_name.as_str());
    assert_eq!(r["familyName"], person.family_name.as_str());
    // The others are named from their memberships' copies.
    let rows = res.json["pupils"].as_array().expect("rows");
    assert_eq!(rows.len(), 20, "{}", res.json);
    assert!(
        rows.iter()
            .all(|r| !r["familyName"].as_str().unwrap().is_empty())
    );
}

async fn a_protected_pupil_is_in_the_staffs_report_and_in_nothing_a_guardian_sees(
    backend: Backend,
) {
    let app = app(backend).await;
    register_the_week(&app).await;
    // Pupil 3, absent all Monday, has protected identity.
    let protected = demo::pupil(3);
    protect(&app, protected).await;
    let staff = mentors_week_report(&app).await;
    assert_eq!(staff.status, 200);
    let r = row(&staff.json, protected);
    assert_eq!(r["protectedIdentity"], true);
    assert_eq!(
        numbers(r),
        (5, 240, 150, json!(62.5), 3, 1),
        "counted alike"
    );
    assert_eq!(staff.json["total"]["absentMinutes"], 185);
    let name = r["familyName"].as_str().unwrap().to_string();
    assert!(
        row(&staff.json, demo::pupil(1))
            .get("protectedIdentity")
            .is_none()
    );

    // Everything another guardian of the class can ask for.
    let guardian = demo::guardian(1);
    let mut seen = String::new();
    for (path, want) in [
        (
            format!("/pupils/{}/absence-report?{}", demo::pupil(1), week()),
            200,
        ),
        (
            format!(
                "/pupils/{}/absence-report?{}&format=csv",
                demo::pupil(1),
                week()
            ),
            200,
        ),
        (
            format!("/pupils/{protected}/absence-report?{}", week()),
            404,
        ),
        (
            format!("/groups/{}/absence-report?{}", class_4a(), week()),
            403,
        ),
        (
            format!(
                "/groups/{}/absence-report?{}&format=csv",
                class_4a(),
                week()
            ),
            403,
        ),
        (format!("/groups/{}/absence?{}", class_4a(), week()), 403),
        (
            format!(
                "/groups/{}/absence?{}&pupils={protected}",
                class_4a(),
                week()
            ),
            403,
        ),
        (
            format!("/schools/{}/unreported-lessons?{}", demo::school(), week()),
            404,
        ),
    ] {
        let res = app.get(guardian, &path).await;
        assert_eq!(res.status, want, "{path}: {}", res.text);
        seen.push_str(&res.text);
    }
    assert!(!seen.contains(&protected.to_string()), "{seen}");
    assert!(!seen.contains(&name), "{seen}");
    // Their own guardian reads their report like any other.
    let own = app
        .get(
            demo::guardian(3),
            &format!("/pupils/{protected}/absence-report?{}", week()),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.json);
    assert_eq!(own.json["total"]["absentMinutes"], 150);
}

async fn csv_export_is_for_swedish_excel_and_guards_against_formulas(backend: Backend) {
    let app = app(backend).await;
    register_the_week(&app).await;
    // A family name that a spreadsheet would run as a formula.
    let mut person = directory::person(app.store.as_ref(), demo::pupil(3))
        .await
        .unwrap()
        .unwrap();
    person.family_name = "=HYPERLINK(\"http://x.invalid\";\"klicka\")".into();
    rewrite(&app, &person).await;

    let res = app
        .get(
            demo::staff(demo::MENTOR_4A),
            &format!(
                "/groups/{}/absence-report?{}&format=csv",
                class_4a(),
                week()
            ),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(
        res.content_type.starts_with("text/csv"),
        "{}",
        res.content_type
    );
    let disposition = res
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(
        disposition,
        "attachment; filename=\"franvaro-grupp-2026-11-23-2026-11-27.csv\""
    );
    assert!(res.text.starts_with('\u{feff}'), "UTF-8 with BOM");
    let lines: Vec<&str> = res
        .text
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .collect();
    assert_eq!(
        lines[0],
        "Efternamn;Förnamn;Elev-id;Lektioner;Schemalagda minuter;Giltig frånvaro (min);\
         Ogiltig frånvaro (min);Sen ankomst (min);Annan aktivitet (min);Frånvaro (min);\
         Missade lektioner;Ej rapporterade lektioner;Hela dagar frånvaro;Frånvaro (%)"
    );
    // A header, 20 pupils, the total, and the empty string after the last CRLF.
    assert_eq!(lines.len(), 1 + 20 + 1 + 1, "{}", res.text);
    assert_eq!(lines[22], "");
    let three = lines
        .iter()
        .find(|l| l.contains(&demo::pupil(3).to_string()))
        .expect("pupil 3's row");
    assert_eq!(
        *three,
        format!(
            "\"'=HYPERLINK(\"\"http://x.invalid\"\";\"\"klicka\"\")\";Maja;{};5;240;60;90;0;0;150;3;1;1;62,5",
            demo::pupil(3)
        )
    );
    assert_eq!(lines[21], "Totalt 4A;;;98;4670;85;90;10;60;185;4;20;1;4,0");

    // The same report as JSON still has the name as it is.
    let json = mentors_week_report(&app).await;
    assert_eq!(
        row(&json.json, demo::pupil(3))["familyName"],
        person.family_name
    );
}

async fn bad_periods_and_parameters_are_a_400_naming_the_field(backend: Backend) {
    let app = app(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let group = format!("/groups/{}/absence", class_4a());
    for (path, field) in [
        (format!("{group}?to=2026-11-27"), "from"),
        (format!("{group}?from=2026-11-23"), "to"),
        (format!("{group}?from=23/11/2026&to=2026-11-27"), "from"),
        (format!("{group}?from=2026-11-23&to=2026-02-30"), "to"),
        (format!("{group}?from=2026-11-27&to=2026-11-23"), "from"),
        // 367 days: 2025-11-23 ..= 2026-11-24.
        (format!("{group}?from=2025-11-23&to=2026-11-24"), "to"),
        (format!("{group}?{}&format=xlsx", week()), "format"),
        (
            format!("{group}?{}&pupils={},nope", week(), demo::pupil(1)),
            "pupils[1]",
        ),
        (
            format!("{group}?{}&pupils={}", week(), demo::pupil(21)),
            "pupils[0]",
        ),
        (
            format!("/groups/not-a-group/absence-report?{}", week()),
            "groupId",
        ),
        (
            "/pupils/01JD0000000000000000000P01/absence-report?from=x&to=2026-11-27".into(),
            "from",
        ),
        (
            format!(
                "/schools/{}/unreported-lessons?from=2026-11-23",
                demo::school()
            ),
            "to",
        ),
    ] {
        let res = app.get(mentor, &path).await;
        assert_eq!(res.status, 400, "{path}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(
            res.json["invalidParams"][0]["name"], field,
            "{path}: {}",
            res.json
        );
    }
    // 366 days is the most, and fine.
    let res = app
        .get(mentor, &format!("{group}?from=2025-11-24&to=2026-11-24"))
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
}

async fn a_schools_leaders_see_its_unreported_lessons_per_teacher(backend: Backend) {
    let app = app(backend).await;
    register_the_week(&app).await;
    let path = format!("/schools/{}/unreported-lessons?{}", demo::school(), week());
    let res = app.get(demo::staff(demo::PRINCIPAL), &path).await;
    assert_eq!(res.status, 200, "{}", res.json);
    // Held and unreported: 4B's Svenska on Monday and Tuesday (4B's
    // mentor), 4A's Matematik on Tuesday (the subject teacher). Tuesday's
    // Idrott has not begun.
    let teachers: Vec<(String, u64, Vec<String>)> = res.json["teachers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["teacherId"].as_str().unwrap().to_string(),
                t["count"].as_u64().unwrap(),
                t["lessons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["id"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        teachers,
        [
            (
                demo::staff(demo::MENTOR_4B).to_string(),
                2,
                vec![
                    lesson(MONDAY, 3).to_string(),
                    lesson(TUESDAY, 3).to_string()
                ]
            ),
            (
                demo::staff(demo::SUBJECT_TEACHER).to_string(),
                1,
                vec![lesson(TUESDAY, 2).to_string()]
            ),
        ]
    );
    let csv = app
        .get(demo::staff(demo::ADMIN), &format!("{path}&format=csv"))
        .await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1 + 3, "{}", csv.text);
    assert_eq!(
        lines[3],
        format!(
            "Holm;Sara;{};2026-11-24;09:10;09:55;Matematik 4A;{}",
            demo::staff(demo::SUBJECT_TEACHER),
            lesson(TUESDAY, 2)
        )
    );
    for (who, want) in [
        (demo::staff(demo::MENTOR_4A), 403),
        (demo::staff(demo::OTHER_SCHOOL_ADMIN), 404),
        (demo::guardian(1), 404),
    ] {
        let res = app.get(who, &path).await;
        assert_eq!(res.status, want, "{who}: {}", res.json);
    }
}

on_both_stores!(
    a_groups_report_over_a_week_adds_up_as_counted_by_hand,
    absence_by_day_gives_each_named_pupils_school_days,
    a_guardian_reads_their_own_childs_report_and_no_one_elses,
    a_pupil_in_two_groups_counts_a_lesson_of_both_once,
    staff_read_a_groups_report_by_their_relation_to_the_group,
    a_pupil_whose_membership_has_no_copy_of_their_name_is_named_from_their_person,
    a_protected_pupil_is_in_the_staffs_report_and_in_nothing_a_guardian_sees,
    csv_export_is_for_swedish_excel_and_guards_against_formulas,
    bad_periods_and_parameters_are_a_400_naming_the_field,
    a_schools_leaders_see_its_unreported_lessons_per_teacher,
);
