//! One HTTP(S) client per process, shared by the AWS SDK clients and the
//! JWKS fetch.
//!
//! Written here rather than taking reqwest for the JWKS: reqwest brought a
//! second hyper client, a second rustls configuration and a second load of
//! the system's root certificates into every function, which cost init time
//! (about 4 ms of the cold start) and package size. The connector the AWS
//! SDK sends through (hyper1.rs: hyper's HTTP/1.1 client and rustls, roots
//! loaded once) can send any request, so the JWKS goes through it too: one
//! connection pool, one TLS stack.

mod hyper1;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use http_body_util::{BodyExt, Limited};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The process's HTTP client: clone it freely (clones share the pool).
#[derive(Clone, Debug)]
pub struct Http {
    connector: SharedHttpConnector,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    /// HTTPS with rustls (aws-lc) and the system roots; plain HTTP works
    /// too (local endpoints). The roots are read once per process; each
    /// call builds a pool of its own, so a process builds one and clones it.
    pub fn new() -> Self {
        let connector = hyper1::Hyper1::new(hyper1::Settings {
            connect_timeout: CONNECT_TIMEOUT,
            read_timeout: READ_TIMEOUT,
            extra_roots: Vec::new(),
        });
        Http {
            connector: SharedHttpConnector::new(connector),
        }
    }

    /// The same connector, as the SDK's HTTP client. The SDK asks for a
    /// connector per timeout setting; this always hands out the one pool,
    /// whose timeouts are the SDK's defaults (connect 3.1 s) and a read
    /// timeout of 10 s.
    pub fn for_sdk(&self) -> SharedHttpClient {
        SharedHttpClient::new(OnePool(self.connector.clone()))
    }

    /// GET `url` with `accept`; the body is refused past `max_bytes`.
    pub async fn get(&self, url: &str, accept: &str, max_bytes: usize) -> Result<Vec<u8>, String> {
        let headers = [(http::header::ACCEPT.as_str(), accept)];
        let (status, body) = self
            .send(http::Method::GET, url, &headers, Vec::new(), max_bytes)
            .await?;
        if !(200..300).contains(&status) {
            return Err(format!("GET {url}: HTTP {status}"));
        }
        Ok(body)
    }

    /// A request whose answer is its status and headers (HEAD, a DELETE
    /// answered 204): the body, if any, is dropped unread.
    pub async fn send_for_headers(
        &self,
        method: http::Method,
        url: &str,
    ) -> Result<(u16, http::HeaderMap), String> {
        let fail = |e: &dyn std::fmt::Display| format!("{method} {}: {e}", without_query(url));
        let response = self
            .call(method.clone(), url, &[], Vec::new())
            .await
            .map_err(|e| fail(&e))?;
        let status = response.status().as_u16();
        let mut headers = http::HeaderMap::new();
        for (name, value) in response.headers() {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        Ok((status, headers))
    }

    /// Any request: the status and the body, whatever the status (the
    /// caller decides what a 401 or a 503 means). The body is refused past
    /// `max_bytes`. Errors name the method and URL, never a header.
    pub async fn send(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        max_bytes: usize,
    ) -> Result<(u16, Vec<u8>), String> {
        let fail = |e: &dyn std::fmt::Display| format!("{method} {url}: {e}");
        let response = self
            .call(method.clone(), url, headers, body)
            .await
            .map_err(|e| fail(&e))?;
        let status = response.status().as_u16();
        let too_large = || fail(&format!("larger than {max_bytes} bytes"));
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > max_bytes) {
            return Err(too_large());
        }
        let body = Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    fail(&e)
                }
            })?;
        Ok((status, body.to_bytes().to_vec()))
    }
}

impl Http {
    /// Builds and sends one request through the pool; errors say what
    /// failed, the caller adds which request it was.
    async fn call(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<aws_smithy_runtime_api::client::orchestrator::HttpResponse, String> {
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(SdkBody::from(body))
            .map_err(|e| e.to_string())?;
        let request = HttpRequest::try_from(request).map_err(|e| e.to_string())?;
        self.connector
            .call(request)
            .await
            .map_err(|e| e.to_string())
    }
}

/// A URL without its query: a presigned URL's query is its signature,
/// which no error message carries.
fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _)| path)
}

#[derive(Debug)]
struct OnePool(SharedHttpConnector);

impl HttpClient for OnePool {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.clone()
    }
}
