//! The local server: every function's routes on one port (the same route
//! table as the cloud), the embedded store, an outbox worker that delivers
//! to a folder, and a token issuer for the demo users. Tokens are verified
//! by the production path: the server publishes its key as a JWKS and the
//! authenticator fetches it from there.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use bytes::Bytes;
use skolnav::api::{self, Ctx, MAX_BODY, Problem};
use skolnav::clock::Clock;
use skolnav::demo;
use skolnav::devkeys::DevIssuer;
use skolnav::files::{FolderFiles, LocalRequest};
use skolnav::mail::Mailer;
use skolnav::outbox;
use skolnav::sms::SmsSender;
use skolnav::store::Store;
use std::sync::Arc;
use std::time::Duration;

pub const ISSUER: &str = "https://skolnav.local/dev-issuer";
pub const AUDIENCE: &str = "skolnav-local";
/// How long a demo token is valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);

#[derive(Clone)]
struct App {
    ctx: Ctx,
    issuer: Arc<DevIssuer>,
    files: Arc<FolderFiles>,
}

/// The whole HTTP surface: the API routes, and under /dev, /.well-known
/// and /local-files what only the local server offers. `files` is the
/// folder of uploads; `ctx.files` should be the same adapter.
pub fn router(ctx: Ctx, issuer: Arc<DevIssuer>, files: Arc<FolderFiles>) -> Router {
    let largest = usize::try_from(skolnav::files::MAX_DOCUMENT_BYTES).unwrap_or(usize::MAX);
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/dev/logins", get(logins))
        .route("/dev/token/{login}", get(token))
        .route(
            "/local-files/{*key}",
            get(download_file)
                .put(upload_file)
                .layer(DefaultBodyLimit::max(largest)),
        )
        .fallback(api_fallback)
        .with_state(App { ctx, issuer, files })
}

/// A refusal of the local file server, as S3 refuses a bad presigned URL:
/// 403 (what is wrong in the detail, never whose file it is).
fn file_refused(status: http::StatusCode, detail: String) -> axum::response::Response {
    to_axum(
        Problem::new(
            status,
            "file-url-refused",
            "The file URL does not allow this",
        )
        .detail(detail)
        .into_response(),
    )
}

/// The local stand-in for a presigned S3 PUT.
async fn upload_file(
    State(app): State<App>,
    Path(key): Path<String>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let query = req.uri().query().unwrap_or_default().to_string();
    let (content_type, size) =
        match app
            .files
            .verify(&http::Method::PUT, &key, &query, app.ctx.clock.now())
        {
            Ok(LocalRequest::Upload { content_type, size }) => (content_type, size),
            Ok(_) => return file_refused(http::StatusCode::FORBIDDEN, "not an upload URL".into()),
            Err(e) => return file_refused(http::StatusCode::FORBIDDEN, e.to_string()),
        };
    let sent_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if sent_type != content_type {
        return file_refused(
            http::StatusCode::FORBIDDEN,
            "Content-Type is not the signed one".into(),
        );
    }
    let limit = usize::try_from(size).unwrap_or(usize::MAX);
    let body = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) if b.len() == limit => b,
        _ => {
            return file_refused(
                http::StatusCode::FORBIDDEN,
                "the body is not the signed size".into(),
            );
        }
    };
    match app.files.write(&key, &content_type, &body).await {
        Ok(()) => http::StatusCode::OK.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "local file not written");
            to_axum(Problem::internal().into_response())
        }
    }
}

