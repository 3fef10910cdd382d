//! Reading an SS 12000 registry over HTTP(S): OAuth2 client credentials,
//! list pages followed by `pageToken`, a halved `limit` on 503 ("response
//! too large"), short retries on other server and connection errors, and
//! `/deletedEntities`. Rows come back as raw JSON: [`validate`] judges each
//! one, so one bad row never fails a page.
//!
//! Errors name the URL path and the status, never the token or the secret.

use super::records::{Deleted, ObjectType};
use super::{validate, wire};
use crate::http_client::Http;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use http::Method;
use serde_json::Value;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const DEFAULT_PAGE_LIMIT: usize = 500;
/// The wait before each retry after a 5xx (not 503), a 429 or a
/// connection error: at most 0.7 s in all.
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
];
const MAX_PAGE_BYTES: usize = 32 << 20;
const MAX_TOKEN_BYTES: usize = 64 << 10;
/// A token is replaced this long before it expires (at most half its life).
const TOKEN_MARGIN: Duration = Duration::from_secs(30);
/// A token whose answer has no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// The longest a token is kept, whatever `expires_in` says.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Where the registry is and how to get in.
#[derive(Clone)]
pub struct ClientConfig {
    /// The API root, without a trailing `/` (`https://host/ss12000/v2`).
    pub base_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The `limit` of each list request (before any 503 halves it).
    pub page_limit: usize,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("page_limit", &self.page_limit)
            .finish()
    }
}

impl ClientConfig {
    /// Reads the process environment: see [`ClientConfig::from_vars`].
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// `SKOLNAV_SS12000_URL`, `SKOLNAV_SS12000_TOKEN_URL` (http or https),
    /// `SKOLNAV_SS12000_CLIENT_ID`, `SKOLNAV_SS12000_CLIENT_SECRET` and
    /// optionally `SKOLNAV_SS12000_PAGE_LIMIT` (default 500). Values are
    /// trimmed; the error names the variable.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required =
            |name: &str| var(name).ok_or_else(|| format!("environment variable {name} is not set"));
        let url = |name: &str| {
            let url = required(name)?;
            if url.starts_with("https://") || url.starts_with("http://") {
                Ok(url)
            } else {
                Err(format!("environment variable {name} is not an http(s) URL"))
            }
        };
        let page_limit = match var("SKOLNAV_SS12000_PAGE_LIMIT") {
            None => DEFAULT_PAGE_LIMIT,
            Some(limit) => limit.parse().ok().filter(|n| *n > 0).ok_or(
                "environment variable SKOLNAV_SS12000_PAGE_LIMIT is not a positive whole number",
            )?,
        };
        Ok(ClientConfig {
            base_url: url("SKOLNAV_SS12000_URL")?.trim_end_matches('/').to_owned(),
            token_url: url("SKOLNAV_SS12000_TOKEN_URL")?,
            client_id: required("SKOLNAV_SS12000_CLIENT_ID")?,
            client_secret: required("SKOLNAV_SS12000_CLIENT_SECRET")?,
            page_limit,
        })
    }
}

/// Why the registry could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The token endpoint said no to the client id and secret.
    #[error(
        "the token endpoint {path} refused the client credentials (HTTP {status}{}): check \
         SKOLNAV_SS12000_CLIENT_ID and SKOLNAV_SS12000_CLIENT_SECRET",
        code.as_deref().map(|c| format!(", {c}")).unwrap_or_default()
    )]
    Credentials {
        path: String,
        status: u16,
        /// OAuth2's `error` code (`invalid_client`), when it sent one.
        code: Option<String>,
    },
    /// Any other failure to get a token.
    #[error("the token endpoint {path}: {message}")]
    Token { path: String, message: String },
    /// The API refused a token fetched just before.
    #[error("GET {path}: HTTP 401 with a fresh token")]
    Unauthorized { path: String },
    /// 503 ("response too large") even with `limit=1`.
    #[error("GET {path}: HTTP 503 (response too large) even with limit 1")]
    TooLarge { path: String },
    /// Any other status, after the retries of a server error.
    #[error("GET {path}: HTTP {status}")]
    Status { path: String, status: u16 },
    /// No answer, after the retries (the message names method and URL).
    #[error("{message}")]
    Transport { path: String, message: String },
    /// An answer that is not what the standard says.
    #[error("GET {path}: {message}")]
    Body { path: String, message: String },
}

