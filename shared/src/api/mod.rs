//! The HTTP edge shared by every function and the local server: one route
//! table, authentication, the caller's relations, Idempotency-Key, input
//! parsing into types and problem+json errors. Handlers are thin: parse,
//! call the domain (which authorizes), render.

mod absence;
mod attendance;
mod blog;
mod calendar;
mod files;
mod idempotency;
mod imports;
mod lessons;
mod me;
mod news;
mod notices;
pub mod problem;
mod reports;
pub mod routes;
mod school_settings;
mod sms_credit;
mod talks;

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::directory::{self, PersonRecord};
use crate::ids::PersonId;
use crate::store::{Store, StoreError};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
pub use problem::Problem;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// The largest request body accepted (bytes).
pub const MAX_BODY: usize = 64 * 1024;

/// Everything a handler needs, built once per process (a Lambda instance
/// or the local server) and shared by every request.
#[derive(Clone)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub auth: Arc<Authenticator>,
    pub clock: Arc<dyn Clock>,
    /// File storage: S3 in the functions that handle files, a folder
    /// locally, `NoFiles` elsewhere.
    pub files: Arc<dyn crate::files::Files>,
}

/// One authenticated request, as a handler sees it.
pub struct Call {
    pub caller: PersonRecord,
    pub params: HashMap<String, String>,
    pub query: HashMap<String, String>,
    pub body: Bytes,
}

/// Whether `body` is one JSON value, whatever its members' types (not
/// generic: one copy for every handler's body type).
fn well_formed(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

impl Call {
    /// A path parameter parsed as an id; a malformed id is a 400 naming it.
    pub fn id<T>(&self, name: &str, parse: fn(&str) -> Option<T>) -> Result<T, Problem> {
        self.params
            .get(name)
            .and_then(|v| parse(v))
            .ok_or_else(|| Problem::invalid_input(name, "not a valid id"))
    }

    /// The body as JSON of type `T`; an error names the field at fault.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        // Only an object can be a request here; anything else (nothing, an
        // array, a string) is refused before parsing, so syntax errors below
        // are the only errors without a field.
        if self.body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(Problem::invalid_input("body", "a JSON object is required"));
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.to_string();
            // serde reports a missing field at its parent: name the field.
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next());
            // serde_json reports a well-formed value of the wrong kind for
            // an enum (`"reason": 5`, `"audience": {}`) as a syntax error:
            // the body is malformed only if it is not JSON at all.
            let syntax = inner.is_syntax() || inner.is_eof();
            let malformed = syntax && !well_formed(&self.body);
            let field = match (missing, path.as_str()) {
                _ if malformed => "body".to_string(),
                (Some(name), ".") => name.to_string(),
                (Some(name), parent) => format!("{parent}.{name}"),
                (None, ".") => "body".to_string(),
                (None, _) => path.clone(),
            };
            let reason = if malformed {
                format!("malformed JSON ({message})")
            } else if missing.is_some() {
                "required".to_string()
            } else if syntax {
                "not one of the values this field takes".to_string()
            } else {
                message.clone()
            };
            Problem::invalid_input(&field, reason)
        })?;
        de.end()
            .map_err(|e| Problem::invalid_input("body", format!("malformed JSON ({e})")))?;
        Ok(value)
    }

    /// `?limit=` within 1..=max, or the default.
    pub fn limit(&self, default: u32, max: u32) -> Result<u32, Problem> {
        match self.query.get("limit") {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    Problem::invalid_input("limit", format!("a whole number from 1 to {max}"))
                }),
        }
    }

    pub fn cursor(&self) -> Option<String> {
        self.query.get("cursor").cloned()
    }
}

/// A successful answer: a status and a JSON body, or a text document.
pub struct Reply {
    pub status: StatusCode,
    /// The JSON, serialized once from the handler's typed answer: a list
    /// of a few hundred items is never held as a `serde_json::Value` tree,
    /// which takes several times the memory of its text.
    pub body: Bytes,
    /// A document instead of JSON: a calendar feed, a CSV export.
    pub text: Option<Text>,
}

/// A text document as an answer.
pub struct Text {
    pub content_type: &'static str,
    /// Offered as a download under this name (`Content-Disposition`);
    /// ASCII letters, digits, `-`, `_` and `.` only.
    pub filename: Option<String>,
    pub body: String,
}

/// `{"items": [...]}`, the shape of a list answer.
#[derive(Serialize)]
pub struct Items<T> {
    pub items: T,
}

impl Reply {
    pub fn ok(body: impl Serialize) -> Result<Reply, Problem> {
        Self::with(StatusCode::OK, body)
    }

    pub fn created(body: impl Serialize) -> Result<Reply, Problem> {
        Self::with(StatusCode::CREATED, body)
    }

