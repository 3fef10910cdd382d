//! The benchmark harness (`scripts/bench`). Runs the release binaries of
//! every function and of two baselines under a local Lambda Runtime API
//! against DynamoDB Local (a hello-world lambda_http function, and a
//! function reading one DynamoDB item written the usual way,
//! `bench/usual`), and prints ratios measured side by side in one run:
//!
//! 1. cold start (spawn to first answer), init and first invocation;
//! 2. peak RSS;
//! 3. package size (arm64, zipped; from `cargo lambda build`, if built);
//! 4. warm overhead: handler latency through the runtime API against the
//!    same DynamoDB requests replayed directly, the two alternating
//!    invocation by invocation;
//! 5. DynamoDB requests and consumed capacity per use case;
//! 6. the same use cases on the embedded SQLite store, requests/s.
//!
//! It prints figures; it passes or fails nothing.

mod absence;
mod cases;
mod hot_code;
mod import;
mod notices;
mod pages;
mod recording;
mod report;
mod runtime_api;

use cases::{CASES, Call, Fixture};
use recording::RecordingStore;
use report::{Figures, FunctionFigures};
use runtime_api::RuntimeApi;
use skolnav::api::Ctx;
use skolnav::auth::Authenticator;
use skolnav::clock::SystemClock;
use skolnav::devkeys::DevIssuer;
use skolnav::store::Store;
use skolnav::store::dynamodb::{DynamoStore, Meter};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const COLD: usize = 10;
pub const WARM: usize = 100;
const ISSUER: &str = "https://bench.skolnav.local/";
const AUDIENCE: &str = "skolnav-bench";
const MAIL_DOMAIN: &str = "skolnav.test";

type BenchResult<T> = Result<T, String>;

fn root() -> PathBuf {
    skolnav_tests::workspace_root()
}

/// Where the release binaries are: `target/release`, or the folder named
/// by `SKOLNAV_BENCH_BINARIES` (to measure a build made another way, say
/// with other code-generation flags, against its own hello world).
fn release_bin(name: &str) -> BenchResult<PathBuf> {
    let dir = std::env::var_os("SKOLNAV_BENCH_BINARIES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release"));
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build with scripts/bench (cargo build --release)",
            path.display()
        ))
    }
}

/// The usual-way baseline (`bench/usual`, built outside the workspace
/// into `target/usual`), or beside the others in `SKOLNAV_BENCH_BINARIES`;
/// `None` when it is not built (the run says so and goes on).
fn usual_bin() -> Option<PathBuf> {
    let path = match std::env::var_os("SKOLNAV_BENCH_BINARIES") {
        Some(dir) => PathBuf::from(dir).join(USUAL),
        None => root().join(USUAL_TARGET).join("release").join(USUAL),
    };
    path.is_file().then_some(path)
}

/// The usual-way baseline's binary name.
pub const USUAL: &str = "usual-dynamodb-lambda";

/// Its target folder (as `scripts/build-release` builds it): the release
/// binary in `release/`, the arm64 zip under `lambda/`.
pub const USUAL_TARGET: &str = "target/usual";

/// Peak resident set (VmHWM) of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// With `SKOLNAV_BENCH_SMAPS=DIR`, the warm process's memory map as it
/// ends (`/proc/<pid>/smaps`, resident KiB per mapping) goes to
/// `DIR/<function>.smaps`: where the peak RSS figure's pages are.
fn keep_memory_map(bin: &Path, pid: u32) {
    let Some(dir) = std::env::var_os("SKOLNAV_BENCH_SMAPS") else {
        return;
    };
    let name = bin.file_name().unwrap_or_default().to_string_lossy();
    let out = Path::new(&dir).join(format!("{name}.smaps"));
    let copied = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::copy(format!("/proc/{pid}/smaps"), &out));
    if let Err(e) = copied {
        eprintln!("bench: {}: {e}", out.display());
    }
}

struct Engines {
    dynamodb: String,
    moto: String,
}