/// What the client did, for the run record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientStats {
    /// Requests sent to the API, retries included.
    pub requests: u64,
    /// 503 answers that halved the page limit.
    pub too_large_retries: u64,
    /// Requests repeated after a server or connection error.
    pub retries: u64,
    /// Requests sent to the token endpoint.
    pub token_fetches: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    too_large_retries: AtomicU64,
    retries: AtomicU64,
    token_fetches: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

struct Token {
    value: String,
    refresh_at: Instant,
}

/// An SS 12000 client: share it by reference (the token is cached inside).
pub struct Client {
    config: ClientConfig,
    http: Http,
    token: Mutex<Option<Token>>,
    counters: Counters,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A list answer, or 503: ask again with a smaller limit.
enum Answer {
    Body(Vec<u8>),
    TooLarge,
}

impl Client {
    pub fn new(config: ClientConfig, http: Http) -> Self {
        Client {
            config,
            http,
            token: Mutex::new(None),
            counters: Counters::default(),
        }
    }

    pub fn stats(&self) -> ClientStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ClientStats {
            requests: read(&self.counters.requests),
            too_large_retries: read(&self.counters.too_large_retries),
            retries: read(&self.counters.retries),
            token_fetches: read(&self.counters.token_fetches),
        }
    }

    /// The pages of one list endpoint, changed after `modified_after`
    /// (exclusive) when given.
    pub fn pages(&self, object: ObjectType, modified_after: Option<DateTime<Utc>>) -> Pages<'_> {
        Pages {
            client: self,
            object,
            modified_after,
            state: PageState::First,
            limit: self.config.page_limit.max(1),
        }
    }

    /// The ids of `types` deleted after `after`. Asking for no types asks
    /// nothing.
    pub async fn deleted(
        &self,
        after: DateTime<Utc>,
        types: &[ObjectType],
    ) -> Result<Deleted, ClientError> {
        let mut all = Deleted::default();
        if types.is_empty() {
            return Ok(all);
        }
        let endpoint = format!("{}/deletedEntities", self.config.base_url);
        let entities: Vec<&str> = types.iter().map(|t| t.wire_name()).collect();
        let mut query = encode(&[
            ("after", &rfc3339(after)),
            ("entities", &entities.join(",")),
        ]);
        let mut token = None;
        loop {
            let url = format!("{endpoint}?{query}");
            let Answer::Body(body) = self.get(&url).await? else {
                let path = url_path(&url);
                return Err(ClientError::Status { path, status: 503 });
            };
            let value: Value = serde_json::from_slice(&body).map_err(|e| not_json(&url, &e))?;
            let page = validate::deleted(&value).map_err(|message| ClientError::Body {
                path: url_path(&url),
                message,
            })?;
            append(&mut all, page);
            let sent = value.get("pageToken").and_then(Value::as_str);
            token = next_token(token.as_deref(), sent.map(str::to_owned), &url)?;
            match &token {
                Some(t) => query = encode(&[("pageToken", t)]),
                None => return Ok(all),
            }
        }
    }

    /// GET with the bearer token: on a 401, one more try with a new token.
    async fn get(&self, url: &str) -> Result<Answer, ClientError> {
        let mut refreshed = false;
        loop {
            let token = self.bearer().await?;
            let authorization = format!("Bearer {token}");
            let headers = [
                ("authorization", authorization.as_str()),
                ("accept", "application/json"),
            ];
            let (status, body) = self
                .send(
                    Method::GET,
                    url,
                    &headers,
                    &[],
                    MAX_PAGE_BYTES,
                    &self.counters.requests,
                )
                .await?;
            match status {
                200..=299 => return Ok(Answer::Body(body)),
                503 => return Ok(Answer::TooLarge),
                401 if !refreshed => {
                    self.forget(&token).await;
                    refreshed = true;
                }
                401 => {
                    return Err(ClientError::Unauthorized {
                        path: url_path(url),
                    });
                }
                status => {
                    return Err(ClientError::Status {
                        path: url_path(url),
                        status,
                    });
                }
            }
        }
    }

    /// One request, repeated after a 5xx other than 503 (which means "too
    /// large" to the API), a 429 or a connection error, with a short wait.
    /// Returns the last answer, whatever its status.
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        max_bytes: usize,
        counter: &AtomicU64,
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut delays = RETRY_DELAYS.iter();
        loop {
            bump(counter);
            let answer = self
                .http
                .send(method.clone(), url, headers, body.to_vec(), max_bytes)
                .await;
            let transient = answer.as_ref().map_or(true, |(status, _)| {
                *status == 429 || (*status >= 500 && *status != 503)
            });
            match delays.next() {
                Some(delay) if transient => {
                    bump(&self.counters.retries);
                    tokio::time::sleep(*delay).await;
                }
                _ => {
                    return answer.map_err(|message| ClientError::Transport {
                        path: url_path(url),
                        message,
                    });
                }
            }
        }
    }

    /// The cached token, or a new one when it is about to expire.
    async fn bearer(&self) -> Result<String, ClientError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let token = self.fetch_token().await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    /// Drops `used` from the cache (unless another request replaced it).
    async fn forget(&self, used: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == used) {
            *cached = None;
        }
    }

    /// OAuth2 client credentials (RFC 6749 4.4): id and secret by HTTP
    /// Basic, each form-encoded first as 2.3.1 says.
    async fn fetch_token(&self) -> Result<Token, ClientError> {
        let url = &self.config.token_url;
        let form = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = STANDARD.encode(format!(
            "{}:{}",
            form(&self.config.client_id),
            form(&self.config.client_secret)
        ));
        let authorization = format!("Basic {basic}");
        let headers = [
            ("authorization", authorization.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
        ];
        let body = b"grant_type=client_credentials";
        let (status, body) = self
            .send(
                Method::POST,
                url,
                &headers,
                body,
                MAX_TOKEN_BYTES,
                &self.counters.token_fetches,
            )
            .await?;
        if !(200..300).contains(&status) {
            return Err(token_refused(url, status, &body));
        }
        parse_token(&body).map_err(|message| ClientError::Token {
            path: url_path(url),
            message,
        })
    }
}

