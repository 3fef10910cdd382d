//! The embedded store: one SQLite table shaped like the DynamoDB table, for
//! the local server and for fast tests. Each item is kept whole as JSON; the
//! key and index columns are copies used for lookups.

use super::{
    Condition, Index, Item, Key, Page, Query, SortKey, Store, StoreError, Write, cursor,
    validate_transaction,
};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value as Sql};
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    version INTEGER NOT NULL,
    expires_at INTEGER,
    doc TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
";

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl SqliteStore {
    /// Opens (and creates if needed) a store in a file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(unavailable)?;
        Self::init(conn)
    }

    /// A store that lives as long as this value.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(unavailable)?)
    }

    /// Items past their expiry stay readable until they are deleted, as
    /// with DynamoDB's TTL (which deletes within days, not at the second):
    /// whoever sets an expiry compares it with their own clock. Opening the
    /// store is when it deletes them.
    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        conn.execute(
            "DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?",
            [now()],
        )
        .map_err(unavailable)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// Every stored item's JSON text, one per line: for looking into a
    /// local database, and for tests that must prove something is nowhere.
    pub fn dump(&self) -> Result<String, StoreError> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare("SELECT doc FROM items ORDER BY pk, sk")
            .map_err(unavailable)?;
        let docs = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(unavailable)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(unavailable)?;
        Ok(docs.join("\n"))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Unavailable("sqlite connection poisoned".into()))
    }
}

fn read_doc(doc: String) -> Result<Item, StoreError> {
    match serde_json::from_str::<Value>(&doc) {
        Ok(Value::Object(map)) => Item::from_map(map),
        _ => Err(StoreError::Mapping(
            "stored document is not an object".into(),
        )),
    }
}

fn version_of(conn: &Connection, key: &Key) -> Result<Option<u64>, StoreError> {
    conn.query_row(
        "SELECT version FROM items WHERE pk = ? AND sk = ?",
        rusqlite::params![key.pk, key.sk],
        |row| row.get::<_, i64>(0),
    )
    .optional()
    .map(|v| v.map(|v| v as u64))
    .map_err(unavailable)
}

fn holds(conn: &Connection, key: &Key, condition: Condition) -> Result<bool, StoreError> {
    Ok(match condition {
        Condition::None => true,
        Condition::MustExist => version_of(conn, key)?.is_some(),
        Condition::MustNotExist => version_of(conn, key)?.is_none(),
        Condition::VersionEquals(v) => version_of(conn, key)? == Some(v),
    })
}

fn write_item(conn: &Connection, item: &Item) -> Result<(), StoreError> {
    let doc = Value::Object(item.to_map()).to_string();
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, version, expires_at, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rusqlite::params![
            item.key.pk,
            item.key.sk,
            item.gsi1.as_ref().map(|k| &k.pk),
            item.gsi1.as_ref().map(|k| &k.sk),
            item.gsi2.as_ref().map(|k| &k.pk),
            item.gsi2.as_ref().map(|k| &k.sk),
            item.version as i64,
            item.expires_at,
            doc,
        ],
    )
    .map_err(unavailable)?;
    Ok(())
}

fn delete_item(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM items WHERE pk = ? AND sk = ?",
        rusqlite::params![key.pk, key.sk],
    )
    .map_err(unavailable)?;
    Ok(())
}

