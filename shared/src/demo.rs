//! The demo school the local server starts with, and the tests' fixture:
//! Solrosskolan with classes 4A and 4B (20 pupils each, one or two
//! guardians per pupil), a mentor per class, a subject teacher, an admin and
//! a principal; and a second school, Ekbackens skola, so that isolation
//! between schools can be seen. Ids are fixed ULIDs, so the README's
//! walk-through and the sample events name real objects.

use crate::child_places::ChildPlaces;
use crate::directory::{
    self, Group, GroupKind, Language, Organisation, Person, Relation, School, SchoolSettings,
    StaffRole,
};
use crate::ids::{GroupId, OrganisationId, PersonId, SchoolId};
use crate::store::{Item, Store, StoreError};

/// A fixed demo id: `01JD0000000000000000000` + a letter + two digits.
fn ulid(letter: char, n: u32) -> ulid::Ulid {
    let text = format!("01JD0000000000000000000{letter}{n:02}");
    // The alphabet and length are fixed above, so this always parses.
    ulid::Ulid::from_string(&text).unwrap_or_default()
}

pub fn organisation() -> OrganisationId {
    OrganisationId::from_ulid(ulid('H', 1))
}
pub fn school() -> SchoolId {
    SchoolId::from_ulid(ulid('S', 1))
}
pub fn other_school() -> SchoolId {
    SchoolId::from_ulid(ulid('S', 2))
}
pub fn class(n: u32) -> GroupId {
    GroupId::from_ulid(ulid('K', n))
}
/// Pupils 1-20 are in 4A, 21-40 in 4B, 41 at the other school.
pub fn pupil(n: u32) -> PersonId {
    PersonId::from_ulid(ulid('P', n))
}
/// Guardian n (1-41) is the first guardian of pupil n; guardians 51-70
/// are second guardians of the even-numbered pupils 2-40.
pub fn guardian(n: u32) -> PersonId {
    PersonId::from_ulid(ulid('G', n))
}
pub fn staff(n: u32) -> PersonId {
    PersonId::from_ulid(ulid('T', n))
}

/// The first guardian's mobile number, as a registry sends it (second
/// guardians have none).
pub fn guardian_mobile(n: u32) -> String {
    format!("070-{:03} {:02} {:02}", 100 + n, n, n)
}

/// Texts Solrosskolan may send (B6); Ekbackens skola has none and does
/// not alert.
pub const DEMO_SMS_CREDIT: u32 = 100;

pub const MENTOR_4A: u32 = 1;
pub const MENTOR_4B: u32 = 2;
pub const SUBJECT_TEACHER: u32 = 3;
pub const ADMIN: u32 = 4;
pub const PRINCIPAL: u32 = 5;
pub const OTHER_SCHOOL_ADMIN: u32 = 6;
pub const ORGANISATION_ADMIN: u32 = 7;

const GIVEN: [&str; 20] = [
    "Alva",
    "Elsa",
    "Maja",
    "Astrid",
    "Wilma",
    "Freja",
    "Saga",
    "Ebba",
    "Selma",
    "Alice",
    "Noah",
    "Hugo",
    "William",
    "Liam",
    "Lucas",
    "Oscar",
    "Elias",
    "Adam",
    "Vincent",
    "Alexander",
];
const FAMILY: [&str; 20] = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Jönsson",
    "Lindberg",
    "Jakobsson",
    "Magnusson",
    "Lindström",
];
const ADULT_GIVEN: [&str; 10] = [
    "Anna", "Erik", "Maria", "Lars", "Karin", "Anders", "Sara", "Johan", "Emma", "Per",
];

pub(crate) fn person(
    id: PersonId,
    given: &str,
    family: &str,
    email: bool,
    language: Language,
) -> Person {
    let mail = |g: &str, f: &str| {
        let ascii = |s: &str| s.to_lowercase().replace(['å', 'ä'], "a").replace('ö', "o");
        format!(
            "{}.{}.{}@example.se",
            ascii(g),
            ascii(f),
            &id.to_string()[23..]
        )
    };
    Person {
        id,
        given_name: given.to_string(),
        family_name: family.to_string(),
        email: email.then(|| mail(given, family)),
        mobile: None,
        text_to: None,
        language,
        mail: Default::default(),
        left: None,
        protected_identity: false,
    }
}

/// A login printed by the local server.
pub struct DemoLogin {
    pub login: &'static str,
    pub person: PersonId,
    pub what: &'static str,
}

