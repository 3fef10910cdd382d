//! The Store conformance suite: every adapter must pass every case here.
//! Each case runs twice: on the embedded SQLite store and on DynamoDB Local.

use serde_json::json;
use skolnav::store::{
    Condition, Index, Item, Key, MAX_TRANSACTION, Query, SortKey, Store, StoreError, Write,
    query_all,
};

fn item(pk: &str, sk: &str, n: i64) -> Item {
    Item::new(
        Key::new(pk, sk),
        "Thing",
        &json!({ "n": n, "name": format!("sak {n}") }),
    )
    .expect("item")
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.key.sk.clone()).collect()
}

async fn an_item_reads_back_exactly_as_it_was_written(store: &dyn Store) {
    let written = Item::new(
        Key::new("P#1", "A"),
        "Thing",
        &json!({
            "text": "Åsa Öberg är sjuk",
            "count": 42,
            "negative": -7,
            "ratio": 0.25,
            "flag": true,
            "list": ["a", "b"],
            "nested": { "inner": { "deep": 1 } },
            "empty": ""
        }),
    )
    .expect("item")
    .with_gsi1(Key::new("G1#x", "1"))
    .with_gsi2(Key::new("G2#y", "2"))
    .expiring_at(4_102_444_800);
    store.put(&written, Condition::None).await.expect("put");
    let read = store.get(&Key::new("P#1", "A")).await.expect("get");
    assert_eq!(read, Some(written));
}

/// DynamoDB's TTL deletes an expired item within days, not at its second:
/// until then it is read, queried and guards conditions like any other.
/// Callers compare expiry with their own clock, so both stores keep it.
async fn an_expired_item_is_read_until_it_is_deleted(store: &dyn Store) {
    let expired = item("P#ttl", "A", 1).expiring_at(1_000_000_000);
    store.put(&expired, Condition::None).await.expect("put");
    assert_eq!(
        store.get(&expired.key).await.expect("get"),
        Some(expired.clone())
    );
    let listed = query_all(store, Query::partition("P#ttl"))
        .await
        .expect("query");
    assert_eq!(sks(&listed), vec!["A".to_string()]);
    let err = store
        .put(&item("P#ttl", "A", 2), Condition::MustNotExist)
        .await
        .expect_err("the expired item still exists");
    assert!(err.is_condition_failure(), "{err:?}");
}

async fn a_missing_key_reads_as_none(store: &dyn Store) {
    assert_eq!(
        store.get(&Key::new("nope", "nope")).await.expect("get"),
        None
    );
}

async fn must_not_exist_refuses_to_overwrite(store: &dyn Store) {
    store
        .put(&item("P", "S", 1), Condition::MustNotExist)
        .await
        .expect("first put");
    let err = store
        .put(&item("P", "S", 2), Condition::MustNotExist)
        .await
        .expect_err("second put must fail");
    assert!(
        matches!(err, StoreError::ConditionFailed { ref key } if key == &Key::new("P", "S")),
        "{err:?}"
    );
    let kept = store
        .get(&Key::new("P", "S"))
        .await
        .expect("get")
        .expect("item");
    assert_eq!(kept.attrs["n"], json!(1));
}

async fn version_equals_writes_only_over_that_version(store: &dyn Store) {
    let mut v1 = item("P", "V", 1);
    store
        .put(&v1, Condition::MustNotExist)
        .await
        .expect("create");
    v1.version = 2;
    v1.attrs.insert("n".into(), json!(2));
    store
        .put(&v1, Condition::VersionEquals(1))
        .await
        .expect("update over v1");
    let stale = store.put(&v1, Condition::VersionEquals(1)).await;
    assert!(
        matches!(stale, Err(StoreError::ConditionFailed { .. })),
        "{stale:?}"
    );
    let missing = store
        .put(&item("P", "none", 1), Condition::VersionEquals(1))
        .await;
    assert!(
        matches!(missing, Err(StoreError::ConditionFailed { .. })),
        "{missing:?}"
    );
    let read = store
        .get(&Key::new("P", "V"))
        .await
        .expect("get")
        .expect("item");
    assert_eq!(read.version, 2);
}

async fn must_exist_refuses_a_missing_item_and_delete_honours_conditions(store: &dyn Store) {
    let r = store.put(&item("P", "X", 1), Condition::MustExist).await;
    assert!(
        matches!(r, Err(StoreError::ConditionFailed { .. })),
        "{r:?}"
    );
    store
        .put(&item("P", "X", 1), Condition::None)
        .await
        .expect("put");
    let r = store
        .delete(&Key::new("P", "X"), Condition::VersionEquals(9))
        .await;
    assert!(
        matches!(r, Err(StoreError::ConditionFailed { .. })),
        "{r:?}"
    );
    assert!(store.get(&Key::new("P", "X")).await.expect("get").is_some());
    store
        .delete(&Key::new("P", "X"), Condition::VersionEquals(1))
        .await
        .expect("delete");
    assert!(store.get(&Key::new("P", "X")).await.expect("get").is_none());
    store
        .delete(&Key::new("P", "X"), Condition::None)
        .await
        .expect("deleting nothing is fine");
}

