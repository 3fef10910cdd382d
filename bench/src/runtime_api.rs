//! A minimal Lambda Runtime API (the interface a custom runtime polls), so
//! release binaries run here exactly as under Lambda: GET .../next hands
//! out an event, POST .../response takes the answer. It also serves the
//! JWKS the functions fetch during init.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot, watch};

/// What came back for one invocation.
#[derive(Debug)]
pub struct Outcome {
    /// When the runtime received the event (its GET .../next was answered).
    pub served_at: Instant,
    /// When the runtime posted the answer.
    pub answered_at: Instant,
    pub body: Bytes,
    pub error: bool,
}

struct Pending {
    event: String,
    reply: oneshot::Sender<Outcome>,
}

struct Inner {
    queue: AsyncMutex<mpsc::Receiver<Pending>>,
    waiting: Mutex<HashMap<String, (Instant, oneshot::Sender<Outcome>)>>,
    first_poll: Mutex<Option<Instant>>,
    /// How many times the function has asked for work.
    polls: watch::Sender<usize>,
    init_error: Mutex<Option<String>>,
    jwks: serde_json::Value,
}

#[derive(Clone)]
pub struct RuntimeApi {
    inner: Arc<Inner>,
    sender: mpsc::Sender<Pending>,
    pub addr: std::net::SocketAddr,
}

impl RuntimeApi {
    pub async fn start(jwks: serde_json::Value) -> Result<RuntimeApi, String> {
        let (sender, receiver) = mpsc::channel(16);
        let inner = Arc::new(Inner {
            queue: AsyncMutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            first_poll: Mutex::new(None),
            polls: watch::Sender::new(0),
            init_error: Mutex::new(None),
            jwks,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .route("/jwks.json", get(jwks_handler))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(RuntimeApi {
            inner,
            sender,
            addr,
        })
    }

    /// Queues one event and waits for the function's answer (30 s at most).
    pub async fn invoke(&self, event: String) -> Result<Outcome, String> {
        self.invoke_within(event, std::time::Duration::from_secs(30))
            .await
    }

    /// As [`RuntimeApi::invoke`], waiting at most `timeout` (a Lambda's own
    /// limit is 15 minutes).
    pub async fn invoke_within(
        &self,
        event: String,
        timeout: std::time::Duration,
    ) -> Result<Outcome, String> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Pending { event, reply })
            .await
            .map_err(|_| "runtime API closed".to_string())?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err("invocation dropped".into()),
            Err(_) => Err(format!(
                "no answer within {timeout:?} (init error: {:?})",
                self.init_error()
            )),
        }
    }

    /// When the function first asked for work: the end of its init.
    pub fn first_poll(&self) -> Option<Instant> {
        self.inner.first_poll.lock().ok().and_then(|t| *t)
    }

    /// Waits until the function has asked for work `count` times (at most
    /// `timeout`): after its last answer, the poll that shows it finished
    /// everything that follows an answer, as a Lambda process always does.
    pub async fn polled(&self, count: usize, timeout: std::time::Duration) -> bool {
        let mut polls = self.inner.polls.subscribe();
        matches!(
            tokio::time::timeout(timeout, polls.wait_for(|n| *n >= count)).await,
            Ok(Ok(_))
        )
    }

    pub fn init_error(&self) -> Option<String> {
        self.inner.init_error.lock().ok().and_then(|e| e.clone())
    }
}

async fn jwks_handler(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    axum::Json(inner.jwks.clone())
}

async fn next(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    let polled = Instant::now();
    if let Ok(mut first) = inner.first_poll.lock() {
        first.get_or_insert(polled);
    }
    inner.polls.send_modify(|n| *n += 1);
    let pending = inner.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let id = ulid::Ulid::generate().to_string();
    let served_at = Instant::now();
    if let Ok(mut w) = inner.waiting.lock() {
        w.insert(id.clone(), (served_at, pending.reply));
    }
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-north-1:000000000000:function:bench".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".into(),
    );
    (StatusCode::OK, headers, pending.event)
}

fn finish(inner: &Inner, id: &str, body: Bytes, error: bool) -> StatusCode {
    let answered_at = Instant::now();
    let waiting = inner.waiting.lock().ok().and_then(|mut w| w.remove(id));
    match waiting {
        Some((served_at, reply)) => {
            let _ = reply.send(Outcome {
                served_at,
                answered_at,
                body,
                error,
            });
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn response(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&inner, &id, body, false)
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&inner, &id, body, true)
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    if let Ok(mut e) = inner.init_error.lock() {
        *e = Some(String::from_utf8_lossy(&body).into_owned());
    }
    StatusCode::ACCEPTED
}