pub fn logins() -> Vec<DemoLogin> {
    vec![
        DemoLogin {
            login: "guardian",
            person: guardian(1),
            what: "guardian (vårdnadshavare) of pupil 1 in 4A",
        },
        DemoLogin {
            login: "guardian-en",
            person: guardian(2),
            what: "guardian of pupil 2 in 4A, reads English",
        },
        DemoLogin {
            login: "guardian-4b",
            person: guardian(21),
            what: "guardian of pupil 21 in 4B",
        },
        DemoLogin {
            login: "pupil",
            person: pupil(1),
            what: "pupil 1 in 4A",
        },
        DemoLogin {
            login: "mentor",
            person: staff(MENTOR_4A),
            what: "teacher and mentor of 4A",
        },
        DemoLogin {
            login: "mentor-4b",
            person: staff(MENTOR_4B),
            what: "teacher and mentor of 4B",
        },
        DemoLogin {
            login: "teacher",
            person: staff(SUBJECT_TEACHER),
            what: "subject teacher of 4A and 4B, mentor of none",
        },
        DemoLogin {
            login: "admin",
            person: staff(ADMIN),
            what: "school administrator of Solrosskolan",
        },
        DemoLogin {
            login: "principal",
            person: staff(PRINCIPAL),
            what: "principal (rektor) of Solrosskolan",
        },
        DemoLogin {
            login: "other-admin",
            person: staff(OTHER_SCHOOL_ADMIN),
            what: "school administrator of Ekbackens skola (another school)",
        },
        DemoLogin {
            login: "org-admin",
            person: staff(ORGANISATION_ADMIN),
            what: "organisation administrator of Solbacka kommun (imports)",
        },
    ]
}

/// Every item of the demo organisation.
pub fn items() -> Result<Vec<Item>, StoreError> {
    let mut items = vec![directory::organisation_item(&Organisation {
        id: organisation(),
        name: "Solbacka kommun".into(),
    })?];
    for (id, name) in [
        (school(), "Solrosskolan"),
        (other_school(), "Ekbackens skola"),
    ] {
        items.push(directory::school_item(&School {
            id,
            organisation_id: organisation(),
            name: name.into(),
            settings: SchoolSettings {
                alert_unexcused_absence: id == school(),
                attendance_comments: ["Tandläkare", "Studiebesök", "Glömt idrottskläder"]
                    .map(String::from)
                    .to_vec(),
                ..SchoolSettings::default()
            },
        })?);
    }
    let mut credit = crate::alerts::credit::SmsCredit::none(school());
    credit.credit = DEMO_SMS_CREDIT;
    items.push(credit.to_item(1)?);
    for (n, name, school) in [
        (1, "4A", school()),
        (2, "4B", school()),
        (3, "5C", other_school()),
    ] {
        items.push(directory::group_item(&Group {
            id: class(n),
            school_id: school,
            name: name.into(),
            kind: GroupKind::Class,
        })?);
    }

    let mut add = |p: Person, relations: Vec<Relation>| -> Result<(), StoreError> {
        items.extend(directory::person_items(&p, &relations)?);
        Ok(())
    };

    for n in 1..=41u32 {
        let (group, school) = match n {
            1..=20 => (class(1), school()),
            21..=40 => (class(2), school()),
            _ => (class(3), other_school()),
        };
        let i = (n as usize - 1) % 20;
        let family = FAMILY[(n as usize * 7) % 20];
        let pupil_relations = vec![
            Relation::EnrolledAt {
                school_id: school,
                school_year: Some(if n <= 40 { 4 } else { 5 }),
            },
            // Named by `person_items`, as the import names it.
            Relation::MemberOf {
                group_id: group,
                school_id: school,
                name: None,
            },
        ];
        // Each guardianship carries its copy, as the import writes it.
        let guardian_of = || Relation::GuardianOf {
            pupil_id: pupil(n),
            places: Some(ChildPlaces::of(&pupil_relations)),
        };
        let guardianship = guardian_of();
        add(
            person(pupil(n), GIVEN[i], family, false, Language::Sv),
            pupil_relations.clone(),
        )?;
        let language = if n == 2 { Language::En } else { Language::Sv };
        let mut first = person(
            guardian(n),
            ADULT_GIVEN[(n as usize) % 10],
            family,
            true,
            language,
        );
        first.mobile = Some(guardian_mobile(n));
        first.text_to = crate::sms::MobileNumber::parse(&guardian_mobile(n));
        add(first, vec![guardianship])?;
        if n % 2 == 0 && n <= 40 {
            add(
                person(
                    guardian(50 + n / 2),
                    ADULT_GIVEN[(n as usize + 3) % 10],
                    family,
                    true,
                    Language::Sv,
                ),
                vec![guardian_of()],
            )?;
        }
    }

    let s = school();
    let duty = |school_id, role| Relation::Duty { school_id, role };
    for (n, given, family, class_n) in [
        (MENTOR_4A, "Karin", "Lind", 1),
        (MENTOR_4B, "Johan", "Ek", 2),
    ] {
        let group_id = class(class_n);
        add(
            person(staff(n), given, family, true, Language::Sv),
            vec![
                duty(s, StaffRole::Teacher),
                Relation::MentorOf {
                    group_id,
                    school_id: s,
                },
                Relation::TeacherOf {
                    group_id,
                    school_id: s,
                },
            ],
        )?;
    }
    add(
        person(staff(SUBJECT_TEACHER), "Sara", "Holm", true, Language::Sv),
        vec![
            duty(s, StaffRole::Teacher),
            Relation::TeacherOf {
                group_id: class(1),
                school_id: s,
            },
            Relation::TeacherOf {
                group_id: class(2),
                school_id: s,
            },
        ],
    )?;
    add(
        person(staff(ADMIN), "Eva", "Berg", true, Language::Sv),
        vec![duty(s, StaffRole::SchoolAdmin)],
    )?;
    add(
        person(staff(PRINCIPAL), "Anders", "Strand", true, Language::Sv),
        vec![duty(s, StaffRole::Principal)],
    )?;
    add(
        person(staff(OTHER_SCHOOL_ADMIN), "Lena", "Sjö", true, Language::Sv),
        vec![duty(other_school(), StaffRole::SchoolAdmin)],
    )?;
    add(
        person(staff(ORGANISATION_ADMIN), "Karin", "Ek", true, Language::Sv),
        vec![Relation::OrganisationAdmin {
            organisation_id: organisation(),
        }],
    )?;
    Ok(items)
}

