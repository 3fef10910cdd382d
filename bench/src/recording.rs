//! A store that records the operations a use case makes, so the same
//! DynamoDB requests can be replayed directly, without HTTP, tokens, the
//! domain or the Lambda runtime: the baseline of the warm overhead.

use async_trait::async_trait;
use skolnav::store::{Condition, Item, Key, Page, Query, Store, StoreError, Write};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub enum Op {
    Get(Key),
    GetMany(Vec<Key>),
    /// A BatchGetItem read eventually consistent (half the read units).
    GetManyEventually(Vec<Key>),
    Put(Item, Condition),
    Delete(Key, Condition),
    Query(Query),
    Transact(Vec<Write>),
    BatchPut(Vec<Item>),
    BatchDelete(Vec<Key>),
}

pub struct RecordingStore {
    inner: Arc<dyn Store>,
    log: Mutex<Vec<Op>>,
}

impl RecordingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        RecordingStore {
            inner,
            log: Mutex::new(Vec::new()),
        }
    }

    pub fn take(&self) -> Vec<Op> {
        self.log
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    fn record(&self, op: Op) {
        if let Ok(mut l) = self.log.lock() {
            l.push(op);
        }
    }
}

#[async_trait]
impl Store for RecordingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.record(Op::Get(key.clone()));
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.record(Op::GetMany(keys.to_vec()));
        self.inner.get_many(keys).await
    }
    // Without it the trait's default would read strongly consistent, and
    // the recorded call would cost twice the read units it costs in
    // production (and replay as the wrong request).
    async fn get_many_eventually(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.record(Op::GetManyEventually(keys.to_vec()));
        self.inner.get_many_eventually(keys).await
    }
    async fn put(&self, item: &Item, condition: Condition) -> Result<(), StoreError> {
        self.record(Op::Put(item.clone(), condition));
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.record(Op::Delete(key.clone(), condition));
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.record(Op::Query(query.clone()));
        self.inner.query(query).await
    }
    async fn transact(&self, writes: &[Write]) -> Result<(), StoreError> {
        self.record(Op::Transact(writes.to_vec()));
        self.inner.transact(writes).await
    }
    async fn batch_put(&self, items: &[Item]) -> Result<(), StoreError> {
        self.record(Op::BatchPut(items.to_vec()));
        self.inner.batch_put(items).await
    }
    async fn batch_delete(&self, keys: &[Key]) -> Result<(), StoreError> {
        self.record(Op::BatchDelete(keys.to_vec()));
        self.inner.batch_delete(keys).await
    }
}

/// Issues the recorded operations again, one request each, in order.
/// Outcomes are ignored: on a copy of the table they come out the same.
pub async fn replay(store: &dyn Store, ops: &[Op]) {
    for op in ops {
        let _ = match op {
            Op::Get(k) => store.get(k).await.map(|_| ()),
            Op::GetMany(k) => store.get_many(k).await.map(|_| ()),
            Op::GetManyEventually(k) => store.get_many_eventually(k).await.map(|_| ()),
            Op::Put(i, c) => store.put(i, *c).await,
            Op::Delete(k, c) => store.delete(k, *c).await,
            Op::Query(q) => store.query(q).await.map(|_| ()),
            Op::Transact(w) => store.transact(w).await,
            Op::BatchPut(i) => store.batch_put(i).await,
            Op::BatchDelete(k) => store.batch_delete(k).await,
        };
    }
}
