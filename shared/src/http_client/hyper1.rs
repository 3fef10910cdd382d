//! The AWS SDK's HTTP connector: hyper's HTTP/1.1 client and connection
//! pool, rustls (aws-lc) for HTTPS.
//!
//! Written here rather than taking the SDK's own (aws-smithy-http-client):
//! that crate turns on hyper's HTTP/2 client and links h2 whatever features
//! it is given, and every function carried it (dropping it took directory-me
//! from 6.40 to 5.96 MB and its zip from 2.53 to 2.35 MB; docs/performance.md,
//! run 15). DynamoDB, SES, SNS, S3 and the identity provider's JWKS all
//! speak HTTP/1.1, and the Lambda runtime client is hyper's HTTP/1.1 client
//! already.
//!
//! What it keeps from the SDK's connector:
//! - one pool of kept-alive connections for the whole process;
//! - the connect timeout covers TCP and the TLS handshake, the read timeout
//!   the wait for the response head;
//! - errors are classified the way the SDK's retry policy expects (a timeout,
//!   an I/O failure, a dropped connection are transient);
//! - the SDK can poison the connection a request used (it does after a
//!   transient error), so the pool never hands it out again.

use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorFuture};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use http::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{
    CaptureConnection, HttpConnector as TcpConnector, capture_connection,
};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

type BoxError = Box<dyn StdError + Send + Sync>;
type Pool = Client<TimedConnect<HttpsConnector<TcpConnector>>, SdkBody>;

/// How long to wait, and which roots to trust beyond the system's.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Added to the system's roots (tests: a certificate made on the spot).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

/// The connector: cheap to clone, clones share the pool.
#[derive(Clone)]
pub(crate) struct Hyper1 {
    pool: Pool,
    read_timeout: Duration,
}

impl std::fmt::Debug for Hyper1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hyper1")
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl Hyper1 {
    /// Builds the pool over the system's root certificates (read once per
    /// process); plain `http://` works too (local endpoints: DynamoDB
    /// Local, moto).
    pub(crate) fn new(settings: Settings) -> Self {
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(settings.extra_roots))
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let connect = TimedConnect {
            inner: https,
            limit: settings.connect_timeout,
        };
        let pool = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(connect);
        Hyper1 {
            pool,
            read_timeout: settings.read_timeout,
        }
    }
}

/// rustls with the aws-lc provider (already linked for JWT signatures),
/// the system's roots and `extra_roots`; roots that fail to parse are
/// skipped, as the SDK's connector does.
fn tls_config(extra_roots: Vec<CertificateDer<'static>>) -> rustls::ClientConfig {
    let roots = if extra_roots.is_empty() {
        system_roots()
    } else {
        let mut roots = (*system_roots()).clone();
        roots.add_parsable_certificates(extra_roots);
        Arc::new(roots)
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("the aws-lc provider supports TLS 1.2 and 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth()
}

/// The system's roots, read and parsed once per process and shared by
/// every connector: a function builds one, but the tests and the local
/// server build many (19 ms each in a debug build). The certificates' DER
/// is dropped once parsed.
fn system_roots() -> Arc<rustls::RootCertStore> {
    static ROOTS: OnceLock<Arc<rustls::RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            Arc::new(roots)
        })
        .clone()
}

impl HttpConnector for Hyper1 {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        // The SDK asks for the connection (to poison it after a transient
        // error) by putting a CaptureSmithyConnection in the request; other
        // callers (the JWKS, S3 HEAD) do not.
        if let Some(smithy) = request
            .extensions()
            .get::<CaptureSmithyConnection>()
            .cloned()
        {
            let captured = capture_connection(&mut request);
            smithy.set_connection_retriever(move || poisonable(&captured));
        }
        let response = self.pool.request(request);
        let limit = self.read_timeout;
        HttpConnectorFuture::new(async move {
            // Dropping a request in flight closes its connection (hyper's
            // HTTP/1 dispatcher stops when the caller is gone): a timed-out
            // connection never returns to the pool.
            match tokio::time::timeout(limit, response).await {
                Err(_) => Err(ConnectorError::timeout(Box::new(TimedOut::Response(limit)))),
                Ok(Err(e)) => Err(classify(e)),
                Ok(Ok(response)) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None)),
            }
        })
    }
}

/// The connection a request went out on, as the SDK's retry policy sees
/// it: poisoning it keeps the pool from handing it out again.
fn poisonable(captured: &CaptureConnection) -> Option<ConnectionMetadata> {
    captured.connection_metadata().as_ref()?;
    let captured = captured.clone();
    Some(
        ConnectionMetadata::builder()
            .proxied(false)
            .poison_fn(move || {
                if let Some(connection) = captured.connection_metadata().as_ref() {
                    connection.poison();
                }
            })
            .build(),
    )
}

/// A limit passed: connecting (TCP and TLS) or waiting for the response.
#[derive(Debug, thiserror::Error)]
enum TimedOut {
    #[error("no connection within {0:?}")]
    Connect(Duration),
    #[error("no response within {0:?}")]
    Response(Duration),
}

/// What hyper's error means to the SDK's retry policy: timeouts, I/O and
/// connection failures and cut-off responses are transient, a request hyper
/// refused to send is the caller's, anything else is not retried.
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let hyper = cause::<hyper::Error>(&error);
    let kind: fn(BoxError) -> ConnectorError = match hyper {
        _ if cause::<TimedOut>(&error).is_some() => ConnectorError::timeout,
        Some(h) if h.is_timeout() => ConnectorError::timeout,
        Some(h) if h.is_user() => ConnectorError::user,
        Some(h) if h.is_closed() || h.is_canceled() => ConnectorError::io,
        Some(h) if h.is_incomplete_message() => {
            |e| ConnectorError::other(e, Some(ErrorKind::TransientError))
        }
        _ if error.is_connect() || cause::<std::io::Error>(&error).is_some() => ConnectorError::io,
        _ => |e| ConnectorError::other(e, None),
    };
    kind(Box::new(error))
}

/// The first error of type `E` in `error`'s chain.
fn cause<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<E>() {
            return Some(found);
        }
        next = current.source();
    }
    None
}

/// A connector that gives up after `limit`: hyper's own connect timeout
/// covers only TCP, this covers the TLS handshake as well.
#[derive(Clone)]
struct TimedConnect<C> {
    inner: C,
    limit: Duration,
}

impl<C> tower_service::Service<Uri> for TimedConnect<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(TimedOut::Connect(limit)) as BoxError),
            }
        })
    }
}

#[cfg(test)]
mod tests;