/// Where a page stopped: the sort key, then the primary key (index keys are
/// not unique).
#[derive(serde::Serialize, serde::Deserialize)]
struct Position {
    s: String,
    pk: String,
    sk: String,
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let conn = self.lock()?;
        let doc: Option<String> = conn
            .query_row(
                "SELECT doc FROM items WHERE pk = ? AND sk = ?",
                rusqlite::params![key.pk, key.sk],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)?;
        doc.map(read_doc).transpose()
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        if keys.len() > 100 {
            return Err(StoreError::Invalid(format!(
                "{} keys in one read, at most 100",
                keys.len()
            )));
        }
        let mut items = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(item) = self.get(key).await? {
                items.push(item);
            }
        }
        Ok(items)
    }

    async fn put(&self, item: &Item, condition: Condition) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(unavailable)?;
        if !holds(&tx, &item.key, condition)? {
            return Err(StoreError::ConditionFailed {
                key: item.key.clone(),
            });
        }
        write_item(&tx, item)?;
        tx.commit().map_err(unavailable)
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(unavailable)?;
        if !holds(&tx, key, condition)? {
            return Err(StoreError::ConditionFailed { key: key.clone() });
        }
        delete_item(&tx, key)?;
        tx.commit().map_err(unavailable)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let (pk_col, sk_col) = match query.index {
            Index::Primary => ("pk", "sk"),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
            Index::Gsi2 => ("gsi2pk", "gsi2sk"),
        };
        let mut sql = format!("SELECT doc, {sk_col}, pk, sk FROM items WHERE {pk_col} = ?");
        let mut args: Vec<Sql> = vec![Sql::Text(query.pk.clone())];
        let mut arg = |sql: &mut String, clause: &str, values: &[&String]| {
            sql.push_str(clause);
            args.extend(values.iter().map(|v| Sql::Text((*v).clone())));
        };
        match &query.sort {
            SortKey::Any => {}
            SortKey::Equals(v) => arg(&mut sql, &format!(" AND {sk_col} = ?"), &[v]),
            SortKey::BeginsWith(p) => arg(
                &mut sql,
                &format!(" AND substr({sk_col}, 1, length(?)) = ?"),
                &[p, p],
            ),
            SortKey::Between(a, b) => arg(
                &mut sql,
                &format!(" AND {sk_col} >= ? AND {sk_col} <= ?"),
                &[a, b],
            ),
            SortKey::LessThan(v) => arg(&mut sql, &format!(" AND {sk_col} < ?"), &[v]),
            SortKey::AtMost(v) => arg(&mut sql, &format!(" AND {sk_col} <= ?"), &[v]),
            SortKey::GreaterThan(v) => arg(&mut sql, &format!(" AND {sk_col} > ?"), &[v]),
            SortKey::AtLeast(v) => arg(&mut sql, &format!(" AND {sk_col} >= ?"), &[v]),
        }
        let dir = if query.forward { "ASC" } else { "DESC" };
        let cmp = if query.forward { ">" } else { "<" };
        if let Some(c) = &query.cursor {
            let pos: Position = cursor::decode(c)?;
            arg(
                &mut sql,
                &format!(" AND ({sk_col}, pk, sk) {cmp} (?, ?, ?)"),
                &[&pos.s, &pos.pk, &pos.sk],
            );
        }
        sql.push_str(&format!(
            " ORDER BY {sk_col} {dir}, pk {dir}, sk {dir} LIMIT ?"
        ));
        let limit = query.limit.map(|l| l.max(1) as i64).unwrap_or(1000);
        args.push(Sql::Integer(limit + 1));

        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
        let rows = stmt
            .query_map(params_from_iter(args), |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    Position {
                        s: row.get(1)?,
                        pk: row.get(2)?,
                        sk: row.get(3)?,
                    },
                ))
            })
            .map_err(unavailable)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(unavailable)?;
        let more = rows.len() as i64 > limit;
        let mut items = Vec::with_capacity(rows.len());
        let mut last = None;
        for (doc, pos) in rows.into_iter().take(limit as usize) {
            items.push(read_doc(doc)?);
            last = Some(pos);
        }
        let next = if more {
            last.map(|p| cursor::encode(&p))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn transact(&self, writes: &[Write]) -> Result<(), StoreError> {
        validate_transaction(writes)?;
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(unavailable)?;
        for (index, w) in writes.iter().enumerate() {
            let (key, condition) = match w {
                Write::Put(item, c) => (&item.key, *c),
                Write::Delete(key, c) | Write::Check(key, c) => (key, *c),
            };
            if !holds(&tx, key, condition)? {
                return Err(StoreError::TransactionConditionFailed {
                    index,
                    key: key.clone(),
                });
            }
        }
        for w in writes {
            match w {
                Write::Put(item, _) => write_item(&tx, item)?,
                Write::Delete(key, _) => delete_item(&tx, key)?,
                Write::Check(..) => {}
            }
        }
        tx.commit().map_err(unavailable)
    }

    async fn batch_put(&self, items: &[Item]) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(unavailable)?;
        for item in items {
            write_item(&tx, item)?;
        }
        tx.commit().map_err(unavailable)
    }

    async fn batch_delete(&self, keys: &[Key]) -> Result<(), StoreError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(unavailable)?;
        for key in keys {
            delete_item(&tx, key)?;
        }
        tx.commit().map_err(unavailable)
    }
}