/// Writes the demo organisation unless it is there already.
pub async fn seed(store: &dyn Store) -> Result<bool, StoreError> {
    if directory::school(store, school()).await?.is_some() {
        return Ok(false);
    }
    store.batch_put(&items()?).await?;
    Ok(true)
}

/// A school day of lessons (A4) on `day` for the tests and the demo (ids
/// `...V<weekday><n>`, so each day of a week has its own):
/// 4A Svenska 08:15 (its mentor; pupil 1 arrives 08:35, pupil 2 is not
/// expected), 4A Matematik 09:10 (the subject teacher), 4B Svenska 08:15
/// (its mentor) and Idrott for 4A and 4B together at 13:00 (the subject
/// teacher). The schedule is imported in production; these are written
/// straight to the store.
pub fn lessons(day: chrono::NaiveDate) -> Vec<crate::lessons::Lesson> {
    use crate::ids::{ActivityId, LessonId};
    use crate::lessons::{Lesson, PupilException, minutes_between};
    use chrono::{Datelike, TimeZone};
    // Distinct ids for each weekday's lessons (`V01`..`V04` on Mondays).
    let base = 10 * day.weekday().num_days_from_monday();
    let at = |h: u32, m: u32| {
        let naive = day.and_hms_opt(h, m, 0).unwrap_or_default();
        chrono_tz::Europe::Stockholm
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default()
    };
    let lesson = |n: u32,
                  title: &str,
                  subject: &str,
                  groups: Vec<GroupId>,
                  teacher: u32,
                  start: (u32, u32),
                  end: (u32, u32)| {
        let (start, end) = (at(start.0, start.1), at(end.0, end.1));
        let (start, end) = (crate::lessons::local(start), crate::lessons::local(end));
        Lesson {
            id: LessonId::from_ulid(ulid('V', base + n)),
            activity_id: ActivityId::from_ulid(ulid('A', n)),
            school_id: school(),
            title: title.into(),
            subject: Some(subject.into()),
            group_ids: groups,
            teacher_ids: vec![staff(teacher)],
            rooms: vec![format!("Sal {}", 10 + n)],
            start,
            end,
            minutes: minutes_between(start, end),
            cancelled: false,
            removed: false,
            pupil_exceptions: vec![],
            teacher_exceptions: vec![],
        }
    };
    let mut svenska_4a = lesson(
        1,
        "Svenska 4A",
        "Svenska",
        vec![class(1)],
        MENTOR_4A,
        (8, 15),
        (9, 0),
    );
    let span = (svenska_4a.start, svenska_4a.end);
    svenska_4a.pupil_exceptions = vec![
        PupilException::new(pupil(1), true, Some(at(8, 35)), None, span),
        PupilException::new(pupil(2), false, None, None, span),
    ];
    vec![
        svenska_4a,
        lesson(
            2,
            "Matematik 4A",
            "Matematik",
            vec![class(1)],
            SUBJECT_TEACHER,
            (9, 10),
            (9, 55),
        ),
        lesson(
            3,
            "Svenska 4B",
            "Svenska",
            vec![class(2)],
            MENTOR_4B,
            (8, 15),
            (9, 0),
        ),
        lesson(
            4,
            "Idrott 4AB",
            "Idrott och hälsa",
            vec![class(1), class(2)],
            SUBJECT_TEACHER,
            (13, 0),
            (14, 0),
        ),
    ]
}

/// Writes [`lessons`] of `day` (every item of each lesson).
pub async fn seed_lessons(store: &dyn Store, day: chrono::NaiveDate) -> Result<(), StoreError> {
    let mut items = Vec::new();
    for lesson in lessons(day) {
        items.extend(lesson.items()?);
    }
    store.batch_put(&items).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_ids_are_the_fixed_ulids_the_readme_and_events_name() {
        assert_eq!(pupil(1).to_string(), "01JD0000000000000000000P01");
        assert_eq!(school().to_string(), "01JD0000000000000000000S01");
        assert_eq!(guardian(1).to_string(), "01JD0000000000000000000G01");
    }

    #[test]
    fn every_demo_item_has_a_distinct_key() {
        let items = items().expect("demo items");
        let keys: std::collections::HashSet<_> = items.iter().map(|i| i.key.clone()).collect();
        assert_eq!(keys.len(), items.len());
        assert!(items.len() > 150);
    }
}
