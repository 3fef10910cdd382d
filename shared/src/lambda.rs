//! The Lambda shells: each function's `main` calls one of these. The
//! context (clients, keys, table name) is built once per instance during
//! init and borrowed by every invocation.

use crate::api::{self, Ctx, Problem, routes};
use crate::auth::{AuthConfig, Authenticator};
use crate::aws::AwsEnv;
use crate::clock::{Clock, SystemClock};
use crate::http_client::Http;
use crate::mail::Mailer;
use crate::outbox;
use crate::store::Store;
use crate::store::dynamodb::DynamoStore;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use bytes::Bytes;
use lambda_http::{Body, Request, Response};
use std::sync::Arc;

pub type Error = lambda_http::Error;

/// JSON logs without personal data; level from RUST_LOG (default info).
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .try_init();
}

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}

fn store_from_env(aws: &AwsEnv) -> Result<DynamoStore, Error> {
    Ok(DynamoStore::new(aws.dynamodb(), env("SKOLNAV_TABLE")?))
}

/// What every function does first: hands the loader's relocation table
/// back (relocations.rs; about 0.4 MiB of resident pages), sets up the logs
/// and starts the init clock.
fn begin_init() -> InitClock {
    let released = crate::relocations::release();
    init_tracing();
    tracing::info!(bytes = released, "relocation table released");
    InitClock::start()
}

/// Logs how long each step of init took (the benchmark's cold-start
/// figures say how much; these lines say where).
struct InitClock(std::time::Instant);

impl InitClock {
    fn start() -> Self {
        InitClock(std::time::Instant::now())
    }

    /// Init is done: once the runtime waits for the first event, the code
    /// only init ran is handed back (init_code.rs). A task, so the runtime
    /// client's own start-up, which runs after this, has run too.
    fn done(self, step: &str) {
        self.mark(step);
        tokio::spawn(async {
            let bytes = crate::init_code::release();
            tracing::info!(bytes, "init code released");
        });
    }

    fn mark(&self, step: &str) {
        tracing::info!(
            init_micros = self.0.elapsed().as_micros() as u64,
            step,
            "init"
        );
    }
}

/// Opens the TLS connection to DynamoDB during init, so the first
/// invocation does not pay the handshake.
async fn warm(store: &dyn Store) {
    let probe = crate::store::Key::new("WARMUP", "WARMUP");
    if let Err(e) = store.get(&probe).await {
        tracing::warn!(error = %e, "warm-up read failed");
    }
}

/// Serves the HTTP routes of one function: its own rows of the route
/// table (`routes::<function>::ROUTES`), so the binary links only them.
/// It handles no files (see [`run_http_with_files`]).
pub async fn run_http(rows: &'static [routes::Route]) -> Result<(), Error> {
    serve_http(rows, |_| Ok(Arc::new(crate::files::NoFiles))).await
}

/// As [`run_http`], for the functions that sign file uploads and
/// downloads or attach files: S3, the bucket named by SKOLNAV_FILES_BUCKET.
#[cfg(feature = "s3")]
pub async fn run_http_with_files(rows: &'static [routes::Route]) -> Result<(), Error> {
    serve_http(rows, |aws| {
        Ok(Arc::new(crate::files::S3Files::new(
            aws,
            &env("SKOLNAV_FILES_BUCKET")?,
        )))
    })
    .await
}

async fn serve_http(
    rows: &'static [routes::Route],
    files: impl FnOnce(&AwsEnv) -> Result<Arc<dyn crate::files::Files>, Error>,
) -> Result<(), Error> {
    let init = begin_init();
    let http = Http::new();
    let aws = AwsEnv::from_env(http.clone())?;
    init.mark("environment read");
    let store = store_from_env(&aws)?;
    let files = files(&aws)?;
    let auth = Authenticator::with_http(AuthConfig::from_env()?, http);
    init.mark("clients built");
    let (_, keys) = tokio::join!(warm(&store), auth.warm());
    if let Err(e) = keys {
        tracing::warn!(error = %e, "JWKS not fetched during init");
    }
    init.done("DynamoDB and JWKS warmed");
    let ctx = Ctx {
        store: Arc::new(store),
        auth: Arc::new(auth),
        clock: Arc::new(SystemClock),
        files,
    };
    let ctx = &ctx;
    lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(handle(ctx, rows, req).await)
    }))
    .await
}

