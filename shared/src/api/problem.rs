//! Errors as application/problem+json (RFC 9457), each with a stable
//! `type`. Written here rather than taken from a crate: we need five fields
//! and one extension (`invalidParams`), and the crates on offer either tie
//! the type to a web framework or make every extension a generic parameter.

use bytes::Bytes;
use http::{Response, StatusCode, header};
use serde::Serialize;
use serde_json::{Map, Value};

pub const TYPE_BASE: &str = "https://skolnav.se/problems/";

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InvalidParam {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// The last segment of the stable `type` URI (see [`TYPE_BASE`]).
    #[serde(rename = "type", serialize_with = "type_uri")]
    pub slug: &'static str,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_params: Vec<InvalidParam>,
    /// Boxed: most problems have none, and a small error keeps every
    /// `Result<_, Problem>` small.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Box<Map<String, Value>>>,
}

fn type_uri<S: serde::Serializer>(slug: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{TYPE_BASE}{slug}"))
}

impl Problem {
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str) -> Self {
        Problem {
            slug,
            title,
            status: status.as_u16(),
            detail: None,
            invalid_params: vec![],
            extensions: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn invalid(mut self, name: impl Into<String>, reason: impl Into<String>) -> Self {
        self.invalid_params.push(InvalidParam {
            name: name.into(),
            reason: reason.into(),
        });
        self
    }

    pub fn extension(mut self, name: &str, value: Value) -> Self {
        self.extensions
            .get_or_insert_with(Box::default)
            .insert(name.to_string(), value);
        self
    }

    /// 400: input that cannot be what was asked for, naming the field.
    pub fn invalid_input(field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Problem::new(StatusCode::BAD_REQUEST, "invalid-input", "Invalid input")
            .detail(format!("{field}: {reason}"))
            .invalid(field, reason)
    }

    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid bearer token is required",
        )
    }

    /// 403 naming the part of an audience the caller may not address
    /// (C1, C2, C3).
    pub fn not_addressable(field: String) -> Self {
        Problem::new(
            StatusCode::FORBIDDEN,
            "audience-not-addressable",
            "You may not address this audience",
        )
        .detail(format!("{field}: not yours to address"))
        .invalid(field, "not yours to address")
    }

    pub fn forbidden() -> Self {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "You may not do this")
    }

    pub fn not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
    }

    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; nothing was changed",
        )
    }

    pub fn unavailable() -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The service is busy; try again",
        )
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn into_response(self) -> Response<Bytes> {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = Response::new(Bytes::from(body));
        *res.status_mut() = self.status();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}
