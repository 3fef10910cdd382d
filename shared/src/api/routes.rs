//! The one route table: which function serves which method and path. The
//! local server serves all of it (`ROUTES`); each Lambda serves only its own
//! rows, from the module named after it (`routes::directory_me::ROUTES`),
//! so its binary links only its own handlers: a Lambda that took its rows
//! from `ROUTES` at run time would keep every handler, and with them most
//! of the domain, alive through the table. tests/tests/it/routes_template.rs
//! holds infra/template.yaml and each function's `main` to it.

use super::{
    Handler, absence, attendance, blog, calendar, files, imports, lessons, me, news, notices,
    reports, school_settings, sms_credit, talks,
};
use crate::ids::PersonId;
use http::Method;
use std::collections::HashMap;

pub struct Route {
    /// The function (Lambda) name, also its package under functions/.
    pub function: &'static str,
    pub method: Method,
    /// API Gateway path syntax: `/pupils/{pupilId}/absence-reports`.
    pub path: &'static str,
    pub handler: Handler,
    /// Who the caller is, and how that is proven.
    pub auth: Auth,
}

/// How a route knows its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// A bearer JWT from the identity provider; the caller's record and
    /// relations are read before the handler runs.
    Bearer,
    /// A bearer JWT, for routes that read and write only the caller's own
    /// partitions by key, and what those list (their notices and feed,
    /// their unreported lessons): the record is not read,
    /// so such a read is one request. The handler gets the caller's id and
    /// no relations, so a policy that needs one refuses.
    Own,
    /// A bearer JWT, for a route over a person (`{personId}`) that reads
    /// only that person's own partitions when they are the caller (a
    /// teacher's own day): then as `Own`, the record not read; for anyone
    /// else as `Bearer`, decided on their relations.
    OwnPerson,
    /// The secret token in the path (`{token}`) of a personal calendar
    /// feed: calendar apps fetch it without a login; revoking it ends that.
    FeedToken,
}

impl Auth {
    /// Whether the bearer `caller` reaches only their own partitions here,
    /// so their record is not read: always for `Own`, for `OwnPerson` when
    /// the path's `{personId}` is theirs.
    pub fn is_own(self, params: &HashMap<String, String>, caller: PersonId) -> bool {
        match self {
            Auth::Own => true,
            Auth::OwnPerson => {
                params.get("personId").and_then(|p| PersonId::parse(p)) == Some(caller)
            }
            Auth::Bearer | Auth::FeedToken => false,
        }
    }
}

/// `by FeedToken` in a row of the table, or nothing for a bearer token.
macro_rules! route_auth {
    () => {
        Auth::Bearer
    };
    ($auth:ident) => {
        Auth::$auth
    };
}

/// Writes each function's rows twice from one list: into `ROUTES`, and
/// into a module named after the function that holds only them.
macro_rules! route_table {
    ($( $module:ident $function:literal $(by $auth:ident)? { $( $method:ident $path:literal => $handler:path ),+ $(,)? } )*) => {
        /// Every route, each function's rows together.
        pub static ROUTES: &[Route] = &[
            $( $( Route {
                function: $function,
                method: Method::$method,
                path: $path,
                handler: |ctx, call| Box::pin($handler(ctx, call)),
                auth: $module::AUTH,
            }, )+ )*
        ];

        $(
            #[doc = concat!("The routes of `", $function, "` alone, for its Lambda.")]
            pub mod $module {
                use super::*;

                pub const AUTH: Auth = route_auth!($($auth)?);

                pub static ROUTES: &[Route] = &[
                    $( Route {
                        function: $function,
                        method: Method::$method,
                        path: $path,
                        handler: |ctx, call| Box::pin($handler(ctx, call)),
                        auth: AUTH,
                    }, )+
                ];
            }
        )*
    };
}