/// One API Gateway request through the function's own routes.
pub async fn handle(ctx: &Ctx, rows: &'static [routes::Route], req: Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    let req = http::Request::from_parts(parts, bytes);
    let res = match routes::find_among(rows, req.method(), req.uri().path()) {
        routes::Found::Route(route, params) => api::dispatch(ctx, route, params, req).await,
        _ => Problem::not_found().into_response(),
    };
    let (parts, body) = res.into_parts();
    // Bytes held once (the answer just built) become a Vec without a copy.
    let body = match String::from_utf8(Vec::from(body)) {
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    };
    Response::from_parts(parts, body)
}

/// Serves `notifications-deliver`: outbox items from the table's stream.
#[cfg(feature = "ses")]
pub async fn run_outbox_stream() -> Result<(), Error> {
    let init = begin_init();
    let aws = AwsEnv::from_env(Http::new())?;
    init.mark("environment read");
    let store = store_from_env(&aws)?;
    let mailer = crate::mail::SesMailer::new(aws.sesv2(), env("SKOLNAV_MAIL_FROM")?)
        .with_template(env("SKOLNAV_SES_TEMPLATE")?);
    init.mark("clients built");
    warm(&store).await;
    init.done("DynamoDB warmed");
    let (store, mailer, clock) = (&store, &mailer, &SystemClock);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<StreamEvent>| async move {
            Ok::<_, Error>(deliver_stream(store, mailer, clock, event.payload).await)
        },
    ))
    .await
}

/// Delivers each outbox record of a stream batch and reports the records
/// that failed, so only they are retried (partial batch response).
pub async fn deliver_stream(
    store: &dyn Store,
    mailer: &dyn Mailer,
    clock: &dyn Clock,
    event: StreamEvent,
) -> DynamoDbEventResponse {
    each_outbox_record(event, |id| outbox::deliver(store, mailer, clock.now(), id)).await
}

/// Serves `absence-alerts`: the unexcused-absence alerts of the table's
/// stream (B6), by SMS through SNS and e-mail through SES.
#[cfg(all(feature = "ses", feature = "sns"))]
pub async fn run_absence_alerts() -> Result<(), Error> {
    let init = begin_init();
    let aws = AwsEnv::from_env(Http::new())?;
    init.mark("environment read");
    let store = store_from_env(&aws)?;
    let mailer = crate::mail::SesMailer::new(aws.sesv2(), env("SKOLNAV_MAIL_FROM")?);
    let sms = crate::sms::SnsSmsSender::new(
        aws.sns(),
        std::env::var("SKOLNAV_SMS_SENDER_ID")
            .ok()
            .filter(|v| !v.is_empty()),
    );
    init.mark("clients built");
    warm(&store).await;
    init.done("DynamoDB warmed");
    let (store, mailer, sms, clock) = (&store, &mailer, &sms, &SystemClock);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<StreamEvent>| async move {
            Ok::<_, Error>(deliver_alert_stream(store, mailer, sms, clock, event.payload).await)
        },
    ))
    .await
}

/// As [`deliver_stream`], for the alert items.
pub async fn deliver_alert_stream(
    store: &dyn Store,
    mailer: &dyn Mailer,
    sms: &dyn crate::sms::SmsSender,
    clock: &dyn Clock,
    event: StreamEvent,
) -> DynamoDbEventResponse {
    each_outbox_record(event, |id| {
        crate::alerts::deliver(store, mailer, sms, clock.now(), id)
    })
    .await
}

async fn each_outbox_record<F, Fut>(event: StreamEvent, deliver: F) -> DynamoDbEventResponse
where
    F: Fn(crate::ids::OutboxId) -> Fut,
    Fut: std::future::Future<Output = Result<outbox::Delivery, outbox::DeliverError>>,
{
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let sequence = record.change.sequence_number.clone();
        let attrs: Result<serde_json::Map<String, serde_json::Value>, _> =
            serde_dynamo::from_item(record.change.new_image);
        let Some(id) = attrs.ok().as_ref().and_then(outbox::id_of) else {
            tracing::warn!(event_id = %record.event_id, "stream record is not an outbox item");
            continue;
        };
        match deliver(id).await {
            Ok(outcome) => tracing::info!(outbox = %id, ?outcome, "delivered"),
            Err(e) => {
                tracing::warn!(outbox = %id, error = %e, "delivery failed; will retry");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = sequence;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

/// Serves `import-nightly`: the 02:00 Europe/Stockholm schedule, and runs
/// asked for through the API (request items from the table's stream).
pub async fn run_import() -> Result<(), Error> {
    let init = begin_init();
    let http = Http::new();
    let aws = AwsEnv::from_env(http.clone())?;
    let store = store_from_env(&aws)?;
    let registry = crate::ss12000::client::Client::new(
        crate::ss12000::client::ClientConfig::from_env()?,
        http,
    );
    init.mark("clients built");
    warm(&store).await;
    init.done("DynamoDB warmed");
    let (store, registry) = (&store, &registry);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            import_event(store, registry, &SystemClock, event.payload).await
        },
    ))
    .await
}

