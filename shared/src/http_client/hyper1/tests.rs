//! The connector against local servers that answer, stay silent, hang up
//! or speak TLS with a certificate made on the spot.

use super::{Hyper1, Settings};
use aws_smithy_runtime_api::client::connection::CaptureSmithyConnection;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::retry::ErrorKind;
use http_body_util::BodyExt;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the server does with a connection.
#[derive(Clone, Copy, Debug)]
enum Conduct {
    /// Answers every request on it: 200, body "ok".
    Answer,
    /// Answers as DynamoDB does a GetItem that found nothing.
    AnswerEmptyJson,
    /// Reads a request and never answers; notices when the client hangs up.
    Silent,
    /// Reads a request and closes the connection.
    HangUp,
}

struct Server {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    /// Notified when the client closes a silent connection.
    client_hung_up: Arc<Notify>,
}

impl Server {
    /// Connection n behaves as `conduct[n]`, the last one repeating.
    async fn start(conduct: &[Conduct], tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let client_hung_up = Arc::new(Notify::new());
        let conduct = conduct.to_vec();
        let (count, hung_up) = (accepted.clone(), client_hung_up.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let n = count.fetch_add(1, Ordering::SeqCst);
                let how = conduct[n.min(conduct.len() - 1)];
                let (tls, hung_up) = (tls.clone(), hung_up.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                serve(stream, how, &hung_up).await;
                            }
                        }
                        None => serve(stream, how, &hung_up).await,
                    }
                });
            }
        });
        Server {
            addr,
            accepted,
            client_hung_up,
        }
    }

    fn url(&self, scheme: &str, host: &str) -> String {
        format!("{scheme}://{host}:{}/table", self.addr.port())
    }

    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Requests here have no body: a request ends at its blank line.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, how: Conduct, hung_up: &Notify) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            match how {
                Conduct::Answer | Conduct::AnswerEmptyJson => {
                    let answer: &[u8] = match how {
                        Conduct::Answer => b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
                        _ => b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\n\r\n{}",
                    };
                    if stream.write_all(answer).await.is_err() {
                        return;
                    }
                }
                Conduct::Silent => {
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                    hung_up.notify_one();
                    return;
                }
                Conduct::HangUp => return,
            }
        }
    }
}

fn connector(connect_timeout: Duration, read_timeout: Duration) -> Hyper1 {
    Hyper1::new(Settings {
        connect_timeout,
        read_timeout,
        extra_roots: Vec::new(),
    })
}

fn patient() -> Hyper1 {
    connector(Duration::from_secs(5), Duration::from_secs(5))
}

fn get(url: &str) -> HttpRequest {
    let request = http::Request::get(url)
        .body(SdkBody::empty())
        .expect("request");
    HttpRequest::try_from(request).expect("smithy request")
}

/// A test whose limit does not work fails instead of hanging.
async fn within_5s<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the connector's own limit should have ended the call")
}

async fn body_of(response: HttpResponse) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

