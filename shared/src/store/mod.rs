//! The `Store` port: a few typed operations on items in one table keyed by
//! (pk, sk), with two global secondary indexes. No expression strings cross
//! this port; each adapter (DynamoDB, SQLite) translates these types itself
//! and passes the same conformance suite (tests/tests/it/store_conformance.rs).

#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use async_trait::async_trait;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// Attribute names the data layer owns. Domain attributes must not use them.
pub mod attr {
    pub const PK: &str = "PK";
    pub const SK: &str = "SK";
    pub const GSI1PK: &str = "GSI1PK";
    pub const GSI1SK: &str = "GSI1SK";
    pub const GSI2PK: &str = "GSI2PK";
    pub const GSI2SK: &str = "GSI2SK";
    pub const ENTITY: &str = "entity";
    pub const VERSION: &str = "version";
    pub const EXPIRES_AT: &str = "expiresAt";
    pub const ALL: [&str; 9] = [
        PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, ENTITY, VERSION, EXPIRES_AT,
    ];
}

/// A primary or index key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// One stored item: its keys, entity tag, version, optional expiry (epoch
/// seconds, the table's TTL attribute) and its domain attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: Key,
    pub gsi1: Option<Key>,
    pub gsi2: Option<Key>,
    pub entity: String,
    pub version: u64,
    pub expires_at: Option<i64>,
    pub attrs: Map<String, Value>,
}

impl Item {
    /// A new item (version 1) whose attributes are the serialized `value`.
    pub fn new(key: Key, entity: &str, value: &impl Serialize) -> Result<Self, StoreError> {
        let attrs = match serde_json::to_value(value)
            .map_err(|e| StoreError::Mapping(format!("{entity}: {e}")))?
        {
            Value::Object(map) => map,
            _ => return Err(StoreError::Mapping(format!("{entity}: not an object"))),
        };
        if let Some(name) = attr::ALL.iter().find(|n| attrs.contains_key(**n)) {
            return Err(StoreError::Mapping(format!(
                "{entity}: attribute {name} is reserved for the data layer"
            )));
        }
        Ok(Item {
            key,
            gsi1: None,
            gsi2: None,
            entity: entity.to_string(),
            version: 1,
            expires_at: None,
            attrs,
        })
    }

    pub fn with_gsi1(mut self, key: Key) -> Self {
        self.gsi1 = Some(key);
        self
    }

    pub fn with_gsi2(mut self, key: Key) -> Self {
        self.gsi2 = Some(key);
        self
    }

    pub fn expiring_at(mut self, epoch_seconds: i64) -> Self {
        self.expires_at = Some(epoch_seconds);
        self
    }

    /// The domain attributes read back as a typed value.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        T::deserialize(&self.attrs).map_err(|e| {
            StoreError::Mapping(format!(
                "{} at {}/{}: {e}",
                self.entity, self.key.pk, self.key.sk
            ))
        })
    }

    /// Flattens the item into one attribute map, as both adapters store it.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = self.attrs.clone();
        map.insert(attr::PK.into(), Value::String(self.key.pk.clone()));
        map.insert(attr::SK.into(), Value::String(self.key.sk.clone()));
        if let Some(k) = &self.gsi1 {
            map.insert(attr::GSI1PK.into(), Value::String(k.pk.clone()));
            map.insert(attr::GSI1SK.into(), Value::String(k.sk.clone()));
        }
        if let Some(k) = &self.gsi2 {
            map.insert(attr::GSI2PK.into(), Value::String(k.pk.clone()));
            map.insert(attr::GSI2SK.into(), Value::String(k.sk.clone()));
        }
        map.insert(attr::ENTITY.into(), Value::String(self.entity.clone()));
        map.insert(attr::VERSION.into(), Value::from(self.version));
        if let Some(t) = self.expires_at {
            map.insert(attr::EXPIRES_AT.into(), Value::from(t));
        }
        map
    }

    /// The inverse of [`Item::to_map`].
    pub fn from_map(mut map: Map<String, Value>) -> Result<Self, StoreError> {
        fn take_str(map: &mut Map<String, Value>, name: &str) -> Option<String> {
            match map.remove(name) {
                Some(Value::String(s)) => Some(s),
                _ => None,
            }
        }
        let pk = take_str(&mut map, attr::PK)
            .ok_or_else(|| StoreError::Mapping("item without PK".into()))?;
        let sk = take_str(&mut map, attr::SK)
            .ok_or_else(|| StoreError::Mapping(format!("item {pk} without SK")))?;
        let gsi = |map: &mut Map<String, Value>, p: &str, s: &str| match (
            take_str(map, p),
            take_str(map, s),
        ) {
            (Some(pk), Some(sk)) => Some(Key { pk, sk }),
            _ => None,
        };
        let gsi1 = gsi(&mut map, attr::GSI1PK, attr::GSI1SK);
        let gsi2 = gsi(&mut map, attr::GSI2PK, attr::GSI2SK);
        let entity = take_str(&mut map, attr::ENTITY).unwrap_or_default();
        let version = map
            .remove(attr::VERSION)
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let expires_at = map.remove(attr::EXPIRES_AT).and_then(|v| v.as_i64());
        Ok(Item {
            key: Key { pk, sk },
            gsi1,
            gsi2,
            entity,
            version,
            expires_at,
            attrs: map,
        })
    }
}

/// What must hold for a write to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    None,
    MustExist,
    MustNotExist,
    /// The stored item exists and has this version.
    VersionEquals(u64),
}

/// Which key a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
}