/// The local stand-in for a presigned S3 GET.
async fn download_file(
    State(app): State<App>,
    Path(key): Path<String>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let query = req.uri().query().unwrap_or_default();
    let (content_type, file_name) =
        match app
            .files
            .verify(&http::Method::GET, &key, query, app.ctx.clock.now())
        {
            Ok(LocalRequest::Download {
                content_type,
                file_name,
            }) => (content_type, file_name),
            Ok(_) => {
                return file_refused(http::StatusCode::FORBIDDEN, "not a download URL".into());
            }
            Err(e) => return file_refused(http::StatusCode::FORBIDDEN, e.to_string()),
        };
    match app.files.read(&key).await {
        Ok(Some(data)) => {
            let disposition = skolnav::files::content_disposition(&file_name);
            let mut res = axum::response::Response::new(axum::body::Body::from(data));
            for (name, value) in [
                (http::header::CONTENT_TYPE, content_type),
                (http::header::CONTENT_DISPOSITION, disposition),
            ] {
                if let Ok(v) = http::HeaderValue::try_from(value) {
                    res.headers_mut().insert(name, v);
                }
            }
            res
        }
        Ok(None) => to_axum(Problem::not_found().into_response()),
        Err(e) => {
            tracing::error!(error = %e, "local file not read");
            to_axum(Problem::internal().into_response())
        }
    }
}

async fn jwks(State(app): State<App>) -> impl IntoResponse {
    axum::Json(app.issuer.jwks_json())
}

async fn logins() -> impl IntoResponse {
    let list: Vec<_> = demo::logins()
        .into_iter()
        .map(|l| {
            serde_json::json!({
                "login": l.login,
                "personId": l.person.to_string(),
                "role": l.what,
            })
        })
        .collect();
    axum::Json(list)
}

/// A signed token for a demo login (or any person id), as plain text so
/// that `TOKEN=$(curl -s .../dev/token/guardian)` works.
async fn token(State(app): State<App>, Path(login): Path<String>) -> axum::response::Response {
    let person = demo::logins()
        .into_iter()
        .find(|l| l.login == login)
        .map(|l| l.person.to_string())
        .or_else(|| skolnav::ids::PersonId::parse(&login).map(|p| p.to_string()));
    match person {
        Some(subject) => app.issuer.token_for(&subject, TOKEN_TTL).into_response(),
        None => to_axum(
            Problem::not_found()
                .detail("no such demo login; GET /dev/logins lists them")
                .into_response(),
        ),
    }
}

fn to_axum(res: http::Response<Bytes>) -> axum::response::Response {
    let (parts, body) = res.into_parts();
    axum::response::Response::from_parts(parts, axum::body::Body::from(body))
}

async fn api_fallback(
    State(app): State<App>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY + 1).await {
        Ok(b) => b,
        Err(_) => {
            return to_axum(
                Problem::new(
                    http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    "The request body is too large",
                )
                .invalid("body", format!("at most {MAX_BODY} bytes"))
                .into_response(),
            );
        }
    };
    to_axum(api::handle(&app.ctx, http::Request::from_parts(parts, bytes)).await)
}

/// Outbox items one pass of [`drain_outbox`] reads.
const PAGE: u32 = 100;

/// Delivers what waits in the outbox, once: mails and notices as
/// `notifications-deliver` does, absence alerts as `absence-alerts`.
/// Returns how many were sent.
pub async fn drain_outbox(
    store: &dyn Store,
    mailer: &dyn Mailer,
    sms: &dyn SmsSender,
    clock: &dyn Clock,
) -> usize {
    let mut sent = 0;
    // What an expansion writes is delivered in the same drain, as the
    // stream would deliver it right after, and a backlog larger than a
    // page is worked through: a few passes, while one pass expanded
    // something or found a full page.
    for _ in 0..5 {
        let ids = match outbox::pending(store, PAGE).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "outbox not readable");
                return sent;
            }
        };
        let mut expanded = false;
        let full = ids.len();
        for id in ids {
            let delivered = match outbox::deliver(store, mailer, clock.now(), id).await {
                Ok(outbox::Delivery::Elsewhere) => {
                    skolnav::alerts::deliver(store, mailer, sms, clock.now(), id).await
                }
                other => other,
            };
            match delivered {
                Ok(outbox::Delivery::Sent) => sent += 1,
                Ok(outbox::Delivery::Expanded) => expanded = true,
                Ok(_) => {}
                Err(e) => tracing::warn!(outbox = %id, error = %e, "delivery failed; will retry"),
            }
        }
        if !expanded && full < PAGE as usize {
            break;
        }
    }
    sent
}

