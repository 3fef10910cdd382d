//! `skolnav-bench import [PUPILS ...]`: the nightly import against a
//! generated municipality of PUPILS pupils (the SS 12000 fixture, served in
//! this process), into a fresh DynamoDB Local table.
//!
//! Per size, in one run:
//! - the first (full) run in the `import-nightly` release binary under the
//!   local Lambda Runtime API: wall time, items written, items/s, peak RSS;
//! - the baseline: the same items (watched as the same import writes them
//!   in process on the embedded store) written with nothing but
//!   BatchWriteItem, 25 per request, one request at a time as the import
//!   does, into a second fresh table: wall time, and the ratio;
//! - an unchanged full re-run (in process, metered): items written (goal 0),
//!   DynamoDB requests and capacity, wall time.

use crate::runtime_api::RuntimeApi;
use skolnav::clock::{Clock, SystemClock};
use skolnav::import::{Options, Outcome};
use skolnav::store::dynamodb::{DynamoStore, Meter};
use skolnav::store::{Item, Key, Store, StoreError};
use skolnav_ss12000_fixture::{ServerOptions, Spec, Ss12000Server, generate};
use skolnav_tests::{Watched, Watcher, Writing};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportFigures {
    pub pupils: usize,
    pub persons: usize,
    pub groups: usize,
    pub duties: usize,
    pub placements: usize,
    pub items: u64,
    pub import_seconds: f64,
    pub items_per_second: f64,
    pub raw_batch_write_seconds: f64,
    /// Per BatchWriteItem of the baseline: median and slowest.
    pub raw_request_p50_ms: f64,
    pub raw_request_max_ms: f64,
    pub ratio_to_raw: f64,
    pub peak_rss_kib: u64,
    pub rerun_seconds: f64,
    pub rerun_items_written: u64,
    pub rerun_requests: u64,
    pub rerun_read_requests: u64,
    pub rerun_write_requests: u64,
    pub rerun_read_capacity: f64,
    pub rerun_write_capacity: f64,
    /// The re-run's counts per kind of object (what it wrote, if anything).
    pub rerun_counts: serde_json::Value,
}

fn registry_env(server: &Ss12000Server) -> Vec<(&'static str, String)> {
    vec![
        ("SKOLNAV_SS12000_URL", server.base_url()),
        ("SKOLNAV_SS12000_TOKEN_URL", server.token_url()),
        ("SKOLNAV_SS12000_CLIENT_ID", server.client_id().to_string()),
        (
            "SKOLNAV_SS12000_CLIENT_SECRET",
            server.client_secret().to_string(),
        ),
        ("SKOLNAV_SS12000_PAGE_LIMIT", "500".to_string()),
    ]
}

const SCHEDULE_EVENT: &str = r#"{"version":"0","id":"bench","detail-type":"Scheduled Event","source":"aws.scheduler","account":"123456789012","time":"2026-11-23T01:00:00Z","region":"eu-north-1","resources":[],"detail":{}}"#;

/// Starts the `import-nightly` binary on a runtime API and a table, with
/// extra environment variables.
pub type Spawn<'a> = dyn Fn(&RuntimeApi, &str, &[(&'static str, String)]) -> Result<std::process::Child, String>
    + 'a;