impl Index {
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Primary => None,
            Index::Gsi1 => Some("GSI1"),
            Index::Gsi2 => Some("GSI2"),
        }
    }
}

/// A condition on the sort key of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Any,
    Equals(String),
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    LessThan(String),
    AtMost(String),
    GreaterThan(String),
    AtLeast(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sort: SortKey,
    pub forward: bool,
    pub limit: Option<u32>,
    /// An opaque cursor from a previous [`Page`].
    pub cursor: Option<String>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Query {
            index: Index::Primary,
            pk: pk.into(),
            sort: SortKey::Any,
            forward: true,
            limit: None,
            cursor: None,
        }
    }

    pub fn on(mut self, index: Index) -> Self {
        self.index = index;
        self
    }

    pub fn sort(mut self, sort: SortKey) -> Self {
        self.sort = sort;
        self
    }

    pub fn begins_with(self, prefix: impl Into<String>) -> Self {
        self.sort(SortKey::BeginsWith(prefix.into()))
    }

    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub next: Option<String>,
}

/// A page of a list as the API answers it, `{"items": [...],
/// "nextCursor": ...}`: the items a query's page held that the caller may
/// see, and the page's cursor.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `None` when there is none.
    pub next_cursor: Option<String>,
}

/// One operation of a transactional write.
// Puts dominate and a transaction is a short Vec built once per request:
// boxing the item would add an allocation per put and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    Put(Item, Condition),
    Delete(Key, Condition),
    Check(Key, Condition),
}

impl Write {
    pub fn key(&self) -> &Key {
        match self {
            Write::Put(item, _) => &item.key,
            Write::Delete(key, _) | Write::Check(key, _) => key,
        }
    }
}

/// The most operations one transaction may carry (DynamoDB's limit).
pub const MAX_TRANSACTION: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the condition on {key:?} did not hold")]
    ConditionFailed { key: Key },
    /// A transaction was cancelled because the condition of operation
    /// `index` did not hold; nothing was written.
    #[error("transaction cancelled: the condition of operation {index} on {key:?} did not hold")]
    TransactionConditionFailed { index: usize, key: Key },
    #[error("transaction cancelled: {0}")]
    TransactionCancelled(String),
    /// Another transaction held some of the same items at that moment
    /// (DynamoDB's TransactionConflict); nothing was written. Retry.
    #[error("conflict with a concurrent transaction")]
    Conflict,
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("item mapping: {0}")]
    Mapping(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub fn is_condition_failure(&self) -> bool {
        matches!(
            self,
            StoreError::ConditionFailed { .. } | StoreError::TransactionConditionFailed { .. }
        )
    }
}

#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Reads up to 100 items by key in one request; missing keys are absent
    /// from the result, which is in no particular order.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError>;

    /// As [`Store::get_many`], but may miss writes of the last second
    /// (DynamoDB's eventually consistent read, half the read capacity).
    /// For readers that tolerate a stale answer, such as the nightly
    /// import comparing what it wrote hours ago.
    async fn get_many_eventually(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.get_many(keys).await
    }

    async fn put(&self, item: &Item, condition: Condition) -> Result<(), StoreError>;

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;

    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// All or nothing, at most [`MAX_TRANSACTION`] operations, each key once.
    async fn transact(&self, writes: &[Write]) -> Result<(), StoreError>;

    /// Unconditional puts, any number; retries what the store left
    /// unprocessed. Not atomic.
    async fn batch_put(&self, items: &[Item]) -> Result<(), StoreError>;

    /// Unconditional deletes, any number; retries what the store left
    /// unprocessed. Not atomic.
    async fn batch_delete(&self, keys: &[Key]) -> Result<(), StoreError>;
}

/// Reads every page of a query. For small collections only (a person's
/// relations, today's reports of one school).
/// Replaces some attributes of a stored item and keeps the rest of it, on
/// the item's version: a concurrent rewrite (the nightly import of the
/// same person or school) is read again, at most four times. `Ok(None)`:
/// no such item.
pub async fn replace_attributes(
    store: &dyn Store,
    key: &Key,
    attributes: &[(&str, Value)],
) -> Result<Option<Item>, StoreError> {
    for _ in 0..4 {
        let Some(mut item) = store.get(key).await? else {
            return Ok(None);
        };
        let version = item.version;
        for (name, value) in attributes {
            item.attrs.insert((*name).to_string(), value.clone());
        }
        item.version = version + 1;
        match store.put(&item, Condition::VersionEquals(version)).await {
            Ok(()) => return Ok(Some(item)),
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

pub async fn query_all(store: &dyn Store, query: Query) -> Result<Vec<Item>, StoreError> {
    let mut q = query;
    let mut items = Vec::new();
    loop {
        let page = store.query(&q).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => q.cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Checks the shape every adapter requires of a transaction.
pub(crate) fn validate_transaction(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Err(StoreError::Invalid("empty transaction".into()));
    }
    if writes.len() > MAX_TRANSACTION {
        return Err(StoreError::Invalid(format!(
            "{} operations in one transaction, at most {MAX_TRANSACTION}",
            writes.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for w in writes {
        if !seen.insert(w.key()) {
            return Err(StoreError::Invalid(format!(
                "key {:?} twice in one transaction",
                w.key()
            )));
        }
    }
    Ok(())
}

/// Cursors are opaque to clients: base64url of the adapter's own JSON.
pub(crate) mod cursor {
    use super::StoreError;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde::{Serialize, de::DeserializeOwned};

    pub fn encode(value: &impl Serialize) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
    }

    pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| StoreError::InvalidCursor)?;
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)
    }
}