route_table! {
    directory_me "directory-me" {
        GET "/me" => me::me
    }
    preferences_get "preferences-get" {
        GET "/me/preferences" => me::preferences
    }
    preferences_put "preferences-put" {
        PUT "/me/preferences" => me::set_preferences
    }
    absence_report "absence-report" {
        POST "/pupils/{pupilId}/absence-reports" => absence::report
    }
    absence_list "absence-list" {
        GET "/pupils/{pupilId}/absence-reports" => absence::list
    }
    absence_approve "absence-approve" {
        POST "/pupils/{pupilId}/absence-reports/{reportId}/approve" => absence::approve
    }
    absence_pending "absence-pending" {
        GET "/schools/{schoolId}/absence-reports/pending" => absence::pending
    }
    absence_today "absence-today" {
        GET "/schools/{schoolId}/absence-today" => absence::today
    }
    talk_create "talk-create" {
        POST "/groups/{groupId}/talks" => talks::create
    }
    talk_slots "talk-slots" {
        GET "/groups/{groupId}/talks/slots" => talks::slots
    }
    talk_slot_remove "talk-slot-remove" {
        DELETE "/groups/{groupId}/talks/slots/{slotId}" => talks::remove_slot
    }
    talk_bookings "talk-bookings" {
        GET "/groups/{groupId}/talks/bookings" => talks::bookings
    }
    talk_book "talk-book" {
        POST "/pupils/{pupilId}/talk-bookings" => talks::book
    }
    talk_move "talk-move" {
        PUT "/pupils/{pupilId}/talk-bookings/{roundId}" => talks::move_booking
    }
    talk_cancel "talk-cancel" {
        DELETE "/pupils/{pupilId}/talk-bookings/{roundId}" => talks::cancel
    }
    blog_publish "blog-publish" {
        POST "/blog/posts" => blog::publish
    }
    blog_feed "blog-feed" {
        GET "/groups/{groupId}/posts" => blog::feed
    }
    blog_edit "blog-edit" {
        PUT "/groups/{groupId}/posts/{postId}" => blog::edit
    }
    blog_delete "blog-delete" {
        DELETE "/groups/{groupId}/posts/{postId}" => blog::delete
    }
    files_upload "files-upload" {
        POST "/files" => files::upload
    }
    files_download "files-download" {
        GET "/files/{fileId}" => files::download
    }
    calendar_create "calendar-create" {
        POST "/calendar/events" => calendar::create
    }
    calendar_group "calendar-group" {
        GET "/groups/{groupId}/calendar" => calendar::group
    }
    calendar_school "calendar-school" {
        GET "/schools/{schoolId}/calendar" => calendar::school
    }
    calendar_feed_create "calendar-feed-create" {
        POST "/me/calendar-feed" => calendar::create_feed
    }
    calendar_feed_revoke "calendar-feed-revoke" {
        DELETE "/me/calendar-feed" => calendar::revoke_feed
    }
    calendar_feed "calendar-feed" by FeedToken {
        GET "/calendar/feeds/{token}" => calendar::feed
    }
    news_publish "news-publish" {
        POST "/news" => news::publish
    }
    news_school "news-school" {
        GET "/schools/{schoolId}/news" => news::school
    }
    news_group "news-group" {
        GET "/groups/{groupId}/news" => news::group
    }
    notices_unread "notices-unread" by Own {
        GET "/me/notices" => notices::unread
    }
    notices_read "notices-read" by Own {
        POST "/me/notices/{noticeId}/read" => notices::mark_read
    }
    notices_unread_count "notices-unread-count" by Own {
        GET "/me/notices/unread-count" => notices::unread_count
    }
    me_feed "me-feed" by Own {
        GET "/me/feed" => notices::feed
    }
    lessons_teacher_day "lessons-teacher-day" by OwnPerson {
        GET "/teachers/{personId}/lessons" => lessons::teacher_day
    }
    lessons_group_day "lessons-group-day" {
        GET "/groups/{groupId}/lessons" => lessons::group_day
    }
    lessons_unreported "lessons-unreported" by Own {
        GET "/me/lessons/unreported" => lessons::unreported
    }
    attendance_register "attendance-register" {
        PUT "/lessons/{lessonId}/attendance" => attendance::register
    }
    attendance_get "attendance-get" {
        GET "/lessons/{lessonId}/attendance" => attendance::view
    }
    school_settings_get "school-settings-get" {
        GET "/schools/{schoolId}/settings" => school_settings::get
    }
    school_settings_put "school-settings-put" {
        PUT "/schools/{schoolId}/settings" => school_settings::put
    }
    sms_credit_get "sms-credit-get" {
        GET "/schools/{schoolId}/sms-credit" => sms_credit::get
    }
    sms_credit_add "sms-credit-add" {
        POST "/schools/{schoolId}/sms-credit" => sms_credit::top_up
    }
    absence_group_days "absence-group-days" {
        GET "/groups/{groupId}/absence" => reports::group_absence
    }
    absence_group_report "absence-group-report" {
        GET "/groups/{groupId}/absence-report" => reports::group_report
    }
    absence_pupil_report "absence-pupil-report" {
        GET "/pupils/{pupilId}/absence-report" => reports::pupil_report
    }
    lessons_school_unreported "lessons-school-unreported" {
        GET "/schools/{schoolId}/unreported-lessons" => reports::school_unreported
    }
    import_request "import-request" {
        POST "/organisations/{organisationId}/imports" => imports::start
    }
    import_runs "import-runs" {
        GET "/organisations/{organisationId}/imports" => imports::list
    }
    import_run "import-run" {
        GET "/organisations/{organisationId}/imports/{runId}" => imports::get
    }
}