fn spawn_function(
    bin: &Path,
    api: &RuntimeApi,
    table: &str,
    engines: &Engines,
    extra: &[(&str, String)],
) -> BenchResult<Child> {
    let name = bin
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let log_dir = root().join("bench/tmp");
    let _ = std::fs::create_dir_all(&log_dir);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join(format!("{name}.log")))
        .map_err(|e| e.to_string())?;
    Command::new(bin)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", skolnav_tests::REGION)
        .env("AWS_DEFAULT_REGION", skolnav_tests::REGION)
        .env("AWS_ACCESS_KEY_ID", "skolnav")
        .env("AWS_SECRET_ACCESS_KEY", "skolnav")
        .env("AWS_ENDPOINT_URL_DYNAMODB", &engines.dynamodb)
        .env("AWS_ENDPOINT_URL_SESV2", &engines.moto)
        .env("AWS_ENDPOINT_URL_SNS", &engines.moto)
        // The file functions sign S3 URLs (signing sends no request); the
        // publish functions would read attached files through it.
        .env("AWS_ENDPOINT_URL_S3", &engines.moto)
        .env("SKOLNAV_FILES_BUCKET", "skolnav-bench-files")
        .env("SKOLNAV_TABLE", table)
        .env("SKOLNAV_JWT_ISSUER", ISSUER)
        .env("SKOLNAV_JWT_AUDIENCE", AUDIENCE)
        .env("SKOLNAV_JWKS_URL", format!("http://{}/jwks.json", api.addr))
        .env("SKOLNAV_JWT_ALGORITHMS", "RS256")
        .env("SKOLNAV_MAIL_FROM", format!("no-reply@{MAIL_DOMAIN}"))
        // Notice batches mail in bulk with it; the bench's outbox items
        // are single mails (moto has no SendBulkEmail).
        .env("SKOLNAV_SES_TEMPLATE", "skolnav-notice")
        .env("RUST_LOG", "info")
        // As infra/template.yaml sets it: one PEM bundle, not the bundle and
        // every file of the certificate directory (about 3.5 ms of init).
        .env("SSL_CERT_FILE", ca_bundle())
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("spawning {}: {e}", bin.display()))
}

/// What an answer stands for, as a status: an HTTP answer's status code;
/// 0 for an event function's answer; [`FAILED`] for an invocation error
/// or a stream batch with failed items, which no case expects.
fn status_of(outcome: &runtime_api::Outcome) -> u16 {
    if outcome.error {
        return FAILED;
    }
    let answer = serde_json::from_slice::<serde_json::Value>(&outcome.body).unwrap_or_default();
    let failed_items = answer["batchItemFailures"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if failed_items {
        return FAILED;
    }
    answer["statusCode"].as_u64().unwrap_or(0) as u16
}

const FAILED: u16 = 1;

/// What every process a run measures shares: the table and engines it
/// works on, the keys its tokens are checked with, and its cold starts.
struct Processes<'a> {
    table: &'a str,
    engines: &'a Engines,
    jwks: &'a serde_json::Value,
    cold: usize,
}

/// The raw side of the warm overhead: what each invocation asked of
/// DynamoDB (recorded in process on table A), sent again to B, a copy of A
/// taken before the recording, without HTTP, tokens, the domain or the
/// runtime.
struct Replay<'a> {
    table: &'a DynamoStore,
    recorded: &'a [Vec<recording::Op>],
}

impl Replay<'_> {
    /// Replays invocation `i`'s requests; how long they took.
    async fn run(&self, i: usize) -> Duration {
        let started = Instant::now();
        if let Some(ops) = self.recorded.get(i) {
            recording::replay(self.table, ops).await;
        }
        started.elapsed()
    }
}

