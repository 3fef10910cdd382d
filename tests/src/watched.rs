//! A store that shows each write (and read) to a watcher before passing
//! it on: the one wrapper tests use to count writes or requests, or to
//! make a write fail.

use async_trait::async_trait;
use skolnav::store::{Condition, Item, Key, Page, Query, Store, StoreError, Write};
use std::sync::Arc;

/// A write as the watcher sees it.
pub enum Writing<'a> {
    Put(&'a Item),
    Delete(&'a Key),
    Transact(&'a [Write]),
    BatchPut(&'a [Item]),
    BatchDelete(&'a [Key]),
}

/// A read as the watcher sees it.
pub enum Reading<'a> {
    Get(&'a Key),
    GetMany(&'a [Key]),
    Query(&'a Query),
}

/// Sees every write first; an error stops it from reaching the store.
pub trait Watcher: Send + Sync {
    fn writing(&self, write: Writing<'_>) -> Result<(), StoreError>;

    /// Sees every read request (one call per request to the store).
    fn reading(&self, _read: Reading<'_>) {}

    /// Sees the items a read request returned.
    fn answered(&self, _items: &[Item]) {}
}

/// `inner`, with every write shown to `watcher` first; reads pass through.
pub struct Watched<W> {
    pub inner: Arc<dyn Store>,
    pub watcher: W,
}

impl<W: Watcher> Watched<W> {
    pub fn new(inner: Arc<dyn Store>, watcher: W) -> Self {
        Watched { inner, watcher }
    }
}

#[async_trait]
impl<W: Watcher> Store for Watched<W> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.watcher.reading(Reading::Get(key));
        let item = self.inner.get(key).await?;
        self.watcher.answered(item.as_slice());
        Ok(item)
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.watcher.reading(Reading::GetMany(keys));
        let items = self.inner.get_many(keys).await?;
        self.watcher.answered(&items);
        Ok(items)
    }
    async fn put(&self, item: &Item, condition: Condition) -> Result<(), StoreError> {
        self.watcher.writing(Writing::Put(item))?;
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.watcher.writing(Writing::Delete(key))?;
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.watcher.reading(Reading::Query(query));
        let page = self.inner.query(query).await?;
        self.watcher.answered(&page.items);
        Ok(page)
    }
    async fn transact(&self, writes: &[Write]) -> Result<(), StoreError> {
        self.watcher.writing(Writing::Transact(writes))?;
        self.inner.transact(writes).await
    }
    async fn batch_put(&self, items: &[Item]) -> Result<(), StoreError> {
        self.watcher.writing(Writing::BatchPut(items))?;
        self.inner.batch_put(items).await
    }
    async fn batch_delete(&self, keys: &[Key]) -> Result<(), StoreError> {
        self.watcher.writing(Writing::BatchDelete(keys))?;
        self.inner.batch_delete(keys).await
    }
}

/// Remembers each read request: `query <PK>`, `get <PK>`, `get-many <n>`
/// (writes pass), and the keys of the items they returned. For tests of
/// how many requests a use case makes and how much it reads.
#[derive(Default)]
pub struct ReadLog {
    pub reads: std::sync::Mutex<Vec<String>>,
    pub answered: std::sync::Mutex<Vec<Key>>,
}

impl ReadLog {
    pub fn taken(&self) -> Vec<String> {
        std::mem::take(&mut *self.reads.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The keys of the items read since the last call, in the order read.
    pub fn answered_taken(&self) -> Vec<Key> {
        std::mem::take(&mut *self.answered.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Watcher for ReadLog {
    fn writing(&self, _write: Writing<'_>) -> Result<(), StoreError> {
        Ok(())
    }
    fn reading(&self, read: Reading<'_>) {
        let what = match read {
            Reading::Query(q) => format!("query {}", q.pk),
            Reading::Get(k) => format!("get {}", k.pk),
            Reading::GetMany(keys) => format!("get-many {}", keys.len()),
        };
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }
    fn answered(&self, items: &[Item]) {
        self.answered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(items.iter().map(|item| item.key.clone()));
    }
}
