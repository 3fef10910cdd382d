//! The use cases the harness measures, the data they run on, and the
//! events that carry them. Each later use case adds a row to CASES.

use crate::{BenchResult, COLD, WARM, record};
use chrono::{Days, NaiveDate};
use http::Method;
use skolnav::absence::{self, NewReport, Period, Reason};
use skolnav::attendance::{self, AbsenceReason, NewAbsence};
use skolnav::clock::{Clock, SystemClock};
use skolnav::demo;
use skolnav::devkeys::DevIssuer;
use skolnav::directory;
use skolnav::files::FolderFiles;
use skolnav::ids::{
    FileId, ImportRunId, NoticeId, OutboxId, PersonId, PostId, ReportId, SlotId, TalkRoundId,
};
use skolnav::outbox::{self, Notice};
use skolnav::store::{Condition, Store};
use skolnav::talks::{self, NewTalkTimes, TalkDay, TargetRound, Venue};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Read,
    Write,
    Event,
}

/// One request of a use case.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<String>,
    pub who: PersonId,
}

pub struct Case {
    pub function: &'static str,
    pub kind: Kind,
    pub expected_status: u16,
    /// The i-th request (i < COLD + WARM), on a table's fixture.
    pub call: fn(&Fixture, usize) -> Call,
}

/// Reports waiting for approval and talk rounds, made before the run on
/// each table.
pub struct Fixture {
    pub today: NaiveDate,
    pub pending: Vec<(u32, ReportId)>,
    /// Per class (4A, 4B) and round: open slots, one per pupil.
    pub book_rounds: [Vec<Vec<SlotId>>; 2],
    /// Per class and round: 40 slots, the first 20 booked by the class's
    /// pupils in order, the rest open to move to.
    pub move_rounds: [Vec<(TalkRoundId, Vec<SlotId>)>; 2],
    /// The first day of the week of demo lessons that ends today: each
    /// day's lessons (`demo::lessons`), those before today registered.
    pub week_start: NaiveDate,
    /// The first class's seeded posts, for the author's edits.
    pub posts_4a: Vec<PostId>,
    /// Per pupil n (index n - 1): the newest notice of their first
    /// guardian, for marking read.
    pub notices: Vec<NoticeId>,
    /// Per pupil n (index n - 1): their first guardian's calendar feed
    /// token.
    pub feed_tokens: Vec<String>,
    /// A PDF attached to 4A's fifth post (one blog-edit does not touch),
    /// for the guardians' downloads.
    pub attachment: FileId,
    /// Posts in 5C's blog (Ekbackens skola, which no read case reads), one
    /// per request, for its admin to delete.
    pub posts_5c: Vec<PostId>,
    /// A requested import run, for the run's record.
    pub import_run: ImportRunId,
}

/// Days of demo lessons before today, for the reports.
const LESSON_DAYS_BACK: u64 = 6;

/// `?from=..&to=..` of the week of lessons.
fn week(fx: &Fixture) -> String {
    format!("from={}&to={}", fx.week_start, fx.today)
}

fn get(path: String, who: PersonId) -> Call {
    Call {
        method: Method::GET,
        path,
        body: None,
        who,
    }
}

fn delete(path: String, who: PersonId) -> Call {
    Call {
        method: Method::DELETE,
        path,
        body: None,
        who,
    }
}

fn send(method: Method, path: String, body: String, who: PersonId) -> Call {
    Call {
        method,
        path,
        body: Some(body),
        who,
    }
}

/// `?from=..&to=..` of the next 30 days, where the seeded events are.
fn month_ahead(fx: &Fixture) -> String {
    let to = fx.today.checked_add_days(Days::new(30)).unwrap_or(fx.today);
    format!("from={}&to={to}", fx.today)
}

/// The class of pupil n (1-20 in 4A, 21-40 in 4B).
fn class_of(n: u32) -> skolnav::ids::GroupId {
    demo::class(if n > 20 { 2 } else { 1 })
}

/// Talk rounds per class for booking and for moving: every request of a
/// run books (or moves) a different pupil-and-round pair.
const TALK_ROUNDS: usize = (COLD + WARM).div_ceil(PUPILS as usize);

/// Class (0 for 4A, 1 for 4B), the pupil's place in it, and the round of
/// the i-th talk request.
fn talk_seat(i: usize) -> (u32, usize, usize, usize) {
    let n = pupil_of(i);
    let class = usize::from(n > 20);
    (n, class, (n as usize - 1) % 20, i / PUPILS as usize)
}

const PUPILS: u32 = 40;

fn pupil_of(i: usize) -> u32 {
    (i as u32 % PUPILS) + 1
}

fn mentor_of(pupil: u32) -> PersonId {
    if pupil <= 20 {
        demo::staff(demo::MENTOR_4A)
    } else {
        demo::staff(demo::MENTOR_4B)
    }
}

pub fn me_call(i: usize) -> Call {
    get("/me".into(), demo::guardian(pupil_of(i)))
}

/// The usual-way baseline's i-th request: the person item of me_call's
/// caller, by its key (`bench/usual` reads `?pk=..&sk=..`).
pub fn usual_call(i: usize) -> Call {
    let who = demo::guardian(pupil_of(i));
    let key = skolnav::keys::person(who);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("pk", &key.pk)
        .append_pair("sk", &key.sk)
        .finish();
    get(format!("/people?{query}"), who)
}