pub async fn run(
    sizes: &[usize],
    spawn: &Spawn<'_>,
    peak_rss_kib: fn(u32) -> u64,
) -> Result<Vec<ImportFigures>, String> {
    let mut all = Vec::new();
    for &pupils in sizes {
        eprintln!("bench: import of {pupils} pupils");
        let today = SystemClock.today();
        let municipality = generate(&Spec::with_pupils(pupils).today(today));
        let totals = municipality.totals();
        let registry = Ss12000Server::start(municipality, ServerOptions::default()).await;

        // First run, in the Lambda binary.
        let table = skolnav_tests::dynamo_store().await;
        let api = RuntimeApi::start(serde_json::json!({ "keys": [] })).await?;
        let mut child = spawn(&api, table.table(), &registry_env(&registry))?;
        let started = Instant::now();
        // Lambda stops a run at 15 minutes (the next attempt resumes it);
        // on one loopback JVM a big municipality takes longer than that,
        // and the bench wants the one-run figure.
        let within = Duration::from_secs((pupils as u64 / 10).max(900));
        let outcome = api.invoke_within(SCHEDULE_EVENT.to_string(), within).await;
        let import_time = started.elapsed();
        let rss = peak_rss_kib(child.id());
        let _ = child.kill();
        let _ = child.wait();
        let outcome = outcome?;
        if outcome.error {
            return Err(format!(
                "import-nightly failed: {}",
                String::from_utf8_lossy(&outcome.body)
            ));
        }

        eprintln!(
            "bench: first run of {pupils} pupils: {:.1} s, peak RSS {rss} KiB",
            import_time.as_secs_f64()
        );

        // The same items, raw, in key order: what the same import writes,
        // captured from a run on the embedded store. (A Scan of the table
        // would be the obvious source, but DynamoDB Local cannot scan a
        // million items: 1 MB pages of a 300,000-item table took 0.6-3.8 s
        // each, slower the more of the table remains, and at 100k pupils a
        // page outlasts the client's 10 s read timeout.)
        let items = items_the_import_writes(&registry, today).await?;
        let count = items.len() as u64;
        let raw_table = skolnav_tests::dynamo_store().await;
        let (raw_time, raw_requests) = batch_write(&raw_table, items).await?;
        eprintln!(
            "bench: raw BatchWriteItem of {count} items: {:.1} s",
            raw_time.as_secs_f64()
        );

        // An unchanged full re-run, metered.
        let meter = Arc::new(Meter::default());
        let metered = DynamoStore::new(skolnav_tests::dynamodb_client(), table.table())
            .metered(meter.clone());
        let client = skolnav_tests::registry_client(&registry, 500);
        let started = Instant::now();
        let rerun = skolnav::import::run(
            &metered,
            &client,
            Options {
                force_full: true,
                ..Options::new(SystemClock.now(), today)
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        let rerun_time = started.elapsed();
        let reading = meter.take();
        let Outcome::Ran(record) = rerun else {
            return Err("the re-run found the lease taken".into());
        };

        let seconds = |d: Duration| d.as_secs_f64();
        all.push(ImportFigures {
            pupils,
            persons: totals.persons,
            groups: totals.groups,
            duties: totals.duties,
            placements: totals.placements,
            items: count,
            import_seconds: seconds(import_time),
            items_per_second: count as f64 / seconds(import_time),
            raw_batch_write_seconds: seconds(raw_time),
            raw_request_p50_ms: percentile_ms(&raw_requests, 0.5),
            raw_request_max_ms: percentile_ms(&raw_requests, 1.0),
            ratio_to_raw: seconds(import_time) / seconds(raw_time),
            peak_rss_kib: rss,
            rerun_seconds: seconds(rerun_time),
            rerun_items_written: record.written(),
            rerun_requests: reading.requests,
            rerun_read_requests: reading.read_requests,
            rerun_write_requests: reading.write_requests,
            rerun_read_capacity: reading.read_capacity,
            rerun_write_capacity: reading.write_capacity,
            rerun_counts: serde_json::to_value(&record.counts).unwrap_or_default(),
        });
    }
    Ok(all)
}

/// The last batch write of each key, as the import makes them.
#[derive(Default)]
struct LastWrites(Mutex<BTreeMap<Key, Item>>);

impl Watcher for LastWrites {
    fn writing(&self, write: Writing<'_>) -> Result<(), StoreError> {
        let mut items = self
            .0
            .lock()
            .map_err(|_| StoreError::Invalid("poisoned".into()))?;
        match write {
            Writing::BatchPut(batch) => {
                for item in batch {
                    items.insert(item.key.clone(), item.clone());
                }
            }
            Writing::BatchDelete(keys) => {
                for key in keys {
                    items.remove(key);
                }
            }
            // The lease, the run record and the cursor: bookkeeping, not
            // the municipality.
            Writing::Put(_) | Writing::Delete(_) | Writing::Transact(_) => {}
        }
        Ok(())
    }
}

/// Every item a first run of the import leaves in the table (the last
/// write of each key), in key order: the import run in process on the
/// embedded store, its batch writes watched.
async fn items_the_import_writes(
    registry: &Ss12000Server,
    today: chrono::NaiveDate,
) -> Result<Vec<Item>, String> {
    let watched = Watched::new(
        Arc::new(skolnav_tests::sqlite_store()),
        LastWrites::default(),
    );
    let client = skolnav_tests::registry_client(registry, 500);
    skolnav::import::run(&watched, &client, Options::new(SystemClock.now(), today))
        .await
        .map_err(|e| format!("the capturing run: {e}"))?;
    let items = watched
        .watcher
        .0
        .into_inner()
        .map_err(|_| "the capturing run: poisoned".to_string())?;
    Ok(items.into_values().collect())
}

fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// BatchWriteItem, 25 puts per request, one request at a time, through
/// the store adapter (which sends again what the store left unprocessed).
/// The wall time, and each request's time, sorted.
async fn batch_write(
    store: &DynamoStore,
    items: Vec<Item>,
) -> Result<(Duration, Vec<Duration>), String> {
    let started = Instant::now();
    let mut each = Vec::with_capacity(items.len() / 25 + 1);
    for chunk in items.chunks(25) {
        let sent = Instant::now();
        store
            .batch_put(chunk)
            .await
            .map_err(|e| format!("batch write: {e}"))?;
        each.push(sent.elapsed());
    }
    let wall = started.elapsed();
    each.sort();
    Ok((wall, each))
}

pub fn markdown(figures: &[ImportFigures]) -> String {
    let mut out = String::from(
        "### Nightly import into DynamoDB Local (goals: <= 1.5x raw BatchWriteItem; unchanged re-run writes 0)\n\n\
         | pupils | persons | items | import s | items/s | raw BatchWriteItem s (p50/max ms per request) | x raw | peak RSS KiB | re-run s | re-run items written | re-run requests (read/write) | re-run RCU | re-run WCU |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n",
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.0} | {:.1} ({:.1}/{:.0}) | {:.2} | {} | {:.1} | {} | {} ({}/{}) | {:.0} | {:.0} |\n",
            f.pupils,
            f.persons,
            f.items,
            f.import_seconds,
            f.items_per_second,
            f.raw_batch_write_seconds,
            f.raw_request_p50_ms,
            f.raw_request_max_ms,
            f.ratio_to_raw,
            f.peak_rss_kib,
            f.rerun_seconds,
            f.rerun_items_written,
            f.rerun_requests,
            f.rerun_read_requests,
            f.rerun_write_requests,
            f.rerun_read_capacity,
            f.rerun_write_capacity,
        ));
    }
    out
}