/// The local stand-in for the stream-fed Lambda: polls the outbox.
pub async fn outbox_worker(
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    sms: Arc<dyn SmsSender>,
    clock: Arc<dyn Clock>,
    every: Duration,
) {
    loop {
        drain_outbox(
            store.as_ref(),
            mailer.as_ref(),
            sms.as_ref(),
            clock.as_ref(),
        )
        .await;
        tokio::time::sleep(every).await;
    }
}

/// The local stand-in for the daily `reminders-daily` schedule: writes
/// tomorrow's day-before reminders to the outbox. It runs every `every`
/// rather than once a day, which is safe: a reminder already written is
/// not written again.
pub async fn reminders_worker(store: Arc<dyn Store>, clock: Arc<dyn Clock>, every: Duration) {
    loop {
        match skolnav::reminders::send_day_before(store.as_ref(), clock.as_ref()).await {
            Ok(summary) if summary.sent > 0 => {
                tracing::info!(day = %summary.day, sent = summary.sent, "day-before reminders")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "day-before reminders failed; will retry"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The local stand-in for the `news-release` schedule: the notices of
/// news whose publish time has come (released once, however often it runs).
pub async fn news_worker(store: Arc<dyn Store>, clock: Arc<dyn Clock>, every: Duration) {
    loop {
        match skolnav::news::release_due(store.as_ref(), clock.as_ref()).await {
            Ok(done) if done.released > 0 => {
                tracing::info!(released = done.released, "news released")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "news release failed; will retry"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The local stand-in for the stream-fed import function: runs the import
/// requests the API wrote, against `registry`.
pub async fn import_worker(
    store: Arc<dyn Store>,
    registry: Arc<dyn skolnav::import::source::Source>,
    clock: Arc<dyn Clock>,
    every: Duration,
) {
    loop {
        match skolnav::import::request::waiting(store.as_ref()).await {
            Ok(requests) => {
                for req in requests {
                    let options = req.options(clock.now(), clock.today());
                    match skolnav::import::run(store.as_ref(), registry.as_ref(), options).await {
                        Ok(outcome) => tracing::info!(?outcome, "import run"),
                        Err(e) => tracing::warn!(error = %e, "import run failed"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "import requests not readable"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Where the local import reads from: the registry named by
/// SKOLNAV_SS12000_URL and friends, or else a demo registry in this process
/// (three generated schools, the SS 12000 fixture), so the import can be
/// tried without one. Returns the source and a line describing it.
pub async fn registry() -> Result<(Arc<dyn skolnav::import::source::Source>, String), String> {
    use skolnav::ss12000::client::{Client, ClientConfig};
    if std::env::var("SKOLNAV_SS12000_URL").is_ok() {
        let config = ClientConfig::from_env()?;
        let line = format!("SS 12000 registry at {}", config.base_url);
        return Ok((
            Arc::new(Client::new(config, skolnav::http_client::Http::new())),
            line,
        ));
    }
    use skolnav_ss12000_fixture::{ServerOptions, Spec, Ss12000Server, generate};
    let today = chrono::Utc::now().date_naive();
    let server = Ss12000Server::start(
        generate(&Spec::small().today(today)),
        ServerOptions::default(),
    )
    .await;
    let config = ClientConfig {
        base_url: server.base_url(),
        token_url: server.token_url(),
        client_id: server.client_id().to_string(),
        client_secret: server.client_secret().to_string(),
        page_limit: 500,
    };
    let line = format!(
        "demo SS 12000 registry at {} (generated, 3 schools)",
        server.base_url()
    );
    // The demo registry lives as long as the process.
    std::mem::forget(server);
    Ok((
        Arc::new(Client::new(config, skolnav::http_client::Http::new())),
        line,
    ))
}
