//! Where the import reads the registry from: the SS 12000 API in
//! production and in tests (the fixture server), through one port so the
//! run does not care about HTTP.

use crate::ss12000::records::{Deleted, ObjectType};
pub use crate::ss12000::wire::Row;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Raw rows, page by page: validation happens per row in the run, so one
/// bad row never costs a page.
#[async_trait]
pub trait Pages: Send {
    async fn next(&mut self) -> Result<Option<Vec<Row>>, String>;
}

/// Requests made to the registry, for the run record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamStats {
    pub requests: u64,
    /// 503 answers ("too large") that made the page smaller.
    pub too_large_retries: u64,
    /// Requests repeated after a server or connection error.
    pub retries: u64,
    pub token_fetches: u64,
}

#[async_trait]
pub trait Source: Send + Sync {
    /// Every object of a type, or those modified after `after`.
    async fn open(
        &self,
        object: ObjectType,
        after: Option<DateTime<Utc>>,
    ) -> Result<Box<dyn Pages + '_>, String>;

    /// Ids deleted after `after`.
    async fn deleted(&self, after: DateTime<Utc>) -> Result<Deleted, String>;

    fn stats(&self) -> UpstreamStats;
}

/// The SS 12000 API client as the import's source.
#[async_trait]
impl Source for crate::ss12000::client::Client {
    async fn open(
        &self,
        object: ObjectType,
        after: Option<DateTime<Utc>>,
    ) -> Result<Box<dyn Pages + '_>, String> {
        Ok(Box::new(ClientPages(self.pages(object, after))))
    }

    async fn deleted(&self, after: DateTime<Utc>) -> Result<Deleted, String> {
        crate::ss12000::client::Client::deleted(
            self,
            after,
            &[
                ObjectType::Organisation,
                ObjectType::Person,
                ObjectType::Group,
                ObjectType::Duty,
                ObjectType::Placement,
                ObjectType::Activity,
                ObjectType::CalendarEvent,
            ],
        )
        .await
        .map_err(|e| e.to_string())
    }

    fn stats(&self) -> UpstreamStats {
        let s = crate::ss12000::client::Client::stats(self);
        UpstreamStats {
            requests: s.requests,
            too_large_retries: s.too_large_retries,
            retries: s.retries,
            token_fetches: s.token_fetches,
        }
    }
}

struct ClientPages<'a>(crate::ss12000::client::Pages<'a>);

#[async_trait]
impl Pages for ClientPages<'_> {
    async fn next(&mut self) -> Result<Option<Vec<Row>>, String> {
        self.0.next().await.map_err(|e| e.to_string())
    }
}
