//! `cargo run -p skolnav-local`: the whole platform on one port.
//! `cargo run -p skolnav-local -- import [--dry-run] [--full]`: one import
//! run from the student registry into the local store, then exit.
//!
//! Environment: SKOLNAV_PORT (default 3000), SKOLNAV_DATA (default
//! ./.skolnav-local: the SQLite file and the outbox folder), and
//! SKOLNAV_SS12000_URL, _TOKEN_URL, _CLIENT_ID, _CLIENT_SECRET for a real
//! registry (without them the import reads a generated demo registry).

use skolnav::api::Ctx;
use skolnav::auth::Authenticator;
use skolnav::clock::SystemClock;
use skolnav::demo;
use skolnav::devkeys::DevIssuer;
use skolnav::files::FolderFiles;
use skolnav::mail::FolderMailer;
use skolnav::sms::FolderSmsSender;
use skolnav::store::sqlite::SqliteStore;
use skolnav_local::{AUDIENCE, ISSUER};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let port: u16 = match std::env::var("SKOLNAV_PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("SKOLNAV_PORT={p} is not a port"))?,
        Err(_) => 3000,
    };
    let data = PathBuf::from(std::env::var("SKOLNAV_DATA").unwrap_or(".skolnav-local".into()));
    std::fs::create_dir_all(&data)?;
    let outbox_dir = data.join("outbox");

    let store = Arc::new(SqliteStore::open(&data.join("skolnav.sqlite"))?);
    let seeded = demo::seed(store.as_ref()).await?;
    if seeded {
        // This week's demo lessons (A4), so the day views have something
        // to show before any import ran.
        use chrono::Datelike;
        let today = skolnav::clock::Clock::today(&SystemClock);
        let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
        for d in 0..5 {
            demo::seed_lessons(store.as_ref(), monday + chrono::Days::new(d)).await?;
        }
    }
    let (registry, registry_line) = skolnav_local::registry().await?;

    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("import") {
        return import_once(store.as_ref(), registry.as_ref(), &args[1..]).await;
    }

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let base = format!("http://127.0.0.1:{port}");
    let issuer = Arc::new(DevIssuer::generate(ISSUER, AUDIENCE));
    let auth = Authenticator::new(issuer.auth_config(&format!("{base}/.well-known/jwks.json")));
    let clock = Arc::new(SystemClock);
    let files = Arc::new(FolderFiles::new(data.join("files"), &base));
    let ctx = Ctx {
        store: store.clone(),
        auth: Arc::new(auth),
        clock: clock.clone(),
        files: files.clone(),
    };
    let mailer = Arc::new(FolderMailer::new(&outbox_dir, "no-reply@skolnav.local"));
    let sms = Arc::new(FolderSmsSender::new(&outbox_dir));
    tokio::spawn(skolnav_local::outbox_worker(
        store.clone(),
        mailer,
        sms,
        clock.clone(),
        Duration::from_millis(500),
    ));
    tokio::spawn(skolnav_local::reminders_worker(
        store.clone(),
        clock.clone(),
        Duration::from_secs(60),
    ));
    tokio::spawn(skolnav_local::news_worker(
        store.clone(),
        clock.clone(),
        Duration::from_secs(10),
    ));
    tokio::spawn(skolnav_local::import_worker(
        store,
        registry,
        clock,
        Duration::from_secs(2),
    ));

    print_welcome(&base, &data, seeded);
    println!(
        "Import: {registry_line}; as org-admin POST {base}/organisations/{}/imports",
        demo::organisation()
    );
    println!();
    axum::serve(listener, skolnav_local::router(ctx, issuer, files)).await?;
    Ok(())
}

fn print_welcome(base: &str, data: &std::path::Path, seeded: bool) {
    println!();
    println!("Skolnav is running at {base}");
    println!(
        "Store: {} ({})",
        data.join("skolnav.sqlite").display(),
        if seeded {
            "demo school created"
        } else {
            "existing data"
        }
    );
    println!(
        "Mail: every e-mail lands as an .eml file in {}",
        data.join("outbox").display()
    );
    println!(
        "SMS: every text lands as a line of {}",
        data.join("outbox").join("sms.jsonl").display()
    );
    println!(
        "Files: uploads land in {} (signed URLs under {base}/local-files/)",
        data.join("files").display()
    );
    println!();
    println!("Demo logins (school Solrosskolan, id {}):", demo::school());
    for l in demo::logins() {
        println!("  {:<12} {}  {}", l.login, l.person, l.what);
    }
    println!();
    println!("Get a token:   TOKEN=$(curl -s {base}/dev/token/guardian)");
    println!("Use it:        curl -s -H \"Authorization: Bearer $TOKEN\" {base}/me");
    println!("README.md walks through reporting and approving an absence.");
    println!();
}

/// `import [--dry-run] [--full]`: one run, its record printed as JSON.
async fn import_once(
    store: &dyn skolnav::store::Store,
    registry: &dyn skolnav::import::source::Source,
    flags: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    use skolnav::clock::Clock;
    let mut options = skolnav::import::Options::new(SystemClock.now(), SystemClock.today());
    for flag in flags {
        match flag.as_str() {
            "--dry-run" => options.dry_run = true,
            "--full" => options.force_full = true,
            other => {
                return Err(format!("unknown flag {other}: use --dry-run and/or --full").into());
            }
        }
    }
    match skolnav::import::run(store, registry, options).await? {
        skolnav::import::Outcome::Ran(record) => {
            println!("{}", serde_json::to_string_pretty(&record)?);
            if record.status == skolnav::import::record::Status::Failed {
                return Err("the import run failed (see its record above)".into());
            }
        }
        skolnav::import::Outcome::AlreadyRunning { run_id, until } => {
            return Err(format!("import run {run_id} holds the lease until {until}").into());
        }
    }
    Ok(())
}