/// One invocation of `import-nightly`. A scheduled run that fails is an
/// error, so Lambda retries it (the run resumes safely); a requested run
/// that fails is in its run record, and the stream moves on.
pub async fn import_event(
    store: &dyn Store,
    registry: &dyn crate::import::source::Source,
    clock: &dyn Clock,
    event: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    use crate::import::{Options, Outcome, request};
    let (now, today) = (clock.now(), clock.today());
    let mut runs = Vec::new();
    if event.get("Records").is_some() {
        let stream: StreamEvent = serde_json::from_value(event)?;
        for record in stream.records {
            let image: Result<serde_json::Map<String, serde_json::Value>, _> =
                serde_dynamo::from_item(record.change.new_image);
            let Some(req) = image.ok().as_ref().and_then(request::from_stream_image) else {
                continue;
            };
            runs.push((
                crate::import::run(store, registry, req.options(now, today)).await?,
                false,
            ));
        }
    } else {
        runs.push((
            crate::import::run(store, registry, Options::new(now, today)).await?,
            true,
        ));
    }
    let mut summary = Vec::new();
    for (outcome, scheduled) in runs {
        match outcome {
            Outcome::Ran(record) => {
                tracing::info!(run = %record.run_id, status = ?record.status, written = record.written(), "import run");
                if scheduled && record.status == crate::import::record::Status::Failed {
                    return Err(format!("import run {} failed", record.run_id).into());
                }
                summary
                    .push(serde_json::json!({ "runId": record.run_id, "status": record.status }));
            }
            Outcome::AlreadyRunning { run_id, until } => {
                tracing::info!(holder = %run_id, %until, "import already running");
                summary.push(serde_json::json!({ "alreadyRunning": run_id }));
            }
        }
    }
    Ok(serde_json::json!({ "runs": summary }))
}

/// The shell of a scheduled function: init as every function does, then
/// `job` once per schedule event, on the store and the system clock.
async fn run_schedule<F>(job: F) -> Result<(), Error>
where
    F: for<'a> Fn(
        &'a DynamoStore,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<serde_json::Value, Error>> + Send + 'a>,
    >,
{
    let init = begin_init();
    let aws = AwsEnv::from_env(Http::new())?;
    let store = store_from_env(&aws)?;
    init.mark("clients built");
    warm(&store).await;
    init.done("DynamoDB warmed");
    let (store, job) = (&store, &job);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |_event: lambda_runtime::LambdaEvent<serde_json::Value>| async move { job(store).await },
    ))
    .await
}

/// Serves `reminders-daily`: the daily Europe/Stockholm schedule that
/// writes tomorrow's reminders to the outbox.
pub async fn run_reminders() -> Result<(), Error> {
    run_schedule(|store| {
        Box::pin(reminders_event(
            store,
            &SystemClock,
            serde_json::Value::Null,
        ))
    })
    .await
}

/// Serves `news-release`: every few minutes, the notices of news whose
/// publish time has come.
pub async fn run_news_release() -> Result<(), Error> {
    run_schedule(|store| {
        Box::pin(async move {
            let done = crate::news::release_due(store, &SystemClock).await?;
            tracing::info!(
                released = done.released,
                already_released = done.already_released,
                "news released"
            );
            Ok(serde_json::to_value(done)?)
        })
    })
    .await
}

/// One invocation of `reminders-daily` (the event's content is not
/// needed: the day is tomorrow by the clock). A failure is an error, so
/// the scheduler retries; what was sent is not sent again.
pub async fn reminders_event(
    store: &dyn Store,
    clock: &dyn Clock,
    _event: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let summary = crate::reminders::send_day_before(store, clock).await?;
    tracing::info!(
        day = %summary.day,
        sent = summary.sent,
        already_sent = summary.already_sent,
        "day-before reminders"
    );
    Ok(serde_json::to_value(summary)?)
}