/// `cold` cold starts, each a new process answering one event; the last
/// process then answers `warm` more events (the warm figures). With a
/// `replay`, each warm invocation is followed by the same invocation's
/// requests replayed directly, once the function has asked for its next
/// event: the two sides of the warm overhead alternate, so a change in
/// DynamoDB Local's own speed during the run (its garbage collector, its
/// compiler) falls on both.
async fn run_function(
    bin: &Path,
    processes: &Processes<'_>,
    event: &dyn Fn(usize) -> String,
    warm: usize,
    replay: Option<&Replay<'_>>,
) -> BenchResult<FunctionFigures> {
    let Processes {
        table,
        engines,
        jwks,
        cold,
    } = *processes;
    let mut f = FunctionFigures {
        hot_code_bytes: hot_code::hot_section_bytes(bin),
        ..FunctionFigures::default()
    };
    for k in 0..cold {
        let api = RuntimeApi::start(jwks.clone()).await?;
        let started = Instant::now();
        let mut child = spawn_function(bin, &api, table, engines, &[])?;
        // The peak as init ends, read beside the invocation (not before
        // it, which would delay the cold start being timed).
        let init_peak = async {
            if api.polled(1, Duration::from_secs(30)).await {
                peak_rss_kib(child.id())
            } else {
                0
            }
        };
        let (outcome, init_peak) = tokio::join!(api.invoke(event(k)), init_peak);
        f.init_peak_rss_each_kib.push(init_peak);
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{}: {e}", bin.display()));
            }
        };
        f.cold.push(outcome.answered_at - started);
        if let Some(polled) = api.first_poll() {
            f.init.push(polled - started);
        }
        f.first_invocation
            .push(outcome.answered_at - outcome.served_at);
        f.statuses.push(status_of(&outcome));
        let mut invocations = 1;
        if k == cold - 1 {
            if let Some(replay) = replay {
                // The cold invocations' requests, untimed, so that B is
                // where A was before the first warm one.
                idle(&api, invocations, bin).await;
                for i in 0..cold {
                    replay.run(i).await;
                }
            }
            for i in cold..cold + warm {
                let o = api.invoke(event(i)).await?;
                f.warm.push(o.answered_at - o.served_at);
                f.statuses.push(status_of(&o));
                invocations += 1;
                if let Some(replay) = replay {
                    idle(&api, invocations, bin).await;
                    f.raw.push(replay.run(i).await);
                }
            }
        }
        // What follows the last answer (posting it, dropping the event)
        // counts too: it is done once the function asks for the next event.
        // Under callgrind (scripts/hot-code) that poll also writes the
        // profile of the last invocation.
        idle(&api, invocations, bin).await;
        f.peak_rss_each_kib.push(peak_rss_kib(child.id()));
        if k == cold - 1 {
            keep_memory_map(bin, child.id());
            pages::keep(bin, child.id());
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(f)
}

/// Waits until the function has asked for the event after its
/// `invocations`th: it has done everything that follows an answer.
async fn idle(api: &RuntimeApi, invocations: usize, bin: &Path) {
    if !api.polled(invocations + 1, Duration::from_secs(30)).await {
        eprintln!("bench: {} did not ask for another event", bin.display());
    }
}

/// A person's record, which every domain call takes as its caller; an
/// error names a person the fixture or import did not make.
async fn record(
    store: &dyn Store,
    id: skolnav::ids::PersonId,
) -> BenchResult<skolnav::directory::PersonRecord> {
    skolnav::directory::person_record(store, id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{id} is not on record"))
}

fn in_process_ctx(store: Arc<dyn Store>, issuer: &DevIssuer) -> Ctx {
    Ctx {
        store,
        auth: Arc::new(Authenticator::with_keys(
            issuer.auth_config("http://unused.invalid/"),
            issuer.jwks(),
        )),
        clock: Arc::new(SystemClock),
        files: Arc::new(cases::files()),
    }
}

fn http_request(call: &Call, token: &str) -> http::Request<bytes::Bytes> {
    let mut req = http::Request::new(bytes::Bytes::from(call.body.clone().unwrap_or_default()));
    *req.method_mut() = call.method.clone();
    *req.uri_mut() = call.path.parse().unwrap_or_default();
    if let Ok(v) = http::HeaderValue::from_str(&format!("Bearer {token}")) {
        req.headers_mut().insert(http::header::AUTHORIZATION, v);
    }
    req
}

/// Copies every item of one table into another (a snapshot for replay).
async fn copy_table(from: &DynamoStore, to: &DynamoStore) -> BenchResult<()> {
    let client = from.client();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(from.table())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("scan: {e}"))?;
        let items = out.items.unwrap_or_default();
        for chunk in items.chunks(25) {
            let mut requests = Vec::with_capacity(chunk.len());
            for item in chunk {
                let put = aws_sdk_dynamodb::types::PutRequest::builder()
                    .set_item(Some(item.clone()))
                    .build()
                    .map_err(|e| e.to_string())?;
                requests.push(
                    aws_sdk_dynamodb::types::WriteRequest::builder()
                        .put_request(put)
                        .build(),
                );
            }
            let mut pending = Some(requests);
            while let Some(reqs) = pending.take() {
                let out = client
                    .batch_write_item()
                    .request_items(to.table(), reqs)
                    .send()
                    .await
                    .map_err(|e| format!("batch write: {e}"))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(to.table()))
                    .filter(|r| !r.is_empty());
            }
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(()),
        }
    }
}