fn token_refused(url: &str, status: u16, body: &[u8]) -> ClientError {
    let code = oauth_error_code(body);
    let path = url_path(url);
    let credentials = matches!(
        code.as_deref(),
        Some("invalid_client" | "unauthorized_client")
    );
    if status == 401 || credentials {
        ClientError::Credentials { path, status, code }
    } else {
        let code = code.map(|c| format!(" ({c})")).unwrap_or_default();
        ClientError::Token {
            path,
            message: format!("HTTP {status}{code}"),
        }
    }
}

/// OAuth2's `error` code, if it looks like one (never free text).
fn oauth_error_code(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let code = value.get("error")?.as_str()?;
    let plain = code.len() <= 40 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    plain.then(|| code.to_owned())
}

/// `access_token` and `expires_in` (a number, or a string as some servers
/// send it).
fn parse_token(body: &[u8]) -> Result<Token, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_owned())?;
    let token = value
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("the answer has no access_token")?;
    let lifetime = match value.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs)
    .min(MAX_TOKEN_LIFETIME);
    Ok(Token {
        value: token.to_owned(),
        refresh_at: Instant::now() + lifetime - TOKEN_MARGIN.min(lifetime / 2),
    })
}

/// The pages of one list, read one at a time:
/// `while let Some(rows) = pages.next().await? { ... }`.
pub struct Pages<'a> {
    client: &'a Client,
    object: ObjectType,
    modified_after: Option<DateTime<Utc>>,
    state: PageState,
    limit: usize,
}