async fn sort_key_conditions_select_and_order_like_dynamodb(store: &dyn Store) {
    let mut items: Vec<Item> = ["A#1", "A#2", "A#3", "AB#1", "B#1", "B#2"]
        .iter()
        .enumerate()
        .map(|(n, sk)| item("Q", sk, n as i64))
        .collect();
    items.push(item("OTHER", "A#1", 9));
    store.batch_put(&items).await.expect("batch");
    let q = |s: SortKey| Query::partition("Q").sort(s);
    let run = |q: Query| async move { sks(&query_all(store, q).await.expect("query")) };
    assert_eq!(
        run(q(SortKey::Any)).await,
        ["A#1", "A#2", "A#3", "AB#1", "B#1", "B#2"]
    );
    assert_eq!(
        run(q(SortKey::BeginsWith("A#".into()))).await,
        ["A#1", "A#2", "A#3"]
    );
    assert_eq!(run(q(SortKey::Equals("A#2".into()))).await, ["A#2"]);
    assert_eq!(
        run(q(SortKey::Between("A#2".into(), "AB#1".into()))).await,
        ["A#2", "A#3", "AB#1"]
    );
    assert_eq!(
        run(q(SortKey::LessThan("A#3".into()))).await,
        ["A#1", "A#2"]
    );
    assert_eq!(
        run(q(SortKey::AtMost("A#3".into()))).await,
        ["A#1", "A#2", "A#3"]
    );
    assert_eq!(
        run(q(SortKey::GreaterThan("AB#1".into()))).await,
        ["B#1", "B#2"]
    );
    assert_eq!(
        run(q(SortKey::AtLeast("AB#1".into()))).await,
        ["AB#1", "B#1", "B#2"]
    );
    assert_eq!(
        run(q(SortKey::BeginsWith("B".into())).backward()).await,
        ["B#2", "B#1"]
    );
}

async fn paging_with_a_cursor_returns_every_item_once_in_order(store: &dyn Store) {
    let items: Vec<Item> = (0..10)
        .map(|n| item("PG", &format!("S#{n:02}"), n))
        .collect();
    store.batch_put(&items).await.expect("batch");
    for forward in [true, false] {
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let mut q = Query::partition("PG").limit(3).after(cursor);
            q.forward = forward;
            let page = store.query(&q).await.expect("page");
            assert!(page.items.len() <= 3);
            seen.extend(sks(&page.items));
            pages += 1;
            assert!(pages < 10, "paging does not end");
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let mut expected: Vec<String> = (0..10).map(|n| format!("S#{n:02}")).collect();
        if !forward {
            expected.reverse();
        }
        assert_eq!(seen, expected);
    }
}

async fn secondary_indexes_hold_only_items_that_carry_their_keys(store: &dyn Store) {
    let with = |pk: &str, n: i64, g1: Option<(&str, &str)>, g2: Option<(&str, &str)>| {
        let mut i = item(pk, "S", n);
        if let Some((p, s)) = g1 {
            i = i.with_gsi1(Key::new(p, s));
        }
        if let Some((p, s)) = g2 {
            i = i.with_gsi2(Key::new(p, s));
        }
        i
    };
    store
        .batch_put(&[
            with("I#1", 1, Some(("SCHOOL#1", "2026-11-24#b")), None),
            with(
                "I#2",
                2,
                Some(("SCHOOL#1", "2026-11-23#a")),
                Some(("DAY", "x")),
            ),
            with("I#3", 3, None, Some(("DAY", "y"))),
            with("I#4", 4, Some(("SCHOOL#2", "2026-11-23#c")), None),
        ])
        .await
        .expect("batch");
    let g1 = query_all(store, Query::partition("SCHOOL#1").on(Index::Gsi1))
        .await
        .expect("gsi1");
    let pks: Vec<_> = g1.iter().map(|i| i.key.pk.as_str()).collect();
    assert_eq!(pks, ["I#2", "I#1"], "GSI1 sorted by its own sort key");
    let g2 = query_all(store, Query::partition("DAY").on(Index::Gsi2))
        .await
        .expect("gsi2");
    assert_eq!(g2.len(), 2);
    assert_eq!(g2[0].gsi2, Some(Key::new("DAY", "x")));
    let narrowed = query_all(
        store,
        Query::partition("SCHOOL#1")
            .on(Index::Gsi1)
            .begins_with("2026-11-24"),
    )
    .await
    .expect("gsi1 narrowed");
    assert_eq!(narrowed.len(), 1);
    // Removing the index keys takes the item out of the index.
    let mut moved = g1[0].clone();
    moved.gsi1 = None;
    store.put(&moved, Condition::None).await.expect("put");
    let g1 = query_all(store, Query::partition("SCHOOL#1").on(Index::Gsi1))
        .await
        .expect("gsi1");
    assert_eq!(g1.len(), 1);
}