#[tokio::test]
async fn requests_in_a_row_share_one_kept_alive_connection() {
    let server = Server::start(&[Conduct::Answer], None).await;
    let http = patient();
    for _ in 0..3 {
        let response = http.call(get(&server.url("http", "127.0.0.1"))).await;
        let response = response.expect("answered");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(body_of(response).await, "ok");
    }
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn a_connection_the_sdk_poisons_is_not_used_again() {
    let server = Server::start(&[Conduct::Answer], None).await;
    let http = patient();
    let mut request = get(&server.url("http", "127.0.0.1"));
    let capture = CaptureSmithyConnection::new();
    request.add_extension(capture.clone());
    let response = http.call(request).await.expect("answered");
    body_of(response).await;
    let used = capture.get().expect("the connection the request used");
    used.poison();
    let response = http.call(get(&server.url("http", "127.0.0.1"))).await;
    body_of(response.expect("answered")).await;
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn no_response_within_the_read_timeout_is_a_timeout_and_closes_the_connection() {
    let server = Server::start(&[Conduct::Silent, Conduct::Answer], None).await;
    let http = connector(Duration::from_secs(5), Duration::from_millis(200));
    let err = within_5s(http.call(get(&server.url("http", "127.0.0.1"))))
        .await
        .expect_err("no answer");
    assert!(err.is_timeout(), "{err:?}");
    tokio::time::timeout(Duration::from_secs(5), server.client_hung_up.notified())
        .await
        .expect("the timed-out connection is closed");
    let response = http.call(get(&server.url("http", "127.0.0.1"))).await;
    assert_eq!(body_of(response.expect("answered")).await, "ok");
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn a_tls_handshake_that_never_finishes_is_a_connect_timeout() {
    // A plain server that reads the ClientHello and never answers it.
    let server = Server::start(&[Conduct::Silent], None).await;
    let http = connector(Duration::from_millis(200), Duration::from_secs(5));
    let err = within_5s(http.call(get(&server.url("https", "127.0.0.1"))))
        .await
        .expect_err("no handshake");
    assert!(err.is_timeout(), "{err:?}");
    let said = DisplayErrorContext(&err).to_string();
    assert!(said.contains("no connection within 200ms"), "{said}");
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_io_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let err = patient()
        .call(get(&format!("http://127.0.0.1:{port}/")))
        .await
        .expect_err("refused");
    assert!(err.is_io(), "{err:?}");
}

#[tokio::test]
async fn a_connection_closed_before_the_response_is_transient() {
    let server = Server::start(&[Conduct::HangUp], None).await;
    let err = patient()
        .call(get(&server.url("http", "127.0.0.1")))
        .await
        .expect_err("hung up");
    assert!(transient(&err), "{err:?}");
}

fn transient(err: &ConnectorError) -> bool {
    err.is_io() || err.is_timeout() || err.as_other() == Some(ErrorKind::TransientError)
}

/// A TLS acceptor for "localhost" and the certificate a client must trust.
fn localhost_tls() -> (tokio_rustls::TlsAcceptor, CertificateDer<'static>) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let cert = made.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.clone()], key)
    .expect("server config");
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), cert)
}

#[tokio::test]
async fn https_to_a_trusted_certificate_is_answered_over_one_connection() {
    let (acceptor, cert) = localhost_tls();
    let server = Server::start(&[Conduct::Answer], Some(acceptor)).await;
    let http = Hyper1::new(Settings {
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        extra_roots: vec![cert],
    });
    for _ in 0..2 {
        let response = http.call(get(&server.url("https", "localhost"))).await;
        assert_eq!(body_of(response.expect("answered")).await, "ok");
    }
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn https_to_an_untrusted_certificate_is_refused() {
    let (acceptor, _cert) = localhost_tls();
    let server = Server::start(&[Conduct::Answer], Some(acceptor)).await;
    let err = patient()
        .call(get(&server.url("https", "localhost")))
        .await
        .expect_err("untrusted");
    assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");
}

#[tokio::test]
async fn the_sdk_retries_a_call_whose_connection_was_cut_off_on_a_new_connection() {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_dynamodb::types::AttributeValue;
    let server = Server::start(&[Conduct::HangUp, Conduct::AnswerEmptyJson], None).await;
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-north-1"))
        .credentials_provider(Credentials::new("a", "b", None, None, "tests"))
        .endpoint_url(format!("http://127.0.0.1:{}", server.addr.port()))
        .http_client(crate::http_client::Http::new().for_sdk())
        .build();
    let found = aws_sdk_dynamodb::Client::from_conf(config)
        .get_item()
        .table_name("skolnav")
        .key("PK", AttributeValue::S("P#1".into()))
        .send();
    let found = within_5s(found)
        .await
        .expect("answered on the second attempt");
    assert!(found.item().is_none());
    assert_eq!(server.connections(), 2);
}

#[test]
fn connectors_share_the_system_roots_read_once() {
    let first = super::system_roots();
    let _ = patient();
    assert!(Arc::ptr_eq(&first, &super::system_roots()));
}
