//! The production store: one DynamoDB table (PK/SK, GSI1, GSI2, TTL on
//! `expiresAt`), items mapped with serde_dynamo.

use super::{
    Condition, Index, Item, Key, MAX_TRANSACTION, Page, Query, SortKey, Store, StoreError, Write,
    attr, cursor, validate_transaction,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, ConsumedCapacity, Delete,
    DeleteRequest, GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection,
    ProjectionType, Put, PutRequest, ReturnConsumedCapacity, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification, TransactWriteItem, WriteRequest,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Attrs = HashMap<String, AttributeValue>;

pub struct DynamoStore {
    client: Client,
    table: String,
    meter: Option<Arc<Meter>>,
}

/// Counts requests and consumed capacity (ReturnConsumedCapacity=TOTAL)
/// when attached with [`DynamoStore::metered`]; for benchmarks and cost
/// checks. Production stores carry none and ask for no capacity figures.
#[derive(Debug, Default)]
pub struct Meter {
    inner: Mutex<MeterReading>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct MeterReading {
    pub requests: u64,
    pub read_requests: u64,
    pub write_requests: u64,
    pub read_capacity: f64,
    pub write_capacity: f64,
}

impl Meter {
    pub fn take(&self) -> MeterReading {
        self.inner
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }

    fn add(&self, write: bool, capacity: &[ConsumedCapacity]) {
        if let Ok(mut m) = self.inner.lock() {
            m.requests += 1;
            let units: f64 = capacity.iter().filter_map(|c| c.capacity_units).sum();
            if write {
                m.write_requests += 1;
                m.write_capacity += units;
            } else {
                m.read_requests += 1;
                m.read_capacity += units;
            }
        }
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            meter: None,
        }
    }

    /// The same store, counting requests and capacity into `meter`.
    pub fn metered(mut self, meter: Arc<Meter>) -> Self {
        self.meter = Some(meter);
        self
    }

    fn capacity_wanted(&self) -> Option<ReturnConsumedCapacity> {
        self.meter.as_ref().map(|_| ReturnConsumedCapacity::Total)
    }

    fn count(&self, write: bool, capacity: &[ConsumedCapacity]) {
        if let Some(m) = &self.meter {
            m.add(write, capacity);
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

fn unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(format!("dynamodb: {}", DisplayErrorContext(&e)))
}

fn to_attrs(map: Map<String, Value>) -> Result<Attrs, StoreError> {
    serde_dynamo::to_item(Value::Object(map)).map_err(|e| StoreError::Mapping(e.to_string()))
}

fn from_attrs(attrs: Attrs) -> Result<Map<String, Value>, StoreError> {
    // serde_dynamo panics on a type it does not know (the SDK reads one it
    // does not know as `Unknown`), so such an item is refused here.
    if let Some((name, _)) = attrs.iter().find(|(_, v)| !readable(v)) {
        return Err(StoreError::Mapping(format!(
            "attribute {name} has a type the store cannot read"
        )));
    }
    serde_dynamo::from_item(attrs).map_err(|e| StoreError::Mapping(e.to_string()))
}

/// Whether serde_dynamo can read `value`: one of DynamoDB's ten types,
/// all the way down.
fn readable(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::M(map) => map.values().all(readable),
        AttributeValue::L(list) => list.iter().all(readable),
        AttributeValue::S(_)
        | AttributeValue::N(_)
        | AttributeValue::Bool(_)
        | AttributeValue::B(_)
        | AttributeValue::Null(_)
        | AttributeValue::Ss(_)
        | AttributeValue::Ns(_)
        | AttributeValue::Bs(_) => true,
        _ => false,
    }
}

fn item_to_attrs(item: &Item) -> Result<Attrs, StoreError> {
    to_attrs(item.to_map())
}

fn item_from_attrs(attrs: Attrs) -> Result<Item, StoreError> {
    Item::from_map(from_attrs(attrs)?)
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([
        (attr::PK.to_string(), AttributeValue::S(key.pk.clone())),
        (attr::SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

/// A condition as an expression with its names and values.
struct Expr {
    text: String,
    names: HashMap<String, String>,
    values: Attrs,
}

fn condition_expr(condition: Condition) -> Option<Expr> {
    let names = HashMap::from([("#pk".to_string(), attr::PK.to_string())]);
    match condition {
        Condition::None => None,
        Condition::MustExist => Some(Expr {
            text: "attribute_exists(#pk)".into(),
            names,
            values: HashMap::new(),
        }),
        Condition::MustNotExist => Some(Expr {
            text: "attribute_not_exists(#pk)".into(),
            names,
            values: HashMap::new(),
        }),
        Condition::VersionEquals(v) => Some(Expr {
            text: "#ver = :ver".into(),
            names: HashMap::from([("#ver".to_string(), attr::VERSION.to_string())]),
            values: HashMap::from([(":ver".to_string(), AttributeValue::N(v.to_string()))]),
        }),
    }
}

fn opt<T>(map: HashMap<String, T>) -> Option<HashMap<String, T>> {
    (!map.is_empty()).then_some(map)
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .set_return_consumed_capacity(self.capacity_wanted())
            .send()
            .await
            .map_err(unavailable)?;
        self.count(false, out.consumed_capacity.as_slice());
        out.item.map(item_from_attrs).transpose()
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.batch_get(keys, true).await
    }

    async fn get_many_eventually(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.batch_get(keys, false).await
    }

    async fn put(&self, item: &Item, condition: Condition) -> Result<(), StoreError> {
        let expr = condition_expr(condition);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_to_attrs(item)?))
            .set_condition_expression(expr.as_ref().map(|e| e.text.clone()))
            .set_expression_attribute_names(expr.as_ref().and_then(|e| opt(e.names.clone())))
            .set_expression_attribute_values(expr.and_then(|e| opt(e.values)))
            .set_return_consumed_capacity(self.capacity_wanted())
            .send()
            .await;
        self.count(
            true,
            result
                .as_ref()
                .ok()
                .and_then(|o| o.consumed_capacity.as_ref())
                .map(std::slice::from_ref)
                .unwrap_or(&[]),
        );
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::ConditionFailed {
                    key: item.key.clone(),
                })
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_transaction_conflict_exception()) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let expr = condition_expr(condition);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(expr.as_ref().map(|e| e.text.clone()))
            .set_expression_attribute_names(expr.as_ref().and_then(|e| opt(e.names.clone())))
            .set_expression_attribute_values(expr.and_then(|e| opt(e.values)))
            .set_return_consumed_capacity(self.capacity_wanted())
            .send()
            .await;
        self.count(
            true,
            result
                .as_ref()
                .ok()
                .and_then(|o| o.consumed_capacity.as_ref())
                .map(std::slice::from_ref)
                .unwrap_or(&[]),
        );
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::ConditionFailed { key: key.clone() })
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_transaction_conflict_exception()) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (pk_name, sk_name) = match query.index {
            Index::Primary => (attr::PK, attr::SK),
            Index::Gsi1 => (attr::GSI1PK, attr::GSI1SK),
            Index::Gsi2 => (attr::GSI2PK, attr::GSI2SK),
        };
        let mut names = HashMap::from([("#pk".to_string(), pk_name.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), AttributeValue::S(query.pk.clone()))]);
        let mut text = "#pk = :pk".to_string();
        let mut sk = |clause: &str, vals: &[&String]| {
            names.insert("#sk".into(), sk_name.into());
            text.push_str(" AND ");
            text.push_str(clause);
            for (i, v) in vals.iter().enumerate() {
                values.insert(format!(":sk{i}"), AttributeValue::S((*v).clone()));
            }
        };
        match &query.sort {
            SortKey::Any => {}
            SortKey::Equals(v) => sk("#sk = :sk0", &[v]),
            SortKey::BeginsWith(p) => sk("begins_with(#sk, :sk0)", &[p]),
            SortKey::Between(a, b) => sk("#sk BETWEEN :sk0 AND :sk1", &[a, b]),
            SortKey::LessThan(v) => sk("#sk < :sk0", &[v]),
            SortKey::AtMost(v) => sk("#sk <= :sk0", &[v]),
            SortKey::GreaterThan(v) => sk("#sk > :sk0", &[v]),
            SortKey::AtLeast(v) => sk("#sk >= :sk0", &[v]),
        }
        let start = match &query.cursor {
            Some(c) => Some(to_attrs(cursor::decode::<Map<String, Value>>(c)?)?),
            None => None,
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.name().map(String::from))
            .key_condition_expression(text)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(query.forward)
            .set_limit(query.limit.map(|l| l.max(1) as i32))
            .set_exclusive_start_key(start)
            .set_consistent_read((query.index == Index::Primary).then_some(true))
            .set_return_consumed_capacity(self.capacity_wanted())
            .send()
            .await
            .map_err(|e| match &e {
                // A forged cursor is the caller's fault; a query DynamoDB
                // refuses without one (an empty key in a condition) is ours.
                SdkError::ServiceError(s)
                    if s.err().meta().code() == Some("ValidationException") =>
                {
                    if query.cursor.is_some() {
                        StoreError::InvalidCursor
                    } else {
                        StoreError::Mapping(format!(
                            "query refused: {}",
                            s.err().meta().message().unwrap_or("ValidationException")
                        ))
                    }
                }
                _ => unavailable(e),
            })?;
        self.count(false, out.consumed_capacity.as_slice());
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(item_from_attrs)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match out.last_evaluated_key {
            Some(k) if !k.is_empty() => Some(cursor::encode(&from_attrs(k)?)),
            _ => None,
        };
        Ok(Page { items, next })
    }

    async fn transact(&self, writes: &[Write]) -> Result<(), StoreError> {
        validate_transaction(writes)?;
        let mut ops = Vec::with_capacity(writes.len());
        for w in writes {
            let op = match w {
                Write::Put(item, c) => {
                    let expr = condition_expr(*c);
                    TransactWriteItem::builder().put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(item_to_attrs(item)?))
                            .set_condition_expression(expr.as_ref().map(|e| e.text.clone()))
                            .set_expression_attribute_names(
                                expr.as_ref().and_then(|e| opt(e.names.clone())),
                            )
                            .set_expression_attribute_values(expr.and_then(|e| opt(e.values)))
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                }
                Write::Delete(key, c) => {
                    let expr = condition_expr(*c);
                    TransactWriteItem::builder().delete(
                        Delete::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_attrs(key)))
                            .set_condition_expression(expr.as_ref().map(|e| e.text.clone()))
                            .set_expression_attribute_names(
                                expr.as_ref().and_then(|e| opt(e.names.clone())),
                            )
                            .set_expression_attribute_values(expr.and_then(|e| opt(e.values)))
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                }
                Write::Check(key, c) => {
                    let expr = condition_expr(*c).ok_or_else(|| {
                        StoreError::Invalid("a condition check needs a condition".into())
                    })?;
                    TransactWriteItem::builder().condition_check(
                        ConditionCheck::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_attrs(key)))
                            .condition_expression(expr.text)
                            .set_expression_attribute_names(opt(expr.names))
                            .set_expression_attribute_values(opt(expr.values))
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                }
            };
            ops.push(op.build());
        }
        debug_assert!(ops.len() <= MAX_TRANSACTION);
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(ops))
            .set_return_consumed_capacity(self.capacity_wanted())
            .send()
            .await;
        self.count(
            true,
            result
                .as_ref()
                .map(|o| o.consumed_capacity())
                .unwrap_or(&[]),
        );
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let reasons = e.as_service_error().and_then(|s| match s {
                    TransactWriteItemsError::TransactionCanceledException(t) => {
                        Some(t.cancellation_reasons.clone().unwrap_or_default())
                    }
                    _ => None,
                });
                let Some(reasons) = reasons else {
                    return Err(unavailable(e));
                };
                let failed = reasons
                    .iter()
                    .position(|r| r.code.as_deref() == Some("ConditionalCheckFailed"));
                let conflict = reasons
                    .iter()
                    .any(|r| r.code.as_deref() == Some("TransactionConflict"));
                match failed {
                    _ if conflict && failed.is_none() => Err(StoreError::Conflict),
                    Some(index) if index < writes.len() => {
                        Err(StoreError::TransactionConditionFailed {
                            index,
                            key: writes[index].key().clone(),
                        })
                    }
                    _ => Err(StoreError::TransactionCancelled(
                        reasons
                            .iter()
                            .filter_map(|r| r.code.clone())
                            .collect::<Vec<_>>()
                            .join(","),
                    )),
                }
            }
        }
    }

    async fn batch_put(&self, items: &[Item]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            requests.push(
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item_to_attrs(item)?))
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                    .build(),
            );
        }
        self.batch_write(requests).await
    }

    async fn batch_delete(&self, keys: &[Key]) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(keys.len());
        for key in keys {
            requests.push(
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key_attrs(key)))
                            .build()
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )
                    .build(),
            );
        }
        self.batch_write(requests).await
    }
}