async fn paging_an_index_returns_every_item_once(store: &dyn Store) {
    let items: Vec<Item> = (0..7)
        .map(|n| item(&format!("IP#{n}"), "S", n).with_gsi1(Key::new("SAME", "same-sort-key")))
        .collect();
    store.batch_put(&items).await.expect("batch");
    let mut cursor = None;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = store
            .query(
                &Query::partition("SAME")
                    .on(Index::Gsi1)
                    .limit(2)
                    .after(cursor),
            )
            .await
            .expect("page");
        seen.extend(page.items.iter().map(|i| i.key.pk.clone()));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    seen.sort();
    let expected: Vec<String> = (0..7).map(|n| format!("IP#{n}")).collect();
    assert_eq!(seen, expected);
}

async fn a_transaction_with_one_failing_condition_writes_nothing_and_names_it(store: &dyn Store) {
    store
        .put(&item("T", "EXISTS", 1), Condition::None)
        .await
        .expect("put");
    let writes = vec![
        Write::Put(item("T", "NEW1", 1), Condition::MustNotExist),
        Write::Put(item("T", "NEW2", 2), Condition::None),
        Write::Put(item("T", "EXISTS", 3), Condition::MustNotExist),
    ];
    let err = store.transact(&writes).await.expect_err("must fail");
    match err {
        StoreError::TransactionConditionFailed { index, key } => {
            assert_eq!(index, 2);
            assert_eq!(key, Key::new("T", "EXISTS"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        store
            .get(&Key::new("T", "NEW1"))
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .get(&Key::new("T", "NEW2"))
            .await
            .expect("get")
            .is_none()
    );
    let kept = store
        .get(&Key::new("T", "EXISTS"))
        .await
        .expect("get")
        .expect("item");
    assert_eq!(kept.attrs["n"], json!(1));
}

async fn a_transaction_puts_deletes_and_checks_together(store: &dyn Store) {
    store
        .batch_put(&[item("T2", "GONE", 1), item("T2", "GUARD", 1)])
        .await
        .expect("batch");
    store
        .transact(&[
            Write::Put(item("T2", "NEW", 1), Condition::MustNotExist),
            Write::Delete(Key::new("T2", "GONE"), Condition::MustExist),
            Write::Check(Key::new("T2", "GUARD"), Condition::VersionEquals(1)),
        ])
        .await
        .expect("transaction");
    let all = sks(&query_all(store, Query::partition("T2"))
        .await
        .expect("query"));
    assert_eq!(all, ["GUARD", "NEW"]);
    let err = store
        .transact(&[
            Write::Put(item("T2", "NEWER", 1), Condition::None),
            Write::Check(Key::new("T2", "GUARD"), Condition::VersionEquals(5)),
        ])
        .await
        .expect_err("check fails");
    assert!(
        matches!(err, StoreError::TransactionConditionFailed { index: 1, .. }),
        "{err:?}"
    );
    assert!(
        store
            .get(&Key::new("T2", "NEWER"))
            .await
            .expect("get")
            .is_none()
    );
}

async fn a_transaction_refuses_a_key_twice_and_more_than_a_hundred_operations(store: &dyn Store) {
    let twice = store
        .transact(&[
            Write::Put(item("T3", "A", 1), Condition::None),
            Write::Delete(Key::new("T3", "A"), Condition::None),
        ])
        .await;
    assert!(matches!(twice, Err(StoreError::Invalid(_))), "{twice:?}");
    let many: Vec<Write> = (0..=MAX_TRANSACTION)
        .map(|n| Write::Put(item("T3", &format!("{n:03}"), n as i64), Condition::None))
        .collect();
    assert!(matches!(
        store.transact(&many).await,
        Err(StoreError::Invalid(_))
    ));
    store
        .transact(&many[..MAX_TRANSACTION])
        .await
        .expect("a hundred is fine");
    let all = query_all(store, Query::partition("T3"))
        .await
        .expect("query");
    assert_eq!(all.len(), MAX_TRANSACTION);
}

async fn batch_writes_and_reads_handle_more_than_one_request_worth(store: &dyn Store) {
    let items: Vec<Item> = (0..130).map(|n| item("B", &format!("{n:03}"), n)).collect();
    store.batch_put(&items).await.expect("batch put");
    assert_eq!(
        query_all(store, Query::partition("B"))
            .await
            .expect("query")
            .len(),
        130
    );
    let keys: Vec<Key> = (0..100)
        .map(|n| Key::new("B", format!("{n:03}")))
        .chain([Key::new("B", "missing")])
        .take(100)
        .collect();
    let got = store.get_many(&keys).await.expect("get many");
    assert_eq!(got.len(), 100);
    let mut eventually = store
        .get_many_eventually(&keys[90..])
        .await
        .expect("get many, eventually consistent");
    eventually.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(
        eventually,
        items[90..100].to_vec(),
        "the same items, read back"
    );
    let gone: Vec<Key> = (0..120).map(|n| Key::new("B", format!("{n:03}"))).collect();
    store.batch_delete(&gone).await.expect("batch delete");
    let left = sks(&query_all(store, Query::partition("B"))
        .await
        .expect("query"));
    assert_eq!(left.len(), 10);
    assert_eq!(left[0], "120");
}

async fn a_cursor_that_we_did_not_give_is_refused(store: &dyn Store) {
    let r = store
        .query(&Query::partition("X").after(Some("not-a-cursor!".into())))
        .await;
    assert!(matches!(r, Err(StoreError::InvalidCursor)), "{r:?}");
}

async fn reserved_attribute_names_cannot_be_domain_attributes(_store: &dyn Store) {
    let r = Item::new(Key::new("a", "b"), "Thing", &json!({ "PK": "x" }));
    assert!(matches!(r, Err(StoreError::Mapping(_))), "{r:?}");
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let store = skolnav_tests::sqlite_store();
                    super::$case(&store).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $case() {
                    let store = skolnav_tests::dynamo_store().await;
                    super::$case(&store).await;
                }
            )*
        }
    };
}