/// The cases in the order the harness measures them: every read before
/// any write, each in its order in `CASES`. A write adds to what a later
/// read reads (calendar-create's events to the calendar feed, the posts
/// published to the blog and news lists, talk-book's bookings to the
/// booking list), so in table order a read's figures depended on which
/// cases were selected with it; read first, every read case reads the
/// fixture as seeded.
pub fn in_measuring_order() -> impl Iterator<Item = &'static Case> {
    let reads = CASES.iter().filter(|c| c.kind == Kind::Read);
    reads.chain(CASES.iter().filter(|c| c.kind != Kind::Read))
}

pub static CASES: &[Case] = &[
    Case {
        function: "directory-me",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| me_call(i),
    },
    Case {
        function: "absence-list",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| {
            let n = pupil_of(i);
            get(
                format!("/pupils/{}/absence-reports", demo::pupil(n)),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "absence-pending",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, _| {
            get(
                format!("/schools/{}/absence-reports/pending", demo::school()),
                demo::staff(demo::ADMIN),
            )
        },
    },
    Case {
        function: "absence-today",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, _| {
            get(
                format!("/schools/{}/absence-today", demo::school()),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "absence-report",
        kind: Kind::Write,
        expected_status: 201,
        call: |fx, i| {
            let n = pupil_of(i);
            let day = fx
                .today
                .checked_add_days(Days::new(5 + (i as u64 / PUPILS as u64)))
                .unwrap_or(fx.today);
            send(
                Method::POST,
                format!("/pupils/{}/absence-reports", demo::pupil(n)),
                format!(r#"{{"firstDay":"{day}","reason":"sick"}}"#),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "absence-approve",
        kind: Kind::Write,
        expected_status: 200,
        call: |fx, i| {
            let (n, report) = fx.pending[i % fx.pending.len()];
            send(
                Method::POST,
                format!(
                    "/pupils/{}/absence-reports/{report}/approve",
                    demo::pupil(n)
                ),
                "{}".into(),
                mentor_of(n),
            )
        },
    },
    Case {
        function: "talk-slots",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| {
            let n = pupil_of(i);
            get(
                format!("/groups/{}/talks/slots", class_of(n)),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "talk-book",
        kind: Kind::Write,
        expected_status: 201,
        call: |fx, i| {
            let (n, class, seat, round) = talk_seat(i);
            let slot = fx.book_rounds[class]
                .get(round)
                .and_then(|r| r.get(seat))
                .map(|s| s.to_string())
                .unwrap_or_default();
            send(
                Method::POST,
                format!("/pupils/{}/talk-bookings", demo::pupil(n)),
                format!(r#"{{"slotId":"{slot}"}}"#),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "talk-move",
        kind: Kind::Write,
        expected_status: 200,
        call: |fx, i| {
            let (n, class, seat, round) = talk_seat(i);
            let (round_id, target) = fx.move_rounds[class]
                .get(round)
                .map(|(r, slots)| {
                    (
                        r.to_string(),
                        slots
                            .get(20 + seat)
                            .map(|s| s.to_string())
                            .unwrap_or_default(),
                    )
                })
                .unwrap_or_default();
            send(
                Method::PUT,
                format!("/pupils/{}/talk-bookings/{round_id}", demo::pupil(n)),
                format!(r#"{{"slotId":"{target}"}}"#),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "lessons-teacher-day",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, _| {
            let teacher = demo::staff(demo::SUBJECT_TEACHER);
            get(
                format!("/teachers/{teacher}/lessons?date={}", fx.today),
                teacher,
            )
        },
    },
    Case {
        function: "lessons-group-day",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, i| {
            let n = pupil_of(i);
            get(
                format!("/groups/{}/lessons?date={}", class_of(n), fx.today),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "lessons-unreported",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, _| {
            get(
                "/me/lessons/unreported".into(),
                demo::staff(demo::SUBJECT_TEACHER),
            )
        },
    },
    Case {
        function: "attendance-get",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, _| {
            let lesson = demo::lessons(fx.today)[0].id;
            get(
                format!("/lessons/{lesson}/attendance"),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "attendance-register",
        kind: Kind::Write,
        expected_status: 200,
        call: |fx, i| {
            // Today's Svenska 4A, registered again and again: three
            // pupils away, the third of them a different one each time.
            let lesson = demo::lessons(fx.today)[0].id;
            let third = 5 + (i as u32 % 15);
            send(
                Method::PUT,
                format!("/lessons/{lesson}/attendance"),
                format!(
                    r#"{{"absences":[{{"pupilId":"{}","reason":"valid"}},{{"pupilId":"{}","reason":"late","minutes":10}},{{"pupilId":"{}","reason":"invalid"}}]}}"#,
                    demo::pupil(3),
                    demo::pupil(4),
                    demo::pupil(third)
                ),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "absence-group-report",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, _| {
            get(
                format!("/groups/{}/absence-report?{}", demo::class(1), week(fx)),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "absence-pupil-report",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, i| {
            let n = (i as u32 % 20) + 1;
            get(
                format!("/pupils/{}/absence-report?{}", demo::pupil(n), week(fx)),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "school-settings-get",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, _| {
            get(
                format!("/schools/{}/settings", demo::school()),
                demo::staff(demo::PRINCIPAL),
            )
        },
    },
    Case {
        function: "blog-publish",
        kind: Kind::Write,
        expected_status: 201,
        call: |_, i| {
            send(
                Method::POST,
                "/blog/posts".into(),
                format!(
                    r#"{{"audience":{{"groups":[{{"groupId":"{}"}}]}},"title":"Veckobrev {i}","body":"Den här veckan **läser** vi om vikingarna. Ta med matsäck på fredag."}}"#,
                    demo::class(1)
                ),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "news-publish",
        kind: Kind::Write,
        expected_status: 201,
        call: |_, i| {
            send(
                Method::POST,
                "/news".into(),
                format!(
                    r#"{{"audience":{{"school":{{"schoolId":"{}","pupils":true,"guardians":true}}}},"title":"Nyhet {i}","body":"Skolfotografering på tisdag."}}"#,
                    demo::school()
                ),
                demo::staff(demo::PRINCIPAL),
            )
        },
    },
    Case {
        function: "me-feed",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| get("/me/feed".into(), demo::guardian(pupil_of(i))),
    },
    Case {
        function: "blog-feed",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| {
            let n = (i as u32 % 20) + 1;
            get(
                format!("/groups/{}/posts", demo::class(1)),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "notices-unread",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| get("/me/notices".into(), demo::guardian(pupil_of(i))),
    },
    Case {
        function: "sms-credit-get",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, _| {
            get(
                format!("/schools/{}/sms-credit", demo::school()),
                demo::staff(demo::ADMIN),
            )
        },
    },
    Case {
        function: "news-school",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| {
            get(
                format!("/schools/{}/news?limit=20", demo::school()),
                demo::guardian(pupil_of(i)),
            )
        },
    },
    Case {
        function: "news-group",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| {
            let n = pupil_of(i);
            get(
                format!("/groups/{}/news?limit=20", class_of(n)),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "calendar-group",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, i| {
            let n = pupil_of(i);
            get(
                format!("/groups/{}/calendar?{}", class_of(n), month_ahead(fx)),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "calendar-school",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, i| {
            get(
                format!("/schools/{}/calendar?{}", demo::school(), month_ahead(fx)),
                demo::guardian(pupil_of(i)),
            )
        },
    },
    Case {
        function: "notices-unread-count",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| {
            get(
                "/me/notices/unread-count".into(),
                demo::guardian(pupil_of(i)),
            )
        },
    },
    Case {
        function: "preferences-get",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, i| get("/me/preferences".into(), demo::guardian(pupil_of(i))),
    },
    Case {
        function: "talk-bookings",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, _| {
            get(
                format!("/groups/{}/talks/bookings", demo::class(1)),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "absence-group-days",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, _| {
            get(
                format!("/groups/{}/absence?{}", demo::class(1), week(fx)),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "lessons-school-unreported",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, _| {
            get(
                format!(
                    "/schools/{}/unreported-lessons?{}",
                    demo::school(),
                    week(fx)
                ),
                demo::staff(demo::PRINCIPAL),
            )
        },
    },
    Case {
        function: "import-runs",
        kind: Kind::Read,
        expected_status: 200,
        call: |_, _| {
            get(
                format!("/organisations/{}/imports", demo::organisation()),
                demo::staff(demo::ORGANISATION_ADMIN),
            )
        },
    },
    Case {
        function: "preferences-put",
        kind: Kind::Write,
        expected_status: 200,
        call: |_, i| {
            send(
                Method::PUT,
                "/me/preferences".into(),
                format!(
                    r#"{{"language":"sv","mail":{{"importantNotices":true,"schoolMessages":{},"userMessages":true}}}}"#,
                    i % 2 == 0
                ),
                demo::guardian(pupil_of(i)),
            )
        },
    },
    Case {
        function: "notices-read",
        kind: Kind::Write,
        expected_status: 200,
        call: |fx, i| {
            let n = pupil_of(i);
            let notice = fx
                .notices
                .get(n as usize - 1)
                .map(|id| id.to_string())
                .unwrap_or_default();
            send(
                Method::POST,
                format!("/me/notices/{notice}/read"),
                String::new(),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "school-settings-put",
        kind: Kind::Write,
        expected_status: 200,
        call: |_, i| {
            send(
                Method::PUT,
                format!("/schools/{}/settings", demo::school()),
                format!(
                    r#"{{"autoApproveAbsence":false,"otherResponsiblesAreGuardians":false,"alertUnexcusedAbsence":true,"attendanceComments":["Tandläkare","Studiebesök {i}"]}}"#
                ),
                demo::staff(demo::PRINCIPAL),
            )
        },
    },
    Case {
        function: "sms-credit-add",
        kind: Kind::Write,
        expected_status: 200,
        call: |_, _| {
            send(
                Method::POST,
                format!("/schools/{}/sms-credit", demo::school()),
                r#"{"add":10}"#.into(),
                demo::staff(demo::ORGANISATION_ADMIN),
            )
        },
    },
    Case {
        function: "calendar-create",
        kind: Kind::Write,
        expected_status: 201,
        call: |fx, i| {
            let day = fx
                .today
                .checked_add_days(Days::new(1 + i as u64 % 20))
                .unwrap_or(fx.today);
            send(
                Method::POST,
                "/calendar/events".into(),
                format!(
                    r#"{{"audience":{{"groups":[{{"groupId":"{}"}}]}},"title":"Utflykt {i}","description":"Ta med matsäck och kläder efter väder.","start":"{day}T09:00:00","end":"{day}T11:30:00"}}"#,
                    demo::class(1)
                ),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "calendar-feed-create",
        kind: Kind::Write,
        expected_status: 201,
        call: |_, i| {
            send(
                Method::POST,
                "/me/calendar-feed".into(),
                "{}".into(),
                // The second guardians (51-70): the first ones' feeds are
                // what calendar-feed reads.
                demo::guardian(51 + i as u32 % 20),
            )
        },
    },
    Case {
        function: "calendar-feed",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, i| {
            let n = pupil_of(i);
            let token = fx
                .feed_tokens
                .get(n as usize - 1)
                .cloned()
                .unwrap_or_default();
            get(format!("/calendar/feeds/{token}"), demo::guardian(n))
        },
    },
    Case {
        function: "talk-create",
        kind: Kind::Write,
        expected_status: 201,
        call: |fx, i| {
            // A day of its own for each request (creations that overlap
            // are refused), after the seeded rounds.
            let day = fx
                .today
                .checked_add_days(Days::new(200 + i as u64))
                .unwrap_or(fx.today);
            send(
                Method::POST,
                format!("/groups/{}/talks", demo::class(1)),
                format!(
                    r#"{{"days":[{{"date":"{day}","start":"14:00","end":"16:00","talkMinutes":30,"breakMinutes":0}}],"place":"Klassrum 4A","bookingDeadline":"{day}"}}"#
                ),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "blog-edit",
        kind: Kind::Write,
        expected_status: 200,
        call: |fx, i| {
            // The same post for every fourth request: the SQLite figure
            // runs four requests at once, and edits of one post at the
            // same moment conflict (409), which is not what it measures.
            let post = fx
                .posts_4a
                .get(i % 4)
                .map(|p| p.to_string())
                .unwrap_or_default();
            send(
                Method::PUT,
                format!("/groups/{}/posts/{post}", demo::class(1)),
                format!(
                    r#"{{"title":"Veckobrev (ändrad {i})","body":"Vi går till skogen kl. 9. Ta med **matsäck**."}}"#
                ),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    // The cases below change what they touch for good (a deleted post, a
    // cancelled booking, a removed slot, a revoked feed), each request its
    // own: they come last, so the writes above find the fixture as seeded
    // (the reads are measured before any write: `in_measuring_order`).
    Case {
        function: "files-upload",
        kind: Kind::Write,
        expected_status: 201,
        call: |_, i| {
            send(
                Method::POST,
                "/files".into(),
                format!(
                    r#"{{"fileName":"Veckobrev {i}.pdf","contentType":"application/pdf","size":48213}}"#
                ),
                demo::staff(demo::MENTOR_4A),
            )
        },
    },
    Case {
        function: "files-download",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, i| {
            // The guardians of 4A, the class the post with the file went to.
            get(
                format!("/files/{}", fx.attachment),
                demo::guardian(pupil_of(i % 20)),
            )
        },
    },
    Case {
        function: "import-run",
        kind: Kind::Read,
        expected_status: 200,
        call: |fx, _| {
            get(
                format!(
                    "/organisations/{}/imports/{}",
                    demo::organisation(),
                    fx.import_run
                ),
                demo::staff(demo::ORGANISATION_ADMIN),
            )
        },
    },
    Case {
        function: "import-request",
        kind: Kind::Write,
        expected_status: 202,
        call: |_, _| {
            send(
                Method::POST,
                format!("/organisations/{}/imports", demo::organisation()),
                r#"{"dryRun":true}"#.into(),
                demo::staff(demo::ORGANISATION_ADMIN),
            )
        },
    },
    Case {
        function: "blog-delete",
        kind: Kind::Write,
        expected_status: 200,
        call: |fx, i| {
            let post = fx
                .posts_5c
                .get(i)
                .map(|p| p.to_string())
                .unwrap_or_default();
            delete(
                format!("/groups/{}/posts/{post}", demo::class(3)),
                demo::staff(demo::OTHER_SCHOOL_ADMIN),
            )
        },
    },
    Case {
        function: "talk-cancel",
        kind: Kind::Write,
        expected_status: 200,
        call: |fx, i| {
            // The bookings of the rounds talk-move moves within: booked
            // whether or not it ran.
            let (n, class, _, round) = talk_seat(i);
            let round_id = fx.move_rounds[class]
                .get(round)
                .map(|(r, _)| r.to_string())
                .unwrap_or_default();
            delete(
                format!("/pupils/{}/talk-bookings/{round_id}", demo::pupil(n)),
                demo::guardian(n),
            )
        },
    },
    Case {
        function: "talk-slot-remove",
        kind: Kind::Write,
        expected_status: 200,
        call: |fx, i| {
            // The slots talk-book books: open, or booked if it ran (then the
            // reason goes to the family).
            let (n, class, seat, round) = talk_seat(i);
            let slot = fx.book_rounds[class]
                .get(round)
                .and_then(|r| r.get(seat))
                .map(|s| s.to_string())
                .unwrap_or_default();
            send(
                Method::DELETE,
                format!("/groups/{}/talks/slots/{slot}", class_of(n)),
                r#"{"reason":"Jag är på fortbildning den dagen."}"#.into(),
                mentor_of(n),
            )
        },
    },
    Case {
        function: "calendar-feed-revoke",
        kind: Kind::Write,
        expected_status: 200,
        call: |_, i| delete("/me/calendar-feed".into(), feed_holder(i)),
    },
];

/// The posts the feeds read, the post to 4A with the attachment the
/// guardians download, and 5C's posts to delete.
struct SeededPosts {
    posts_4a: Vec<PostId>,
    notices: Vec<NoticeId>,
    attachment: FileId,
    posts_5c: Vec<PostId>,
}

/// The folder the in-process runs keep files in (the local server's
/// adapter). Asking to upload signs a URL and needs no bytes; attaching
/// reads what was uploaded, so the fixture writes its PDF here.
pub fn files() -> FolderFiles {
    FolderFiles::new(
        crate::root().join("bench/tmp/files"),
        "http://files.bench.invalid",
    )
}

/// A post to one class, its pupils and guardians, by `author`.
async fn seed_post(
    store: &dyn Store,
    files: &FolderFiles,
    author: &directory::PersonRecord,
    class: u32,
    k: usize,
    attachments: &[FileId],
) -> BenchResult<PostId> {
    let published = skolnav::blog::publish(
        store,
        files,
        &SystemClock,
        author,
        &skolnav_tests::families_of(demo::class(class)),
        skolnav::blog::PostText {
            title: format!("Veckobrev {k}"),
            body: "Den här veckan läser vi om vikingarna. Ta med matsäck på fredag.".into(),
        },
        attachments,
    )
    .await
    .map_err(|e| format!("seeding a post: {e}"))?;
    Ok(published.post.id)
}

/// Posts in both classes' blogs (4A's fifth with a PDF attached) and one
/// per request in 5C's, their notices delivered: what the feeds read and
/// what is deleted.
async fn seed_posts(store: &dyn Store) -> BenchResult<SeededPosts> {
    let clock = SystemClock;
    let files = files();
    let mut posts_4a = Vec::new();
    let mut attachment = None;
    for (class, author) in [(1, demo::MENTOR_4A), (2, demo::MENTOR_4B)] {
        let author = record(store, demo::staff(author)).await?;
        for k in 0..5 {
            let attached = if class == 1 && k == 4 {
                let file = skolnav_tests::uploaded_pdf(
                    store,
                    &files,
                    &clock,
                    &author,
                    "Veckobrev v48.pdf",
                )
                .await?;
                attachment = Some(file);
                vec![file]
            } else {
                vec![]
            };
            let post = seed_post(store, &files, &author, class, k, &attached).await?;
            if class == 1 {
                posts_4a.push(post);
            }
        }
    }
    let admin_5c = record(store, demo::staff(demo::OTHER_SCHOOL_ADMIN)).await?;
    let mut posts_5c = Vec::with_capacity(COLD + WARM);
    for k in 0..COLD + WARM {
        posts_5c.push(seed_post(store, &files, &admin_5c, 3, k, &[]).await?);
    }
    // The local worker's drain: the reports' receipts too, and the batches
    // the posts' expansions write.
    skolnav_local::drain_outbox(
        store,
        &skolnav_tests::RecordingMailer::default(),
        &skolnav_tests::RecordingSms::default(),
        &clock,
    )
    .await;
    let mut notices = Vec::new();
    for n in 1..=PUPILS {
        let page = skolnav::notices::feed(store, demo::guardian(n), 1, None)
            .await
            .map_err(|e| e.to_string())?;
        notices.push(page.items.first().ok_or("a guardian without notices")?.id);
    }
    Ok(SeededPosts {
        posts_4a,
        notices,
        attachment: attachment.ok_or("no attachment seeded")?,
        posts_5c,
    })
}

/// The one who revokes their calendar feed in the i-th request: a
/// guardian on record without children, whose feed no other case reads or
/// replaces. (Demo ids carry two digits; these are ULIDs of their own.)
fn feed_holder(i: usize) -> PersonId {
    PersonId::from_ulid(ulid::Ulid::from_parts(
        1_732_000_000_000,
        0xFEED_0000 + i as u128,
    ))
}

async fn seed_feed_holders(store: &dyn Store) -> BenchResult<()> {
    for i in 0..COLD + WARM {
        let person = directory::Person {
            id: feed_holder(i),
            given_name: "Kim".into(),
            family_name: format!("Feed {i}"),
            email: None,
            mobile: None,
            text_to: None,
            language: Default::default(),
            mail: Default::default(),
            left: None,
            protected_identity: false,
        };
        for item in directory::person_items(&person, &[]).map_err(|e| e.to_string())? {
            store
                .put(&item, Condition::None)
                .await
                .map_err(|e| e.to_string())?;
        }
        skolnav::calendar::feed::create(store, person.id, chrono::Utc::now())
            .await
            .map_err(|e| format!("seeding a calendar feed: {e}"))?;
    }
    Ok(())
}

/// One requested import run, for the run's record.
async fn seed_import_run(store: &dyn Store) -> BenchResult<ImportRunId> {
    let request = skolnav::import::request::ImportRequest {
        run_id: ImportRunId::generate(),
        dry_run: false,
        full: false,
        requested_by: demo::staff(demo::ORGANISATION_ADMIN),
        requested_at: chrono::Utc::now(),
    };
    skolnav::import::request::request(store, &request)
        .await
        .map_err(|e| format!("seeding an import request: {e}"))?;
    Ok(request.run_id)
}

/// Events in each class's calendar over the next weeks, for the
/// calendar reads.
async fn seed_events(store: &dyn Store, today: NaiveDate) -> BenchResult<()> {
    use skolnav::calendar::{Details, When};
    for (class, author) in [(1, demo::MENTOR_4A), (2, demo::MENTOR_4B)] {
        let author = record(store, demo::staff(author)).await?;
        for k in 0..6u64 {
            let day = today
                .checked_add_days(Days::new(2 + 4 * k))
                .unwrap_or(today);
            let at = |h| day.and_hms_opt(h, 0, 0).unwrap_or_default();
            skolnav::calendar::create(
                store,
                &skolnav::files::NoFiles,
                &SystemClock,
                &author,
                &skolnav_tests::families_of(demo::class(class)),
                Details {
                    title: format!("Utflykt {k}"),
                    description: "Ta med matsäck och kläder efter väder.".into(),
                    subject: None,
                    when: When::Timed {
                        start: at(9),
                        end: at(11),
                    },
                    repeat: None,
                    reminder: false,
                },
                &[],
            )
            .await
            .map_err(|e| format!("seeding an event: {e}"))?;
        }
    }
    Ok(())
}

/// A week of demo lessons ending today; the lessons of the days before
/// today registered by their teachers (two pupils of the lesson's first
/// class away from each).
async fn seed_lessons(store: &dyn Store, today: NaiveDate) -> BenchResult<NaiveDate> {
    let start = today
        .checked_sub_days(Days::new(LESSON_DAYS_BACK))
        .unwrap_or(today);
    for day in start.iter_days().take_while(|d| *d <= today) {
        demo::seed_lessons(store, day)
            .await
            .map_err(|e| format!("seeding lessons: {e}"))?;
        if day == today {
            continue;
        }
        for lesson in demo::lessons(day) {
            let teacher = record(store, lesson.teacher_ids[0]).await?;
            let first = if lesson.group_ids.contains(&demo::class(1)) {
                3
            } else {
                23
            };
            let away = [first, first + 3].map(|n| NewAbsence {
                pupil_id: demo::pupil(n),
                reason: if n == first {
                    AbsenceReason::Valid
                } else {
                    AbsenceReason::Invalid
                },
                minutes: None,
                comment: None,
            });
            attendance::register(
                store,
                &SystemClock,
                &teacher,
                lesson.id,
                away.to_vec(),
                None,
            )
            .await
            .map_err(|e| format!("seeding a registration: {e}"))?;
        }
    }
    Ok(start)
}

/// One round of talks for a class on `date` (and the day after when more
/// than 24 talks are asked for), 20 minutes each from 08:00.
async fn seed_round(
    store: &dyn Store,
    class: u32,
    date: NaiveDate,
    slots: usize,
) -> BenchResult<(TalkRoundId, Vec<SlotId>)> {
    let mentor = if class == 1 {
        demo::MENTOR_4A
    } else {
        demo::MENTOR_4B
    };
    let mentor = record(store, demo::staff(mentor)).await?;
    let time = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let days = (0..slots.div_ceil(24) as u64)
        .map(|d| TalkDay {
            date: date.checked_add_days(Days::new(d)).unwrap_or(date),
            start: time(8),
            end: time(16),
            talk_minutes: 20,
            break_minutes: 0,
        })
        .collect();
    let created = talks::create_times(
        store,
        &SystemClock,
        &mentor,
        demo::class(class),
        NewTalkTimes {
            days,
            venue: Venue {
                place: Some("Klassrummet".into()),
                video_link: None,
            },
            round: TargetRound::New(date),
        },
    )
    .await
    .map_err(|e| format!("seeding talk times: {e}"))?;
    Ok((
        created.round.id,
        created.slots.iter().map(|s| s.id).collect(),
    ))
}

/// Talk rounds for the talk cases: rounds to book in, and rounds whose
/// first 20 slots are booked by the class, to move from.
async fn seed_talks(
    store: &dyn Store,
    today: NaiveDate,
) -> BenchResult<([Vec<Vec<SlotId>>; 2], [Vec<(TalkRoundId, Vec<SlotId>)>; 2])> {
    let mut book: [Vec<Vec<SlotId>>; 2] = [vec![], vec![]];
    let mut moves: [Vec<(TalkRoundId, Vec<SlotId>)>; 2] = [vec![], vec![]];
    let mut next_day = 10u64;
    for r in 0..TALK_ROUNDS {
        for class in 0..2usize {
            let date = today.checked_add_days(Days::new(next_day)).unwrap_or(today);
            let (_, slots) = seed_round(store, class as u32 + 1, date, 20).await?;
            book[class].push(slots);
            let date = today
                .checked_add_days(Days::new(next_day + 1))
                .unwrap_or(today);
            let (round, slots) = seed_round(store, class as u32 + 1, date, 40).await?;
            for (seat, slot) in slots.iter().take(20).enumerate() {
                let n = class as u32 * 20 + seat as u32 + 1;
                let guardian = record(store, demo::guardian(n)).await?;
                talks::book(store, &SystemClock, &guardian, demo::pupil(n), *slot)
                    .await
                    .map_err(|e| format!("seeding a booking (round {r}): {e}"))?;
            }
            moves[class].push((round, slots));
        }
        next_day += 3;
    }
    Ok((book, moves))
}

impl Fixture {
    /// The demo school and three days of pending reports for every pupil
    /// of Solrosskolan (120 reports: enough for every approval).
    pub async fn seed(store: &dyn Store) -> BenchResult<Fixture> {
        demo::seed(store).await.map_err(|e| e.to_string())?;
        let clock = SystemClock;
        let today = clock.today();
        let mut pending = Vec::new();
        for d in 0..3u64 {
            for n in 1..=PUPILS {
                let guardian = record(store, demo::guardian(n)).await?;
                let day = today.checked_add_days(Days::new(d)).unwrap_or(today);
                let report = absence::report(
                    store,
                    &clock,
                    &guardian,
                    demo::pupil(n),
                    NewReport {
                        period: Period::WholeDays {
                            first_day: day,
                            last_day: day,
                        },
                        reason: Reason::Sick,
                        note: None,
                    },
                )
                .await
                .map_err(|e| format!("seeding a report: {e}"))?;
                pending.push((n, report.id));
            }
        }
        debug_assert!(pending.len() >= COLD + WARM);
        let (book_rounds, move_rounds) = seed_talks(store, today).await?;
        let week_start = seed_lessons(store, today).await?;
        seed_events(store, today).await?;
        let posts = seed_posts(store).await?;
        let mut feed_tokens = Vec::new();
        for n in 1..=PUPILS {
            let token =
                skolnav::calendar::feed::create(store, demo::guardian(n), chrono::Utc::now())
                    .await
                    .map_err(|e| format!("seeding a calendar feed: {e}"))?;
            feed_tokens.push(token);
        }
        seed_feed_holders(store).await?;
        let import_run = seed_import_run(store).await?;
        Ok(Fixture {
            today,
            pending,
            book_rounds,
            move_rounds,
            week_start,
            posts_4a: posts.posts_4a,
            notices: posts.notices,
            feed_tokens,
            attachment: posts.attachment,
            posts_5c: posts.posts_5c,
            import_run,
        })
    }
}

fn template(function: &str) -> BenchResult<serde_json::Value> {
    let path = crate::root().join(format!("events/{function}.json"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// An API Gateway HTTP API (v2) event for a call, shaped like the
/// function's sample event in events/.
pub fn http_event(function: &str, call: &Call, token: &str) -> BenchResult<String> {
    let mut e = template(function)?;
    // The query goes where API Gateway puts it, not into the path (the
    // template's own query would otherwise stay and win).
    let (path, query) = call.path.split_once('?').unwrap_or((&call.path, ""));
    e["rawPath"] = path.into();
    e["requestContext"]["http"]["path"] = path.into();
    e["rawQueryString"] = query.into();
    let parameters: serde_json::Map<String, serde_json::Value> =
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned().into()))
            .collect();
    e["queryStringParameters"] = if parameters.is_empty() {
        serde_json::Value::Null
    } else {
        parameters.into()
    };
    e["requestContext"]["http"]["method"] = call.method.as_str().into();
    e["headers"]["authorization"] = format!("Bearer {token}").into();
    if let Some(h) = e["headers"].as_object_mut() {
        h.remove("idempotency-key");
        h.remove("content-length");
    }
    e["body"] = match &call.body {
        Some(b) => b.clone().into(),
        None => serde_json::Value::Null,
    };
    Ok(e.to_string())
}

/// The functions that are not behind the API, measured for cold start,
/// init and memory on their own events (import-nightly has its own
/// scenario, `skolnav-bench import`).
pub const EVENT_CASES: &[&str] = &[
    "notifications-deliver",
    "absence-alerts",
    "news-release",
    "reminders-daily",
];

/// One event per cold start of an event function, on what it reads:
/// outbox items to deliver (a notice mailed through moto's SES; an
/// absence-alert request to expand into the pupils' alerts), or the
/// schedule's tick (due news and tomorrow's reminders, of which the
/// fixture has none: the run that finds nothing, as most ticks do).
pub async fn event_calls(function: &str, store: &dyn Store) -> BenchResult<Vec<String>> {
    let template = template(function)?;
    let ids = match function {
        "notifications-deliver" => seed_outbox(store, COLD).await?,
        "absence-alerts" => seed_alert_requests(store, COLD).await?,
        _ => return Ok(vec![template.to_string(); COLD]),
    };
    Ok(ids
        .into_iter()
        .map(|id| stream_event(&template, Some(id)))
        .collect())
}

/// Requests for today's absence alerts, one per cold start: a 4A pupil
/// registered absent without a valid reason at the morning's first lesson.
async fn seed_alert_requests(store: &dyn Store, n: usize) -> BenchResult<Vec<OutboxId>> {
    let clock = SystemClock;
    let lesson = demo::lessons(clock.today())
        .into_iter()
        .next()
        .ok_or("no demo lesson")?;
    let mut ids = Vec::new();
    for i in 0..n {
        let id = OutboxId::generate();
        let write = skolnav::alerts::request(
            id,
            &clock,
            demo::school(),
            skolnav::alerts::AlertLesson {
                lesson_id: lesson.id,
                title: lesson.title.clone(),
                start: lesson.start,
            },
            vec![demo::pupil(pupil_of(i) % 20 + 1)],
        )
        .map_err(|e| e.to_string())?
        .ok_or("an alert request without pupils")?;
        store.transact(&[write]).await.map_err(|e| e.to_string())?;
        ids.push(id);
    }
    Ok(ids)
}

/// The sample stream event, pointed at one outbox item.
pub fn stream_event(template: &serde_json::Value, id: Option<OutboxId>) -> String {
    let mut e = template.clone();
    if let Some(id) = id {
        let id = id.to_string();
        let image = &mut e["Records"][0]["dynamodb"];
        image["Keys"]["PK"]["S"] = format!("OUTBOX#{id}").into();
        image["NewImage"]["PK"]["S"] = format!("OUTBOX#{id}").into();
        image["NewImage"]["GSI1SK"]["S"] = id.clone().into();
        image["NewImage"]["id"]["S"] = id.into();
    }
    e.to_string()
}

/// Outbox items for the delivery function to send (to moto's SES).
async fn seed_outbox(store: &dyn Store, n: usize) -> BenchResult<Vec<OutboxId>> {
    let mut ids = Vec::new();
    let today = SystemClock.today();
    for i in 0..n {
        let id = OutboxId::generate();
        let item = outbox::message_item(
            id,
            demo::guardian(pupil_of(i)),
            Notice::AbsenceApproved {
                report_id: ReportId::generate(),
                pupil_name: "Alva Persson".into(),
                period: Period::WholeDays {
                    first_day: today,
                    last_day: today,
                },
                reason: Reason::Sick,
            },
            chrono::Utc::now(),
        )
        .map_err(|e| e.to_string())?;
        store
            .put(&item, Condition::MustNotExist)
            .await
            .map_err(|e| e.to_string())?;
        ids.push(id);
    }
    Ok(ids)
}

/// SES (moto) sends only from a verified identity.
pub async fn verify_mail_domain(domain: &str) -> BenchResult<()> {
    skolnav_tests::ses_client()
        .create_email_identity()
        .email_identity(domain)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("moto: {e}"))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Throughput {
    pub function: String,
    pub requests: usize,
    pub seconds: f64,
    pub per_second: f64,
    pub ok: usize,
}

/// Figure 6: each use case on the embedded store, as the local server
/// runs it (a file-backed SQLite store), four requests in flight.
pub async fn sqlite_throughput(
    issuer: &DevIssuer,
    only: &crate::Selection,
) -> BenchResult<Vec<Throughput>> {
    let dir = crate::root().join("bench/tmp");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("sqlite-{}.db", ulid::Ulid::generate()));
    let store =
        Arc::new(skolnav::store::sqlite::SqliteStore::open(&path).map_err(|e| e.to_string())?);
    let fixture = Arc::new(Fixture::seed(store.as_ref()).await?);
    let ctx = Arc::new(crate::in_process_ctx(store, issuer));
    let mut out = Vec::new();
    for case in in_measuring_order().filter(|c| only.includes(c.function)) {
        let count = match case.function {
            "absence-approve" => fixture.pending.len(),
            // One request per pupil and round the fixture holds.
            "talk-book" | "talk-move" => TALK_ROUNDS * PUPILS as usize,
            "absence-report" => 1000,
            // As many as the Lambda run makes: each adds to what a later
            // write case reads (the slots every next creation checks
            // against), so both runs see the same data.
            "calendar-create" | "talk-create" => COLD + WARM,
            // One request per post, booking, slot or feed the fixture holds.
            "blog-delete" => fixture.posts_5c.len(),
            "talk-cancel" | "talk-slot-remove" => TALK_ROUNDS * PUPILS as usize,
            "calendar-feed-revoke" => COLD + WARM,
            _ => 2000,
        };
        let calls: Arc<Vec<(Call, String)>> = Arc::new(
            (0..count)
                .map(|i| {
                    let call = (case.call)(&fixture, i);
                    let token = issuer.token_for(&call.who.to_string(), Duration::from_secs(3600));
                    (call, token)
                })
                .collect(),
        );
        let started = Instant::now();
        let mut tasks = Vec::new();
        for lane in 0..4 {
            let ctx = ctx.clone();
            let calls = calls.clone();
            let expected = case.expected_status;
            tasks.push(tokio::spawn(async move {
                let mut ok = 0;
                for (call, token) in calls.iter().skip(lane).step_by(4) {
                    let res = skolnav::api::handle(&ctx, crate::http_request(call, token)).await;
                    if res.status().as_u16() == expected {
                        ok += 1;
                    }
                }
                ok
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += t.await.unwrap_or(0);
        }
        let seconds = started.elapsed().as_secs_f64();
        out.push(Throughput {
            function: case.function.to_string(),
            requests: count,
            seconds,
            per_second: count as f64 / seconds.max(1e-9),
            ok,
        });
    }
    let _ = std::fs::remove_file(&path);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Each later use case adds itself": a function without a case would
    /// silently drop out of every figure. (import-nightly is measured by
    /// its own scenario, `skolnav-bench import`.)
    #[test]
    fn every_function_is_measured() {
        let measured: Vec<&str> = CASES
            .iter()
            .map(|c| c.function)
            .chain(EVENT_CASES.iter().copied())
            .chain(["import-nightly"])
            .collect();
        let missing: Vec<&str> = skolnav::api::routes::functions()
            .into_iter()
            .filter(|f| !measured.contains(f))
            .collect();
        assert!(
            missing.is_empty(),
            "not measured by the harness: {missing:?} (add a row to CASES or EVENT_CASES)"
        );
    }

    #[test]
    fn every_read_case_is_measured_before_any_write_so_it_reads_the_fixture_as_seeded() {
        let order: Vec<(&str, Kind)> = in_measuring_order().map(|c| (c.function, c.kind)).collect();
        assert_eq!(order.len(), CASES.len(), "every case once");
        let first_write = order
            .iter()
            .position(|(_, kind)| *kind != Kind::Read)
            .expect("a write case");
        assert!(
            order[first_write..]
                .iter()
                .all(|(_, kind)| *kind != Kind::Read),
            "{order:?}"
        );
        let at = |f: &str| {
            order
                .iter()
                .position(|(name, _)| *name == f)
                .unwrap_or_else(|| panic!("{f} is a case"))
        };
        assert!(at("calendar-feed") < at("calendar-create"), "{order:?}");
        // The writes keep their order: the deletes and cancellations last.
        assert!(at("calendar-create") < at("blog-delete"), "{order:?}");
        assert_eq!(order.last().map(|(f, _)| *f), Some("calendar-feed-revoke"));
    }

    /// A case that answers another status measures an error path: the
    /// harness counts those as unexpected, and its figures would mislead.
    #[tokio::test]
    async fn every_case_answers_its_expected_status_on_the_fixture() {
        let dir = std::env::temp_dir().join(format!("skolnav-bench-{}", ulid::Ulid::generate()));
        std::fs::create_dir_all(&dir).unwrap();
        let store: Arc<dyn Store> =
            Arc::new(skolnav::store::sqlite::SqliteStore::open(&dir.join("cases.db")).unwrap());
        let fixture = Fixture::seed(store.as_ref()).await.unwrap();
        let issuer = DevIssuer::generate(crate::ISSUER, crate::AUDIENCE);
        let ctx = crate::in_process_ctx(store, &issuer);
        let mut wrong = Vec::new();
        for case in in_measuring_order() {
            for i in [0, 1, 21] {
                let call = (case.call)(&fixture, i);
                let token = issuer.token_for(&call.who.to_string(), Duration::from_secs(60));
                let res = skolnav::api::handle(&ctx, crate::http_request(&call, &token)).await;
                if res.status().as_u16() != case.expected_status {
                    let body = String::from_utf8_lossy(res.body()).into_owned();
                    wrong.push(format!("{} #{i}: {} {body}", case.function, res.status()));
                }
            }
        }
        let _ = std::fs::remove_dir_all(dir);
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