/// Which functions a run measures: every one, or those named with
/// `--only a,b` (to iterate cheaply on a few; hello world always runs).
#[derive(Clone, Debug, Default)]
pub struct Selection(Option<Vec<String>>);

impl Selection {
    pub fn includes(&self, function: &str) -> bool {
        self.0
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == function))
    }

    pub fn is_subset(&self) -> bool {
        self.0.is_some()
    }
}

/// Measures the selected functions; with `profile` (scripts/hot-code,
/// the functions under callgrind) only drives them: one process each
/// through all its events, nothing in process, no SQLite.
async fn run(only: &Selection, profile: bool) -> BenchResult<Figures> {
    let cold = if profile { 1 } else { COLD };
    let engines = Engines {
        dynamodb: skolnav_tests::dynamodb_endpoint().to_string(),
        moto: skolnav_tests::moto_endpoint().to_string(),
    };
    cases::verify_mail_domain(MAIL_DOMAIN).await?;
    // The functions verify RS256 tokens, as they do by default in production
    // (devkeys.rs says why); the local server's own issuer signs EdDSA.
    let issuer = DevIssuer::generate_rs256(ISSUER, AUDIENCE);
    let jwks = issuer.jwks_json();

    // C: the table the Lambda processes use. A: the in-process run that
    // records and meters. B: a copy of A taken before it, for the replay.
    let table_c = skolnav_tests::dynamo_store().await;
    let fixture_c = Fixture::seed(&table_c).await?;
    let meter = Arc::new(Meter::default());
    let table_a = skolnav_tests::dynamo_store().await;
    let fixture_a = Fixture::seed(&table_a).await?;
    let table_b = skolnav_tests::dynamo_store().await;
    copy_table(&table_a, &table_b).await?;
    let table_a_name = table_a.table().to_string();
    let recorder = Arc::new(RecordingStore::new(Arc::new(
        DynamoStore::new(skolnav_tests::dynamodb_client(), table_a_name).metered(meter.clone()),
    )));
    let ctx_a = in_process_ctx(recorder.clone(), &issuer);

    let mut figures = Figures::new();
    // Each function's log (bench/tmp/<function>.log, its init lines among
    // them) holds this run's processes only.
    for name in CASES
        .iter()
        .map(|c| c.function)
        .chain(["hello-lambda", USUAL])
        .chain(cases::EVENT_CASES.iter().copied())
        .filter(|n| ["hello-lambda", USUAL].contains(n) || only.includes(n))
    {
        let _ = std::fs::remove_file(root().join(format!("bench/tmp/{name}.log")));
    }

    let processes = Processes {
        table: table_c.table(),
        engines: &engines,
        jwks: &jwks,
        cold,
    };
    // The baseline first: hello world under the same runtime API.
    eprintln!("bench: hello-lambda");
    let hello = release_bin("hello-lambda")?;
    let hello_event = cases::http_event("directory-me", &cases::me_call(0), "no-token")?;
    figures.hello = run_function(&hello, &processes, &|_| hello_event.clone(), WARM, None).await?;

    // The second baseline: one GetItem per request, written the usual way,
    // of the record directory-me's caller reads (a different guardian each
    // invocation, as directory-me's). Not profiled: its code is not ours.
    if !profile {
        match usual_bin() {
            Some(usual) => {
                eprintln!("bench: {USUAL}");
                let events: Vec<String> = (0..COLD + WARM)
                    .map(|i| cases::http_event("directory-me", &cases::usual_call(i), "no-token"))
                    .collect::<BenchResult<_>>()?;
                let mut f =
                    run_function(&usual, &processes, &|i| events[i].clone(), WARM, None).await?;
                f.expected_status = 200;
                figures.usual = Some(f);
            }
            None => eprintln!("bench: {USUAL} is not built (scripts/build-release builds it)"),
        }
    }

    for case in cases::in_measuring_order().filter(|c| only.includes(c.function)) {
        eprintln!("bench: {}", case.function);
        let bin = release_bin(case.function)?;
        let calls: Vec<Call> = (0..COLD + WARM)
            .map(|i| (case.call)(&fixture_c, i))
            .collect();
        let events: Vec<String> = calls
            .iter()
            .map(|c| {
                let token = issuer.token_for(&c.who.to_string(), Duration::from_secs(3600));
                cases::http_event(case.function, c, &token)
            })
            .collect::<BenchResult<_>>()?;
        // In-process on A: what each invocation asks of DynamoDB, recorded
        // first, so that its replay can follow each warm invocation.
        let mut recorded = Vec::new();
        let mut dynamo = Vec::new();
        if !profile {
            for i in 0..COLD + WARM {
                let call = (case.call)(&fixture_a, i);
                let token = issuer.token_for(&call.who.to_string(), Duration::from_secs(3600));
                let res = skolnav::api::handle(&ctx_a, http_request(&call, &token)).await;
                if res.status().as_u16() != case.expected_status {
                    eprintln!(
                        "bench: {} in-process answered {} (want {})",
                        case.function,
                        res.status(),
                        case.expected_status
                    );
                }
                recorded.push(recorder.take());
                dynamo.push(meter.take());
            }
        }
        let replay = Replay {
            table: &table_b,
            recorded: &recorded,
        };
        let replay = (!profile).then_some(&replay);
        let mut f = run_function(&bin, &processes, &|i| events[i].clone(), WARM, replay).await?;
        f.expected_status = case.expected_status;
        f.dynamo = dynamo;
        f.kind = case.kind;
        figures.functions.push((case.function.to_string(), f));
    }

    for &function in cases::EVENT_CASES.iter().filter(|f| only.includes(f)) {
        eprintln!("bench: {function}");
        let events = cases::event_calls(function, &table_c).await?;
        let bin = release_bin(function)?;
        let mut f = run_function(&bin, &processes, &|i| events[i].clone(), 0, None).await?;
        f.kind = cases::Kind::Event;
        f.expected_status = 0;
        figures.functions.push((function.to_string(), f));
    }

    if profile {
        return Ok(figures);
    }
    eprintln!("bench: embedded store (SQLite)");
    let local_issuer = DevIssuer::generate(ISSUER, AUDIENCE);
    figures.sqlite = cases::sqlite_throughput(&local_issuer, only).await?;
    figures.sizes = report::package_sizes(&root(), only);
    Ok(figures)
}