enum PageState {
    First,
    Next(String),
    Done,
}

impl Pages<'_> {
    /// The next page's rows as raw JSON, or `None` after the last page. A
    /// 503 halves the limit and asks again; the smaller limit is kept for
    /// the pages after.
    pub async fn next(&mut self) -> Result<Option<Vec<wire::Row>>, ClientError> {
        let token = match &self.state {
            PageState::Done => return Ok(None),
            PageState::First => None,
            PageState::Next(token) => Some(token.clone()),
        };
        let endpoint = format!("{}/{}", self.client.config.base_url, self.object.plural());
        loop {
            let url = format!("{endpoint}?{}", self.query(token.as_deref()));
            match self.client.get(&url).await? {
                Answer::Body(body) => {
                    let page = list_page(&body, &url)?;
                    self.state = match next_token(token.as_deref(), page.page_token, &url)? {
                        Some(next) => PageState::Next(next),
                        None => PageState::Done,
                    };
                    return Ok(Some(page.data));
                }
                Answer::TooLarge => self.halve_limit(&url)?,
            }
        }
    }

    /// The `limit` now asked for.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The first page: `limit` and the filter; later ones: `limit` and
    /// `pageToken` only (the standard allows no other filter beside it).
    fn query(&self, token: Option<&str>) -> String {
        let limit = self.limit.to_string();
        // Room and subject names travel as reference display names.
        let names: &[(&str, &str)] = match self.object {
            ObjectType::Activity | ObjectType::CalendarEvent => &[("expandReferenceNames", "true")],
            _ => &[],
        };
        match (token, self.modified_after) {
            (Some(token), _) => encode(&[("limit", &limit), ("pageToken", token)]),
            (None, Some(after)) => {
                let after = rfc3339(after);
                let mut pairs = vec![("limit", limit.as_str()), ("meta.modified.after", &after)];
                pairs.extend_from_slice(names);
                encode(&pairs)
            }
            (None, None) => {
                let mut pairs = vec![("limit", limit.as_str())];
                pairs.extend_from_slice(names);
                encode(&pairs)
            }
        }
    }

    fn halve_limit(&mut self, url: &str) -> Result<(), ClientError> {
        if self.limit <= 1 {
            return Err(ClientError::TooLarge {
                path: url_path(url),
            });
        }
        self.limit /= 2;
        bump(&self.client.counters.too_large_retries);
        Ok(())
    }
}

fn list_page(body: &[u8], url: &str) -> Result<wire::ListPage, ClientError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let at = e.path().to_string();
        ClientError::Body {
            path: url_path(url),
            message: format!("not a list page ({}, at {at})", json_problem(e.inner())),
        }
    })
}

/// A JSON error without serde's message, which may quote the data.
fn json_problem(e: &serde_json::Error) -> String {
    format!(
        "{:?} at line {} column {}",
        e.classify(),
        e.line(),
        e.column()
    )
}

fn not_json(url: &str, e: &serde_json::Error) -> ClientError {
    ClientError::Body {
        path: url_path(url),
        message: format!("not JSON ({})", json_problem(e)),
    }
}

/// The token for the next page: none when the registry sent `null` or an
/// empty string; an error when it sent the one just used (a loop).
fn next_token(
    used: Option<&str>,
    sent: Option<String>,
    url: &str,
) -> Result<Option<String>, ClientError> {
    match sent.filter(|t| !t.is_empty()) {
        Some(sent) if used == Some(sent.as_str()) => Err(ClientError::Body {
            path: url_path(url),
            message: "the same pageToken again".to_owned(),
        }),
        sent => Ok(sent),
    }
}