/// Waits before retrying unprocessed batch items: 50 ms doubling, at most
/// 8 attempts (about 13 s in all).
async fn backoff(attempt: u32) -> Result<(), StoreError> {
    if attempt > 8 {
        return Err(StoreError::Unavailable(
            "dynamodb left batch items unprocessed after 8 retries".into(),
        ));
    }
    tokio::time::sleep(Duration::from_millis(50 << attempt.min(8))).await;
    Ok(())
}

impl DynamoStore {
    async fn batch_get(&self, keys: &[Key], consistent: bool) -> Result<Vec<Item>, StoreError> {
        if keys.len() > 100 {
            return Err(StoreError::Invalid(format!(
                "{} keys in one read, at most 100",
                keys.len()
            )));
        }
        let mut items = Vec::with_capacity(keys.len());
        if keys.is_empty() {
            return Ok(items);
        }
        let mut unique: Vec<&Key> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(unique.into_iter().map(key_attrs).collect()))
                .consistent_read(consistent)
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
        );
        let mut attempt = 0;
        while let Some(request) = pending.take() {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .set_return_consumed_capacity(self.capacity_wanted())
                .send()
                .await
                .map_err(unavailable)?;
            self.count(false, out.consumed_capacity());
            if let Some(mut responses) = out.responses {
                for attrs in responses.remove(&self.table).unwrap_or_default() {
                    items.push(item_from_attrs(attrs)?);
                }
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys.is_empty());
            if pending.is_some() {
                attempt += 1;
                backoff(attempt).await?;
            }
        }
        Ok(items)
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .set_return_consumed_capacity(self.capacity_wanted())
                    .send()
                    .await
                    .map_err(unavailable)?;
                self.count(true, out.consumed_capacity());
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    attempt += 1;
                    backoff(attempt).await?;
                }
            }
        }
        Ok(())
    }

    /// Creates the table as infra/template.yaml declares it (for DynamoDB
    /// Local in tests and development; production tables come from SAM).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        self.create(true).await
    }

    /// The same table without its stream, for tests and benchmarks that do
    /// not read the stream. DynamoDB Local keeps every stream record of the
    /// process and each write to a stream-enabled table gets slower as they
    /// pile up, across tables: 6,000 puts in BatchWriteItem ran at 1,635
    /// items/s into the first stream-enabled table, 293 into the second and
    /// 132 into the third, while tables without a stream stayed at
    /// 1,600-2,300 items/s (boto3, one fresh DynamoDB Local, 2026-11-29).
    /// A suite of fresh tables would otherwise slow down test by test, and a
    /// benchmark's baseline would pay for the writes measured before it.
    pub async fn create_table_without_stream(&self) -> Result<(), StoreError> {
        self.create(false).await
    }

    async fn create(&self, stream: bool) -> Result<(), StoreError> {
        let s = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))
        };
        let key = |hash: &str, range: &str| {
            Ok::<_, StoreError>(vec![
                KeySchemaElement::builder()
                    .attribute_name(hash)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
                KeySchemaElement::builder()
                    .attribute_name(range)
                    .key_type(KeyType::Range)
                    .build()
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
            ])
        };
        let gsi = |name: &str, hash: &str, range: &str| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .set_key_schema(Some(key(hash, range)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(|e| StoreError::Invalid(e.to_string()))
        };
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(vec![
                s(attr::PK)?,
                s(attr::SK)?,
                s(attr::GSI1PK)?,
                s(attr::GSI1SK)?,
                s(attr::GSI2PK)?,
                s(attr::GSI2SK)?,
            ]))
            .set_key_schema(Some(key(attr::PK, attr::SK)?))
            .global_secondary_indexes(gsi("GSI1", attr::GSI1PK, attr::GSI1SK)?)
            .global_secondary_indexes(gsi("GSI2", attr::GSI2PK, attr::GSI2SK)?)
            .set_stream_specification(if stream {
                Some(
                    StreamSpecification::builder()
                        .stream_enabled(true)
                        .stream_view_type(StreamViewType::NewAndOldImages)
                        .build()
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                )
            } else {
                None
            })
            .send()
            .await
            .map_err(unavailable)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(attr::EXPIRES_AT)
                    .build()
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