/// `skolnav-bench import [PUPILS ...]` (default 10000): the import figures.
async fn run_import(sizes: Vec<usize>) -> BenchResult<()> {
    let engines = Engines {
        dynamodb: skolnav_tests::dynamodb_endpoint().to_string(),
        moto: skolnav_tests::moto_endpoint().to_string(),
    };
    let bin = release_bin("import-nightly")?;
    let spawn = |api: &RuntimeApi, table: &str, extra: &[(&'static str, String)]| {
        spawn_function(&bin, api, table, &engines, extra)
    };
    let figures = import::run(&sizes, &spawn, peak_rss_kib).await?;
    println!("{}", import::markdown(&figures));
    let out = root().join("bench/results/import.json");
    let json = serde_json::json!({
        "startedAt": chrono::Utc::now(),
        "machine": report::machine(),
        "goals": { "ratioToRaw": 1.5, "rerunItemsWritten": 0 },
        "runs": figures,
    });
    std::fs::write(
        &out,
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .map_err(|e| format!("writing {}: {e}", out.display()))?;
    eprintln!("bench: figures written to {}", out.display());
    Ok(())
}

/// `hot-code PROFILES BINARIES OUT` (from scripts/hot-code): the
/// callgrind dumps in PROFILES, of the binaries in BINARIES, as the
/// layout OUT (functions/hot-code.txt). A dump's function is its name up
/// to the first dot.
fn write_hot_code(args: &[String]) {
    let [profiles, binaries, out] = args else {
        eprintln!("bench: usage: skolnav-bench hot-code PROFILES BINARIES OUT");
        std::process::exit(2);
    };
    let mut dumps: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let entries = std::fs::read_dir(profiles).unwrap_or_else(|e| fail(&format!("{profiles}: {e}")));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((function, _)) = name.split_once('.') {
            dumps
                .entry(function.to_string())
                .or_default()
                .push(entry.path());
        }
    }
    let binaries =
        std::fs::canonicalize(binaries).unwrap_or_else(|e| fail(&format!("{binaries}: {e}")));
    let mut executed = BTreeMap::new();
    for (function, paths) in dumps {
        // Callgrind numbers a process's dumps from 1; the first ends as the
        // function first asks for an event: it is init.
        let (init, serving): (Vec<PathBuf>, Vec<PathBuf>) = paths
            .into_iter()
            .partition(|p| p.extension().is_some_and(|e| e == "1"));
        // One dump in memory at a time: a full profile is thousands of them.
        let names = |paths: Vec<PathBuf>| {
            let texts = paths.into_iter().map(|path| {
                std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())))
            });
            hot_code::executed_functions(texts, &binaries)
        };
        let ran = hot_code::Ran {
            at_init: names(init),
            serving: names(serving),
        };
        if ran.at_init.is_empty() || ran.serving.is_empty() {
            fail::<()>(&format!(
                "{function}'s dumps in {profiles} need code of {} run at init and serving events",
                binaries.display()
            ));
        }
        executed.insert(function, ran);
    }
    let counts: Vec<String> = executed
        .iter()
        .map(|(f, ran)| {
            format!(
                "  {f}: {} symbols ran at init, {} serving events",
                ran.at_init.len(),
                ran.serving.len()
            )
        })
        .collect();
    let mut layout = hot_code::layout(executed);
    // The functions not profiled now keep their patterns, and the counts
    // in its header, from the layout written before, if they are still
    // functions of the workspace.
    let functions = Path::new(out).parent().unwrap_or(Path::new("."));
    let previous = std::fs::read_to_string(out).unwrap_or_default();
    let kept = if previous.is_empty() {
        Vec::new()
    } else {
        let before =
            hot_code::Layout::read(&previous).unwrap_or_else(|e| fail(&format!("{out}: {e}")));
        hot_code::keep_unprofiled(&mut layout, &before, |f| functions.join(f).is_dir())
    };
    let mut counts: Vec<String> = counts
        .into_iter()
        .chain(previous.lines().filter_map(|l| {
            let count = l.strip_prefix("# ")?;
            let (function, _) = count.strip_prefix("  ")?.split_once(": ")?;
            kept.iter()
                .any(|f| f == function)
                .then(|| count.to_string())
        }))
        .collect();
    counts.sort_by(|a, b| a.split(':').next().cmp(&b.split(':').next()));
    let comment = format!(
        "Written by scripts/hot-code; do not edit. The code each function ran while the\n\
         benchmark drove it, which functions/hot-code.rs links first (why:\n\
         bench/src/hot_code.rs). {} patterns, {} of them ran only at init by some.\n{}",
        layout.ran.len(),
        layout.init_only.len(),
        counts.join("\n")
    );
    std::fs::write(out, layout.write(&comment)).unwrap_or_else(|e| fail(&format!("{out}: {e}")));
    println!(
        "bench: {} patterns of {} functions written to {out} ({} kept from before)",
        layout.ran.len(),
        layout.profiled.len(),
        kept.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
    };
    if args.first().map(String::as_str) == Some("import") {
        let sizes: Result<Vec<usize>, _> = args[1..].iter().map(|a| a.parse::<usize>()).collect();
        let sizes = match sizes {
            Ok(s) if s.is_empty() => vec![10_000],
            Ok(s) => s,
            Err(_) => {
                eprintln!("bench: usage: skolnav-bench import [PUPILS ...]");
                std::process::exit(2);
            }
        };
        if let Err(e) = runtime.block_on(run_import(sizes)) {
            eprintln!("bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    if args.first().map(String::as_str) == Some("absence") {
        let pupils = pupils_arg(&args, "absence");
        let started = chrono::Utc::now();
        let figures = runtime
            .block_on(absence::run(pupils))
            .unwrap_or_else(|e| fail(&e));
        let json = serde_json::json!({
            "startedAt": started,
            "machine": report::machine(),
            "figures": figures,
        });
        write_figures("absence.json", &json, &figures.to_markdown());
        return;
    }
    if args.first().map(String::as_str) == Some("notices") {
        let pupils = pupils_arg(&args, "notices");
        let figures = runtime
            .block_on(notices::run(pupils))
            .unwrap_or_else(|e| fail(&e));
        let json = serde_json::to_value(&figures).unwrap_or_default();
        write_figures("notices.json", &json, &figures.to_markdown());
        return;
    }
    if args.first().map(String::as_str) == Some("hot-code") {
        write_hot_code(&args[1..]);
        return;
    }
    let (only, profile) = match args.as_slice() {
        [] => (Selection::default(), false),
        [flag, names] if flag == "--only" => (
            Selection(Some(names.split(',').map(str::to_string).collect())),
            false,
        ),
        [profile, flag, names] if profile == "--profile" && flag == "--only" => (
            Selection(Some(names.split(',').map(str::to_string).collect())),
            true,
        ),
        _ => {
            eprintln!(
                "bench: usage: skolnav-bench [[--profile] --only FUNCTION,...] | import [PUPILS ...] | notices [PUPILS] | absence [PUPILS] | hot-code PROFILES BINARIES OUT"
            );
            std::process::exit(2);
        }
    };
    let figures = runtime
        .block_on(run(&only, profile))
        .unwrap_or_else(|e| fail(&e));
    if profile {
        eprintln!("bench: drove {} functions", figures.functions.len());
        return;
    }
    // A run of some functions does not replace the full run's figures.
    let file = if only.is_subset() {
        "subset.json"
    } else {
        "latest.json"
    };
    write_figures(file, &figures.to_json(), &figures.to_markdown());
}

/// The `[PUPILS]` argument of a scenario command (600 by default).
fn pupils_arg(args: &[String], command: &str) -> usize {
    match args.get(1).map(|a| a.parse::<usize>()) {
        None => 600,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("bench: usage: skolnav-bench {command} [PUPILS]");
            std::process::exit(2);
        }
    }
}

