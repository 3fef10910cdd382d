//! The one route table: which function serves which method and path. The
//! local server serves all of it; each Lambda serves its own rows;
//! tests/tests/it/routes.rs holds infra/template.yaml to it.

use super::{Handler, absence, attendance, blog, imports, lessons, me, notices, talks};
use http::Method;
use std::collections::HashMap;

pub struct Route {
    /// The function (Lambda) name, also its package under functions/.
    pub function: &'static str,
    pub method: Method,
    /// API Gateway path syntax: `/pupils/{pupilId}/absence-reports`.
    pub path: &'static str,
    pub handler: Handler,
}

pub static ROUTES: &[Route] = &[
    Route {
        function: "directory-me",
        method: Method::GET,
        path: "/me",
        handler: |ctx, call| Box::pin(me::me(ctx, call)),
    },
    Route {
        function: "absence-report",
        method: Method::POST,
        path: "/pupils/{pupilId}/absence-reports",
        handler: |ctx, call| Box::pin(absence::report(ctx, call)),
    },
    Route {
        function: "absence-list",
        method: Method::GET,
        path: "/pupils/{pupilId}/absence-reports",
        handler: |ctx, call| Box::pin(absence::list(ctx, call)),
    },
    Route {
        function: "absence-approve",
        method: Method::POST,
        path: "/pupils/{pupilId}/absence-reports/{reportId}/approve",
        handler: |ctx, call| Box::pin(absence::approve(ctx, call)),
    },
    Route {
        function: "absence-pending",
        method: Method::GET,
        path: "/schools/{schoolId}/absence-reports/pending",
        handler: |ctx, call| Box::pin(absence::pending(ctx, call)),
    },
    Route {
        function: "absence-today",
        method: Method::GET,
        path: "/schools/{schoolId}/absence-today",
        handler: |ctx, call| Box::pin(absence::today(ctx, call)),
    },
    Route {
        function: "talk-create",
        method: Method::POST,
        path: "/groups/{groupId}/talks",
        handler: |ctx, call| Box::pin(talks::create(ctx, call)),
    },
    Route {
        function: "talk-slots",
        method: Method::GET,
        path: "/groups/{groupId}/talks/slots",
        handler: |ctx, call| Box::pin(talks::slots(ctx, call)),
    },
    Route {
        function: "talk-slot-remove",
        method: Method::DELETE,
        path: "/groups/{groupId}/talks/slots/{slotId}",
        handler: |ctx, call| Box::pin(talks::remove_slot(ctx, call)),
    },
    Route {
        function: "talk-bookings",
        method: Method::GET,
        path: "/groups/{groupId}/talks/bookings",
        handler: |ctx, call| Box::pin(talks::bookings(ctx, call)),
    },
    Route {
        function: "talk-book",
        method: Method::POST,
        path: "/pupils/{pupilId}/talk-bookings",
        handler: |ctx, call| Box::pin(talks::book(ctx, call)),
    },
    Route {
        function: "talk-move",
        method: Method::PUT,
        path: "/pupils/{pupilId}/talk-bookings/{roundId}",
        handler: |ctx, call| Box::pin(talks::move_booking(ctx, call)),
    },
    Route {
        function: "talk-cancel",
        method: Method::DELETE,
        path: "/pupils/{pupilId}/talk-bookings/{roundId}",
        handler: |ctx, call| Box::pin(talks::cancel(ctx, call)),
    },
    Route {
        function: "blog-publish",
        method: Method::POST,
        path: "/blog/posts",
        handler: |ctx, call| Box::pin(blog::publish(ctx, call)),
    },
    Route {
        function: "blog-feed",
        method: Method::GET,
        path: "/groups/{groupId}/posts",
        handler: |ctx, call| Box::pin(blog::feed(ctx, call)),
    },
    Route {
        function: "blog-edit",
        method: Method::PUT,
        path: "/groups/{groupId}/posts/{postId}",
        handler: |ctx, call| Box::pin(blog::edit(ctx, call)),
    },
    Route {
        function: "blog-delete",
        method: Method::DELETE,
        path: "/groups/{groupId}/posts/{postId}",
        handler: |ctx, call| Box::pin(blog::delete(ctx, call)),
    },
    Route {
        function: "notices-unread",
        method: Method::GET,
        path: "/me/notices",
        handler: |ctx, call| Box::pin(notices::unread(ctx, call)),
    },
    Route {
        function: "notices-read",
        method: Method::POST,
        path: "/me/notices/{noticeId}/read",
        handler: |ctx, call| Box::pin(notices::mark_read(ctx, call)),
    },
    Route {
        function: "notices-unread-count",
        method: Method::GET,
        path: "/me/notices/unread-count",
        handler: |ctx, call| Box::pin(notices::unread_count(ctx, call)),
    },
    Route {
        function: "lessons-teacher-day",
        method: Method::GET,
        path: "/teachers/{personId}/lessons",
        handler: |ctx, call| Box::pin(lessons::teacher_day(ctx, call)),
    },
    Route {
        function: "lessons-group-day",
        method: Method::GET,
        path: "/groups/{groupId}/lessons",
        handler: |ctx, call| Box::pin(lessons::group_day(ctx, call)),
    },
    Route {
        function: "attendance-register",
        method: Method::PUT,
        path: "/lessons/{lessonId}/attendance",
        handler: |ctx, call| Box::pin(attendance::register(ctx, call)),
    },
    Route {
        function: "import-request",
        method: Method::POST,
        path: "/organisations/{organisationId}/imports",
        handler: |ctx, call| Box::pin(imports::start(ctx, call)),
    },
    Route {
        function: "import-runs",
        method: Method::GET,
        path: "/organisations/{organisationId}/imports",
        handler: |ctx, call| Box::pin(imports::list(ctx, call)),
    },
    Route {
        function: "import-run",
        method: Method::GET,
        path: "/organisations/{organisationId}/imports/{runId}",
        handler: |ctx, call| Box::pin(imports::get(ctx, call)),
    },
];

/// Functions that are not behind the HTTP API.
pub const EVENT_FUNCTIONS: &[&str] =
    &["notifications-deliver", "import-nightly", "reminders-daily"];

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
pub fn find_for(function: &str, method: &Method, path: &str) -> Found {
    find_in(
        ROUTES.iter().filter(|r| r.function == function),
        method,
        path,
    )
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