    pub fn with_status(status: StatusCode, body: impl Serialize) -> Result<Reply, Problem> {
        Self::with(status, body)
    }

    fn with(status: StatusCode, body: impl Serialize) -> Result<Reply, Problem> {
        let body = serde_json::to_vec(&body).map_err(|e| {
            tracing::error!(error = %e, "response serialization failed");
            Problem::internal()
        })?;
        Ok(Reply {
            status,
            body: Bytes::from(body),
            text: None,
        })
    }

    fn text(content_type: &'static str, filename: Option<String>, body: String) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: Bytes::new(),
            text: Some(Text {
                content_type,
                filename,
                body,
            }),
        }
    }

    /// `text/calendar` (RFC 5545).
    pub fn calendar(text: String) -> Result<Reply, Problem> {
        Ok(Self::text("text/calendar; charset=utf-8", None, text))
    }

    /// `text/csv` (RFC 4180, with a header row), as a download named
    /// `filename`; see `reports::csv` for the dialect.
    pub fn csv(filename: &str, text: String) -> Result<Reply, Problem> {
        let safe: String = filename
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Ok(Self::text(
            "text/csv; charset=utf-8; header=present",
            Some(safe),
            text,
        ))
    }
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Reply, Problem>> + Send + 'a>>;
pub type Handler = for<'a> fn(&'a Ctx, Call) -> HandlerFuture<'a>;

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => Problem::invalid_input("cursor", "not a cursor we gave"),
            StoreError::Unavailable(_)
            | StoreError::TransactionCancelled(_)
            | StoreError::Conflict => {
                tracing::warn!(error = %e, "store unavailable");
                Problem::unavailable()
            }
            e => {
                tracing::error!(error = %e, "store error");
                Problem::internal()
            }
        }
    }
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    res
}

fn query_map(req: &Request<Bytes>) -> HashMap<String, String> {
    req.uri()
        .query()
        .map(|q| {
            url_decode_pairs(q)
                .into_iter()
                .collect::<HashMap<String, String>>()
        })
        .unwrap_or_default()
}

/// application/x-www-form-urlencoded pairs (the query string).
fn url_decode_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Runs one request through a matched route: authenticate, load the
/// caller's relations (one query), replay or record Idempotency-Key, call
/// the handler, render. Never panics on input; every failure is a problem.
pub async fn dispatch(
    ctx: &Ctx,
    route: &routes::Route,
    params: HashMap<String, String>,
    req: Request<Bytes>,
) -> Response<Bytes> {
    let started = Instant::now();
    let res = dispatch_inner(ctx, route, params, req).await;
    tracing::info!(
        function = route.function,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    res
}

async fn dispatch_inner(
    ctx: &Ctx,
    route: &routes::Route,
    params: HashMap<String, String>,
    req: Request<Bytes>,
) -> Response<Bytes> {
    let subject = match route.auth {
        routes::Auth::Bearer | routes::Auth::Own | routes::Auth::OwnPerson => {
            let authorization = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match ctx.auth.verify(authorization).await {
                Ok(caller) => caller.subject,
                Err(e) => {
                    tracing::info!(reason = %e, "token refused");
                    return Problem::unauthorized().into_response();
                }
            }
        }
        // An unknown or revoked feed token is a 404: it tells nothing.
        routes::Auth::FeedToken => {
            let token = params.get("token").map(String::as_str).unwrap_or_default();
            match crate::calendar::feed::holder(ctx.store.as_ref(), token).await {
                Ok(Some(person)) => person.to_string(),
                Ok(None) => return Problem::not_found().into_response(),
                Err(e) => return Problem::from(e).into_response(),
            }
        }
    };
    if req.body().len() > MAX_BODY {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is too large",
        )
        .invalid("body", format!("at most {MAX_BODY} bytes"))
        .into_response();
    }
    let caller = match PersonId::parse(&subject) {
        Some(id) if route.auth.is_own(&params, id) => Ok(Some(PersonRecord::named_by_token(id))),
        Some(id) => directory::person_record(ctx.store.as_ref(), id).await,
        None => Ok(None),
    };
    let caller = match caller {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Problem::new(
                StatusCode::FORBIDDEN,
                "unknown-person",
                "The signed-in person is not known to Skolnav",
            )
            .into_response();
        }
        Err(e) => return Problem::from(e).into_response(),
    };

    let idempotency_key = if req.method() == Method::POST {
        match req.headers().get("idempotency-key").map(|v| v.to_str()) {
            None => None,
            Some(Ok(k)) if !k.is_empty() && k.len() <= 255 => Some(k.to_string()),
            Some(_) => {
                return Problem::invalid_input(
                    "Idempotency-Key",
                    "1 to 255 visible ASCII characters",
                )
                .into_response();
            }
        }
    } else {
        None
    };

    let call = Call {
        caller,
        params,
        query: query_map(&req),
        body: req.body().clone(),
    };
    let Some(key) = idempotency_key else {
        return render((route.handler)(ctx, call).await);
    };
    let fingerprint = idempotency::fingerprint(req.method(), req.uri().path(), req.body());
    let claim = idempotency::Claim::new(&subject, &key, fingerprint);
    match claim.take(ctx).await {
        Ok(idempotency::Taken::Fresh) => {}
        Ok(idempotency::Taken::Replay(status, body)) => {
            let mut res = json_response(
                status,
                Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
            );
            if status.is_client_error() || status.is_server_error() {
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/problem+json"),
                );
            }
            res.headers_mut().insert(
                "idempotent-replayed",
                header::HeaderValue::from_static("true"),
            );
            return res;
        }
        Err(problem) => return problem.into_response(),
    }
    let outcome = (route.handler)(ctx, call).await;
    let (status, body) = match &outcome {
        // Only an answer kept for replay is read back into a tree.
        Ok(reply) => (
            reply.status,
            serde_json::from_slice(&reply.body).unwrap_or_default(),
        ),
        Err(problem) => (
            problem.status(),
            serde_json::to_value(problem).unwrap_or_default(),
        ),
    };
    claim.finish(ctx, status, body).await;
    render(outcome)
}