fn fail<T>(e: &str) -> T {
    eprintln!("bench: {e}");
    std::process::exit(1);
}

/// Prints the table and writes the figures to `bench/results/<file>`.
fn write_figures(file: &str, json: &serde_json::Value, markdown: &str) {
    let dir = root().join("bench/results");
    let _ = std::fs::create_dir_all(&dir);
    let out = dir.join(file);
    if let Err(e) = std::fs::write(&out, serde_json::to_string_pretty(json).unwrap_or_default()) {
        eprintln!("bench: writing {}: {e}", out.display());
    }
    println!("{markdown}");
    eprintln!("bench: figures written to {}", out.display());
}

/// The root certificates the functions load: the system's PEM bundle
/// (Debian or Amazon Linux path), or the file named by
/// `SKOLNAV_BENCH_CA_FILE` (to measure a smaller trust store).
fn ca_bundle() -> String {
    if let Some(file) = std::env::var_os("SKOLNAV_BENCH_CA_FILE") {
        return file.to_string_lossy().into_owned();
    }
    [
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/certs/ca-certificates.crt",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .unwrap_or("/etc/ssl/certs/ca-certificates.crt")
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str, error: bool) -> runtime_api::Outcome {
        runtime_api::Outcome {
            served_at: Instant::now(),
            answered_at: Instant::now(),
            body: bytes::Bytes::from(body.to_string()),
            error,
        }
    }

    /// An event function's answer carries no status code, so a failed
    /// invocation must not read as the 0 its cases expect.
    #[test]
    fn a_failed_invocation_or_batch_item_never_reads_as_an_expected_status() {
        assert_eq!(status_of(&answer(r#"{"statusCode":201}"#, false)), 201);
        assert_eq!(status_of(&answer(r#"{"batchItemFailures":[]}"#, false)), 0);
        assert_eq!(status_of(&answer(r#"{"released":0}"#, false)), 0);
        assert_eq!(
            status_of(&answer(
                r#"{"batchItemFailures":[{"itemIdentifier":"1"}]}"#,
                false
            )),
            FAILED
        );
        assert_eq!(status_of(&answer(r#"{"errorMessage":"x"}"#, true)), FAILED);
    }
}
