//! What DynamoDB Local cannot show (transaction conflicts, unprocessed
//! batch items), through aws-smithy-mocks: the adapter must turn each into
//! the right StoreError or retry it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::error::{TransactionCanceledException, TransactionConflictException};
use aws_sdk_dynamodb::types::{CancellationReason, PutRequest, WriteRequest};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use serde_json::json;
use skolnav::store::dynamodb::DynamoStore;
use skolnav::store::{Condition, Item, Key, Store, StoreError, Write};

fn item(sk: &str) -> Item {
    Item::new(Key::new("P", sk), "Thing", &json!({ "n": 1 })).expect("item")
}

fn cancelled(codes: &[&str]) -> TransactWriteItemsError {
    let mut e = TransactionCanceledException::builder().message("cancelled");
    for c in codes {
        e = e.cancellation_reasons(CancellationReason::builder().code(*c).build());
    }
    TransactWriteItemsError::TransactionCanceledException(e.build())
}

#[tokio::test]
async fn a_transaction_cancelled_by_a_concurrent_transaction_is_a_retryable_conflict() {
    let rule = mock!(Client::transact_write_items)
        .then_error(|| cancelled(&["None", "TransactionConflict"]));
    let store = DynamoStore::new(mock_client!(aws_sdk_dynamodb, [&rule]), "t");
    let writes = [
        Write::Put(item("A"), Condition::MustNotExist),
        Write::Put(item("B"), Condition::None),
    ];
    let err = store.transact(&writes).await.expect_err("conflict");
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
}

#[tokio::test]
async fn a_cancelled_transaction_names_the_operation_whose_condition_failed() {
    let rule = mock!(Client::transact_write_items)
        .then_error(|| cancelled(&["None", "ConditionalCheckFailed", "None"]));
    let store = DynamoStore::new(mock_client!(aws_sdk_dynamodb, [&rule]), "t");
    let writes = [
        Write::Put(item("A"), Condition::None),
        Write::Put(item("B"), Condition::MustNotExist),
        Write::Put(item("C"), Condition::None),
    ];
    match store.transact(&writes).await {
        Err(StoreError::TransactionConditionFailed { index, key }) => {
            assert_eq!(index, 1);
            assert_eq!(key, Key::new("P", "B"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_put_that_meets_a_running_transaction_is_a_retryable_conflict() {
    let rule = mock!(Client::put_item).then_error(|| {
        PutItemError::TransactionConflictException(
            TransactionConflictException::builder()
                .message("busy")
                .build(),
        )
    });
    let store = DynamoStore::new(mock_client!(aws_sdk_dynamodb, [&rule]), "t");
    let err = store
        .put(&item("A"), Condition::None)
        .await
        .expect_err("conflict");
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
}

#[tokio::test]
async fn unprocessed_batch_items_are_sent_again_until_none_are_left() {
    let leftover = || {
        let put = PutRequest::builder()
            .item("PK", aws_sdk_dynamodb::types::AttributeValue::S("P".into()))
            .item("SK", aws_sdk_dynamodb::types::AttributeValue::S("A".into()))
            .build()
            .expect("put request");
        BatchWriteItemOutput::builder()
            .unprocessed_items("t", vec![WriteRequest::builder().put_request(put).build()])
            .build()
    };
    let first = mock!(Client::batch_write_item).then_output(leftover);
    let second =
        mock!(Client::batch_write_item).then_output(|| BatchWriteItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&first, &second]);
    let store = DynamoStore::new(client, "t");
    store
        .batch_put(&[item("A"), item("B")])
        .await
        .expect("batch put");
    assert_eq!(first.num_calls(), 1);
    assert_eq!(second.num_calls(), 1, "the unprocessed item was sent again");
}

/// On DynamoDB Local itself: a key condition DynamoDB refuses (an empty
/// bound) is the store's own error, not a bad cursor blamed on the caller
/// (which would answer 400 naming `cursor`); a forged cursor still is.
#[tokio::test]
async fn a_query_dynamodb_refuses_is_not_blamed_on_a_cursor_unless_one_was_given() {
    use skolnav::store::{Query, SortKey};
    let store = skolnav_tests::dynamo_store().await;
    let refused = store
        .query(&Query::partition("P").sort(SortKey::Between(String::new(), "~".into())))
        .await
        .expect_err("DynamoDB refuses an empty key in a condition");
    assert!(!matches!(refused, StoreError::InvalidCursor), "{refused:?}");
    let forged = store
        .query(&Query::partition("P").after(Some("not-a-cursor".into())))
        .await
        .expect_err("a forged cursor");
    assert!(matches!(forged, StoreError::InvalidCursor), "{forged:?}");
}

/// A throttled query is sent again (the SDK's retry), and the items of the
/// answer that follows come through with their numbers and cursor.
#[tokio::test]
async fn a_throttled_query_is_sent_again_and_the_items_of_the_answer_that_follows_are_read() {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use skolnav::store::Query;
    let throttled = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#;
    let answer = r#"{"Count":1,"ScannedCount":1,
        "Items":[{"PK":{"S":"P"},"SK":{"S":"A"},"entity":{"S":"Thing"},"version":{"N":"2"},"n":{"N":"7"}}],
        "LastEvaluatedKey":{"PK":{"S":"P"},"SK":{"S":"A"}}}"#;
    let rule = mock!(Client::query)
        .sequence()
        .http_status(400, Some(throttled.into()))
        .http_status(200, Some(answer.into()))
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule], |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(2)));
    let store = DynamoStore::new(client, "t");
    let page = store
        .query(&Query::partition("P"))
        .await
        .expect("the second answer");
    assert_eq!(rule.num_calls(), 2, "the throttled query was sent again");
    assert_eq!(page.items.len(), 1);
    let item = &page.items[0];
    assert_eq!((item.key.sk.as_str(), item.entity.as_str()), ("A", "Thing"));
    assert_eq!(item.version, 2);
    assert_eq!(item.attrs["n"], json!(7));
    assert!(
        page.next.is_some(),
        "the last key is the next page's cursor"
    );
}

/// An item with an attribute of a type the SDK does not know (it reads
/// it as `Unknown`, and serde_dynamo would panic on it) is the store's
/// error naming the attribute: not a panic, not an empty page.
#[tokio::test]
async fn an_item_with_an_attribute_of_an_unknown_type_is_an_error_not_a_panic() {
    use skolnav::store::Query;
    let rule = mock!(Client::query)
        .sequence()
        .http_status(
            200,
            Some(r#"{"Items":[{"PK":{"S":"P"},"SK":{"S":"A"},"n":{"M":{"x":{"Q":"1"}}}}]}"#.into()),
        )
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&rule]);
    let store = DynamoStore::new(client, "t");
    let err = store
        .query(&Query::partition("P"))
        .await
        .expect_err("an attribute of an unknown type");
    assert!(
        matches!(&err, StoreError::Mapping(m) if m.contains("attribute n ")),
        "{err:?}"
    );
}