fn render(outcome: Result<Reply, Problem>) -> Response<Bytes> {
    match outcome {
        Ok(Reply {
            text: Some(text),
            status,
            ..
        }) => {
            let mut res = Response::new(Bytes::from(text.body));
            *res.status_mut() = status;
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(text.content_type),
            );
            let disposition = text.filename.and_then(|f| {
                header::HeaderValue::try_from(format!("attachment; filename=\"{f}\"")).ok()
            });
            if let Some(d) = disposition {
                res.headers_mut().insert(header::CONTENT_DISPOSITION, d);
            }
            res
        }
        Ok(reply) => json_response(reply.status, reply.body),
        Err(problem) => problem.into_response(),
    }
}

/// Finds the route for a request and dispatches it; 404/405 as problems.
pub async fn handle(ctx: &Ctx, req: Request<Bytes>) -> Response<Bytes> {
    match routes::find(req.method(), req.uri().path()) {
        routes::Found::Route(route, params) => dispatch(ctx, route, params, req).await,
        routes::Found::WrongMethod => Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
        )
        .into_response(),
        routes::Found::Nothing => Problem::not_found().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_percent_and_plus() {
        let pairs = url_decode_pairs("cursor=ab%3D%3D&limit=5&q=a+b&bad=%zz&end=%4");
        assert_eq!(
            pairs,
            vec![
                ("cursor".to_string(), "ab==".to_string()),
                ("limit".to_string(), "5".to_string()),
                ("q".to_string(), "a b".to_string()),
                ("bad".to_string(), "%zz".to_string()),
                ("end".to_string(), "%4".to_string()),
            ]
        );
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    enum Kind {
        Sick,
        Other,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Report {
        reason: Kind,
        note: Option<String>,
    }

    fn problem_of(body: &str) -> Problem {
        let call = Call {
            caller: PersonRecord::named_by_token(PersonId::from_ulid(ulid::Ulid::nil())),
            params: HashMap::new(),
            query: HashMap::new(),
            body: Bytes::from(body.to_string()),
        };
        call.json::<Report>().expect_err("a bad body")
    }

    #[test]
    fn a_well_formed_value_an_enum_does_not_take_names_its_field_not_the_body() {
        for body in [r#"{"reason": 5}"#, r#"{"reason": {}}"#, r#"{"reason": []}"#] {
            let problem = problem_of(body);
            assert_eq!(problem.invalid_params[0].name, "reason", "{body}");
            assert_eq!(
                problem.invalid_params[0].reason,
                "not one of the values this field takes"
            );
        }
        assert_eq!(
            problem_of(r#"{"reason": "bored"}"#).invalid_params[0].name,
            "reason"
        );
    }

    #[test]
    fn a_body_that_is_not_json_names_the_body() {
        for body in [
            r#"{"reason": }"#,
            r#"{"reason": "sick""#,
            r#"{"reason": "sick"} x"#,
        ] {
            let problem = problem_of(body);
            assert_eq!(problem.invalid_params[0].name, "body", "{body}");
            assert!(
                problem.invalid_params[0]
                    .reason
                    .starts_with("malformed JSON"),
                "{body}: {:?}",
                problem.invalid_params
            );
        }
    }
}
