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

#[tokio::test]
async fn every_use_case_answers_every_role_as_the_policy_says_on_sqlite() {
    every_use_case_answers_every_role_as_the_policy_says(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_use_case_answers_every_role_as_the_policy_says_on_dynamodb() {
    every_use_case_answers_every_role_as_the_policy_says(Backend::Dynamo).await;
}