/// Functions that are not behind the HTTP API.
pub const EVENT_FUNCTIONS: &[&str] = &[
    "notifications-deliver",
    "import-nightly",
    "reminders-daily",
    "news-release",
    "absence-alerts",
];

pub enum Found {
    Route(&'static Route, HashMap<String, String>),
    /// The path exists but not with this method.
    WrongMethod,
    Nothing,
}

/// Matches a path against a template; returns the parameters.
pub fn matches(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    let mut t = template.trim_matches('/').split('/');
    let mut p = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(seg), Some(actual)) => {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if actual.is_empty() {
                        return None;
                    }
                    params.insert(name.to_string(), actual.to_string());
                } else if seg != actual {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

pub fn find(method: &Method, path: &str) -> Found {
    find_in(ROUTES.iter(), method, path)
}

/// Like [`find`], among the routes of one function (a Lambda).
pub fn find_among(routes: &'static [Route], method: &Method, path: &str) -> Found {
    find_in(routes.iter(), method, path)
}

/// The rows of one function within `ROUTES` (tests and tools; a Lambda
/// takes its module's `ROUTES`, which links only its own handlers).
pub fn of(function: &str) -> &'static [Route] {
    let start = ROUTES.iter().position(|r| r.function == function);
    let start = start.unwrap_or(ROUTES.len());
    let len = ROUTES[start..]
        .iter()
        .take_while(|r| r.function == function)
        .count();
    &ROUTES[start..start + len]
}

fn find_in(routes: impl Iterator<Item = &'static Route>, method: &Method, path: &str) -> Found {
    let mut wrong_method = false;
    for route in routes {
        if let Some(params) = matches(route.path, path) {
            if route.method == method {
                return Found::Route(route, params);
            }
            wrong_method = true;
        }
    }
    if wrong_method {
        Found::WrongMethod
    } else {
        Found::Nothing
    }
}

/// Every function name: HTTP and event-driven.
pub fn functions() -> Vec<&'static str> {
    let mut names: Vec<&str> = ROUTES.iter().map(|r| r.function).collect();
    names.extend(EVENT_FUNCTIONS);
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_binds_its_parameters() {
        let p = matches(
            "/pupils/{pupilId}/absence-reports",
            "/pupils/ABC/absence-reports",
        )
        .expect("matches");
        assert_eq!(p.get("pupilId").map(String::as_str), Some("ABC"));
    }

    #[test]
    fn a_path_with_more_or_fewer_segments_does_not_match() {
        assert!(matches("/pupils/{pupilId}", "/pupils").is_none());
        assert!(matches("/pupils/{pupilId}", "/pupils/a/b").is_none());
        assert!(matches("/pupils/{pupilId}", "/pupils//").is_none());
    }

    #[test]
    fn a_known_path_with_another_method_is_told_apart_from_an_unknown_path() {
        assert!(matches!(find(&Method::DELETE, "/me"), Found::WrongMethod));
        assert!(matches!(find(&Method::GET, "/nowhere"), Found::Nothing));
        assert!(
            matches!(find(&Method::GET, "/me"), Found::Route(r, _) if r.function == "directory-me")
        );
    }

    #[test]
    fn a_functions_module_holds_the_same_rows_as_the_table() {
        let own = talk_move::ROUTES;
        let table = of("talk-move");
        assert_eq!(own.len(), 1);
        assert_eq!(table.len(), 1);
        assert_eq!(
            (own[0].function, &own[0].method, own[0].path),
            (table[0].function, &table[0].method, table[0].path)
        );
        assert!(of("no-such-function").is_empty());
    }

    #[test]
    fn every_route_is_unique_by_method_and_path() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method.clone(), r.path)),
                "{} {}",
                r.method,
                r.path
            );
        }
    }
}