fn append(all: &mut Deleted, page: Deleted) {
    all.organisations.extend(page.organisations);
    all.persons.extend(page.persons);
    all.groups.extend(page.groups);
    all.duties.extend(page.duties);
    all.placements.extend(page.placements);
    all.activities.extend(page.activities);
    all.calendar_events.extend(page.calendar_events);
}

fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The path of `url`, for errors: no host, no query.
fn url_path(url: &str) -> String {
    url.parse::<http::Uri>()
        .map(|uri| uri.path().to_owned())
        .unwrap_or_else(|_| "(unparseable URL)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::extract::{RawQuery, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex as StdMutex};

    const CLIENT_ID: &str = "skolnav";
    const SECRET: &str = "s3cret:with&signs";

    /// A tiny registry: what it serves, what it does wrong on purpose, and
    /// what it was asked.
    #[derive(Default)]
    struct Registry {
        rows: Vec<Value>,
        /// 503 while the asked limit is above this.
        max_limit: Option<usize>,
        /// Tokens the API refuses, as if revoked.
        revoked: Vec<String>,
        /// Answer this many API requests with `fail_status` first.
        fail_first: usize,
        fail_status: u16,
        deleted: Value,
        tokens_issued: usize,
        /// Every API query string, decoded.
        queries: Vec<HashMap<String, String>>,
    }

    type Shared = Arc<StdMutex<Registry>>;

    fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Registry> {
        shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
        let form = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let expected = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", form(CLIENT_ID), form(SECRET)))
        );
        let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
        if sent != Some(expected.as_str()) {
            let body = json!({"error": "invalid_client", "error_description": SECRET});
            return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        }
        if body != "grant_type=client_credentials" {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "invalid_request"})),
            )
                .into_response();
        }
        let mut registry = lock(&shared);
        registry.tokens_issued += 1;
        let token = format!("token-{}", registry.tokens_issued);
        axum::Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
            .into_response()
    }

    /// Checks the bearer token and the injected failures; records the query.
    fn admit(
        registry: &mut Registry,
        headers: &HeaderMap,
        query: Option<String>,
    ) -> Result<HashMap<String, String>, StatusCode> {
        let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
        let token = sent
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let issued = (1..=registry.tokens_issued).any(|n| token == format!("token-{n}"));
        if !issued || registry.revoked.iter().any(|r| r == token) {
            return Err(StatusCode::UNAUTHORIZED);
        }
        let query: HashMap<String, String> =
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        registry.queries.push(query.clone());
        if registry.fail_first > 0 {
            registry.fail_first -= 1;
            return Err(status(registry.fail_status));
        }
        Ok(query)
    }

    async fn persons(
        State(shared): State<Shared>,
        headers: HeaderMap,
        RawQuery(query): RawQuery,
    ) -> Response {
        let mut registry = lock(&shared);
        let query = match admit(&mut registry, &headers, query) {
            Ok(query) => query,
            Err(status) => return status.into_response(),
        };
        let limit: usize = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(0);
        if registry.max_limit.is_some_and(|max| limit > max) {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        // An opaque token with characters that need encoding.
        let start = match query.get("pageToken") {
            Some(t) => t
                .strip_prefix("next+/=")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            None => 0,
        };
        let end = (start + limit).min(registry.rows.len());
        let data = registry.rows.get(start..end).unwrap_or_default().to_vec();
        let page_token = (end < registry.rows.len()).then(|| format!("next+/={end}"));
        axum::Json(json!({"data": data, "pageToken": page_token})).into_response()
    }

    async fn deleted_entities(
        State(shared): State<Shared>,
        headers: HeaderMap,
        RawQuery(query): RawQuery,
    ) -> Response {
        let mut registry = lock(&shared);
        match admit(&mut registry, &headers, query) {
            Ok(_) => axum::Json(registry.deleted.clone()).into_response(),
            Err(status) => status.into_response(),
        }
    }

    fn config(addr: std::net::SocketAddr) -> ClientConfig {
        ClientConfig {
            base_url: format!("http://{addr}/ss12000/v2"),
            token_url: format!("http://{addr}/oauth2/token"),
            client_id: CLIENT_ID.to_owned(),
            client_secret: SECRET.to_owned(),
            page_limit: 2,
        }
    }

    /// Starts the registry on a free port; the client points at it.
    async fn start(registry: Registry) -> (ClientConfig, Shared) {
        let shared = Arc::new(StdMutex::new(registry));
        let app = Router::new()
            .route("/oauth2/token", post(token))
            .route("/ss12000/v2/persons", get(persons))
            .route("/ss12000/v2/deletedEntities", get(deleted_entities))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (config(addr), shared)
    }

    fn rows(n: usize) -> Vec<Value> {
        (0..n).map(|i| json!({"id": format!("row-{i}")})).collect()
    }

    async fn read_all(pages: &mut Pages<'_>) -> Result<Vec<Value>, ClientError> {
        let mut all = Vec::new();
        while let Some(rows) = pages.next().await? {
            all.extend(rows.iter().map(|r| wire::value(r)));
        }
        Ok(all)
    }

    #[tokio::test]
    async fn paging_follows_page_token_until_null_with_only_limit_beside_it() {
        let (config, shared) = start(Registry {
            rows: rows(5),
            ..Registry::default()
        })
        .await;
        let client = Client::new(config, Http::new());
        let mut pages = client.pages(ObjectType::Person, None);
        let all = read_all(&mut pages).await.expect("all pages");
        assert_eq!(all, rows(5));
        let queries = lock(&shared).queries.clone();
        assert_eq!(queries.len(), 3);
        assert_eq!(queries[0], HashMap::from([("limit".into(), "2".into())]));
        assert_eq!(
            queries[2],
            HashMap::from([
                ("limit".into(), "2".into()),
                ("pageToken".into(), "next+/=4".into())
            ])
        );
        assert!(pages.next().await.expect("done").is_none());
        let stats = client.stats();
        assert_eq!((stats.requests, stats.token_fetches), (3, 1));
    }

    #[tokio::test]
    async fn modified_after_is_sent_on_the_first_page_only() {
        let (config, shared) = start(Registry {
            rows: rows(3),
            ..Registry::default()
        })
        .await;
        let client = Client::new(config, Http::new());
        let after = DateTime::parse_from_rfc3339("2024-08-01T03:04:05Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("a time");
        read_all(&mut client.pages(ObjectType::Person, Some(after)))
            .await
            .expect("all pages");
        let queries = lock(&shared).queries.clone();
        let sent = |i: usize| queries[i].get("meta.modified.after").cloned();
        assert_eq!(sent(0).as_deref(), Some("2024-08-01T03:04:05Z"));
        assert_eq!(sent(1), None);
    }

    #[tokio::test]
    async fn a_503_halves_the_limit_and_the_smaller_limit_is_kept() {
        let (mut config, shared) = start(Registry {
            rows: rows(5),
            max_limit: Some(2),
            ..Registry::default()
        })
        .await;
        config.page_limit = 8;
        let client = Client::new(config, Http::new());
        let mut pages = client.pages(ObjectType::Person, None);
        assert_eq!(read_all(&mut pages).await.expect("all pages"), rows(5));
        assert_eq!(pages.limit(), 2);
        let limits: Vec<String> = lock(&shared)
            .queries
            .iter()
            .filter_map(|q| q.get("limit").cloned())
            .collect();
        assert_eq!(limits, ["8", "4", "2", "2", "2"]);
        assert_eq!(client.stats().too_large_retries, 2);
    }

    #[tokio::test]
    async fn a_503_at_limit_one_gives_up_naming_the_path() {
        let (mut config, _shared) = start(Registry {
            rows: rows(1),
            max_limit: Some(0),
            ..Registry::default()
        })
        .await;
        config.page_limit = 2;
        let client = Client::new(config, Http::new());
        let err = client.pages(ObjectType::Person, None).next().await;
        let err = err.expect_err("too large");
        assert!(matches!(err, ClientError::TooLarge { ref path } if path == "/ss12000/v2/persons"));
    }

    #[tokio::test]
    async fn a_401_fetches_a_new_token_once_and_retries() {
        let (config, shared) = start(Registry {
            rows: rows(1),
            revoked: vec!["token-1".into()],
            ..Registry::default()
        })
        .await;
        let client = Client::new(config, Http::new());
        let page = client.pages(ObjectType::Person, None).next().await;
        let page = page
            .expect("a page")
            .map(|p| p.iter().map(|r| wire::value(r)).collect());
        assert_eq!(page, Some(rows(1)));
        let stats = client.stats();
        assert_eq!((stats.token_fetches, stats.requests), (2, 2));

        // A token refused twice is an error, not a loop.
        lock(&shared)
            .revoked
            .extend(["token-2".into(), "token-3".into()]);
        let err = client.pages(ObjectType::Person, None).next().await;
        assert!(matches!(err, Err(ClientError::Unauthorized { .. })));
        assert_eq!(client.stats().token_fetches, 3);
    }

    #[tokio::test]
    async fn the_token_is_cached_between_requests() {
        let (config, _shared) = start(Registry {
            rows: rows(1),
            ..Registry::default()
        })
        .await;
        let client = Client::new(config, Http::new());
        for _ in 0..3 {
            read_all(&mut client.pages(ObjectType::Person, None))
                .await
                .expect("a page");
        }
        assert_eq!(client.stats().token_fetches, 1);
    }

    #[tokio::test]
    async fn bad_client_credentials_give_a_clear_error_without_the_secret() {
        let (mut config, _shared) = start(Registry::default()).await;
        config.client_secret = "wrong".into();
        let client = Client::new(config, Http::new());
        let err = client.pages(ObjectType::Person, None).next().await;
        let err = err.expect_err("refused");
        assert!(matches!(
            err,
            ClientError::Credentials { status: 401, ref code, .. } if code.as_deref() == Some("invalid_client")
        ));
        let text = err.to_string();
        assert!(text.contains("refused the client credentials"), "{text}");
        assert!(text.contains("SKOLNAV_SS12000_CLIENT_SECRET"), "{text}");
        assert!(!text.contains("wrong") && !text.contains(SECRET), "{text}");
        assert_eq!(client.stats().requests, 0);
    }

    #[tokio::test]
    async fn a_server_error_is_retried_then_succeeds() {
        let (config, _shared) = start(Registry {
            rows: rows(1),
            fail_first: 2,
            fail_status: 502,
            ..Registry::default()
        })
        .await;
        let client = Client::new(config, Http::new());
        let page = client.pages(ObjectType::Person, None).next().await;
        let page = page
            .expect("a page")
            .map(|p| p.iter().map(|r| wire::value(r)).collect());
        assert_eq!(page, Some(rows(1)));
        assert_eq!(client.stats().retries, 2);
    }

    #[tokio::test]
    async fn a_lasting_server_error_gives_up_after_three_retries_naming_path_and_status() {
        let (config, _shared) = start(Registry {
            fail_first: 10,
            fail_status: 500,
            ..Registry::default()
        })
        .await;
        let client = Client::new(config, Http::new());
        let err = client.pages(ObjectType::Person, None).next().await;
        let err = err.expect_err("gave up");
        assert_eq!(err.to_string(), "GET /ss12000/v2/persons: HTTP 500");
        assert!(!err.to_string().contains("token-"));
        assert_eq!((client.stats().requests, client.stats().retries), (4, 3));
    }

    #[tokio::test]
    async fn a_client_error_is_not_retried() {
        let (config, _shared) = start(Registry {
            fail_first: 1,
            fail_status: 400,
            ..Registry::default()
        })
        .await;
        let client = Client::new(config, Http::new());
        let err = client.pages(ObjectType::Person, None).next().await;
        assert!(matches!(err, Err(ClientError::Status { status: 400, .. })));
        assert_eq!(client.stats().requests, 1);
    }

    #[tokio::test]
    async fn deleted_asks_for_the_types_after_the_time_and_reads_the_ids() {
        let person = "0b9c7c9e-1f4a-4c1e-9d59-6a3c1f0e2a11";
        let (config, shared) = start(Registry {
            deleted: json!({"data": {"persons": [person], "activitites": []}, "pageToken": null}),
            ..Registry::default()
        })
        .await;
        let client = Client::new(config, Http::new());
        let after = DateTime::parse_from_rfc3339("2024-08-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("a time");
        let deleted = client
            .deleted(after, &[ObjectType::Person, ObjectType::Group])
            .await
            .expect("deleted");
        assert_eq!(deleted.persons.len(), 1);
        assert!(deleted.groups.is_empty());
        let query = lock(&shared).queries[0].clone();
        assert_eq!(
            query.get("after").map(String::as_str),
            Some("2024-08-01T00:00:00Z")
        );
        assert_eq!(
            query.get("entities").map(String::as_str),
            Some("Person,Group")
        );
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const ALL: [(&str, &str); 4] = [
        (
            "SKOLNAV_SS12000_URL",
            "https://registry.example/ss12000/v2/",
        ),
        (
            "SKOLNAV_SS12000_TOKEN_URL",
            "https://registry.example/token",
        ),
        ("SKOLNAV_SS12000_CLIENT_ID", "skolnav"),
        ("SKOLNAV_SS12000_CLIENT_SECRET", "s3cret"),
    ];

    #[test]
    fn config_reads_the_environment_with_a_default_page_limit() {
        let config = ClientConfig::from_vars(vars(&ALL)).expect("valid");
        assert_eq!(config.base_url, "https://registry.example/ss12000/v2");
        assert_eq!(config.page_limit, 500);
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn config_errors_name_the_variable() {
        for (missing, _) in ALL {
            let rest: Vec<_> = ALL.into_iter().filter(|(k, _)| *k != missing).collect();
            let err = ClientConfig::from_vars(vars(&rest)).expect_err("missing");
            assert!(err.contains(missing), "{err}");
        }
        let mut bad = ALL.to_vec();
        bad.push(("SKOLNAV_SS12000_PAGE_LIMIT", "0"));
        let err = ClientConfig::from_vars(vars(&bad)).expect_err("zero");
        assert!(err.contains("SKOLNAV_SS12000_PAGE_LIMIT"), "{err}");
        bad.pop();
        bad[0] = ("SKOLNAV_SS12000_URL", "registry.example");
        let err = ClientConfig::from_vars(vars(&bad)).expect_err("not a URL");
        assert!(err.contains("SKOLNAV_SS12000_URL"), "{err}");
    }

    #[test]
    fn a_token_lifetime_is_read_from_a_number_or_a_string_and_capped() {
        let left = |body: &[u8]| {
            parse_token(body)
                .map(|t| t.refresh_at.saturating_duration_since(Instant::now()))
                .expect("a token")
        };
        let hour = left(br#"{"access_token": "t", "expires_in": "3600"}"#);
        assert!(hour > Duration::from_secs(3500) && hour <= Duration::from_secs(3570));
        let huge = left(br#"{"access_token": "t", "expires_in": 18446744073709551615}"#);
        assert!(huge <= MAX_TOKEN_LIFETIME);
        let unsaid = left(br#"{"access_token": "t"}"#);
        assert!(unsaid <= DEFAULT_TOKEN_LIFETIME);
        assert!(parse_token(br#"{"token_type": "Bearer"}"#).is_err());
    }

    #[test]
    fn a_repeated_page_token_is_an_error_not_a_loop() {
        let url = "http://h/ss12000/v2/persons?limit=2";
        assert!(next_token(Some("a"), Some("a".into()), url).is_err());
        assert_eq!(
            next_token(Some("a"), Some(String::new()), url).ok(),
            Some(None)
        );
        assert_eq!(
            next_token(None, Some("b".into()), url).ok(),
            Some(Some("b".into()))
        );
    }
}