conformance!(
    an_item_reads_back_exactly_as_it_was_written,
    a_missing_key_reads_as_none,
    an_expired_item_is_read_until_it_is_deleted,
    must_not_exist_refuses_to_overwrite,
    version_equals_writes_only_over_that_version,
    must_exist_refuses_a_missing_item_and_delete_honours_conditions,
    sort_key_conditions_select_and_order_like_dynamodb,
    paging_with_a_cursor_returns_every_item_once_in_order,
    secondary_indexes_hold_only_items_that_carry_their_keys,
    paging_an_index_returns_every_item_once,
    a_transaction_with_one_failing_condition_writes_nothing_and_names_it,
    a_transaction_puts_deletes_and_checks_together,
    a_transaction_refuses_a_key_twice_and_more_than_a_hundred_operations,
    batch_writes_and_reads_handle_more_than_one_request_worth,
    a_cursor_that_we_did_not_give_is_refused,
    reserved_attribute_names_cannot_be_domain_attributes,
);

/// The table the template declares (stream of new and old images) and the
/// tests' table (the same without the stream) on DynamoDB Local.
mod table_shape {
    use skolnav::store::dynamodb::DynamoStore;

    async fn describe(
        store: &DynamoStore,
    ) -> aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput {
        skolnav_tests::dynamodb_client()
            .describe_table()
            .table_name(store.table())
            .send()
            .await
            .expect("describe table")
    }

    fn indexes(
        out: &aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput,
    ) -> Vec<String> {
        let mut names: Vec<String> = out
            .table()
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .filter_map(|g| g.index_name().map(str::to_string))
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn the_templates_table_streams_new_and_old_images_and_the_tests_table_does_not() {
        // Created through the test helper first, so DynamoDB Local is up.
        let tests_table = skolnav_tests::dynamo_store().await;
        let template_table = DynamoStore::new(
            skolnav_tests::dynamodb_client(),
            format!("skolnav-shape-{}", ulid::Ulid::generate()),
        );
        template_table.create_table().await.expect("create table");

        let template = describe(&template_table).await;
        let stream = template.table().and_then(|t| t.stream_specification());
        assert_eq!(stream.map(|s| s.stream_enabled()), Some(true));
        assert_eq!(
            stream
                .and_then(|s| s.stream_view_type())
                .map(|v| v.as_str()),
            Some("NEW_AND_OLD_IMAGES")
        );

        let tests = describe(&tests_table).await;
        assert!(
            tests
                .table()
                .and_then(|t| t.stream_specification())
                .is_none_or(|s| !s.stream_enabled()),
            "the tests' table has no stream"
        );
        assert_eq!(indexes(&template), ["GSI1", "GSI2"]);
        assert_eq!(indexes(&tests), indexes(&template));
    }
}
