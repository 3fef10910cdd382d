//! `cargo run -p skolnav-local`: the whole platform on one port.
//!
//! Environment: SKOLNAV_PORT (default 3000), SKOLNAV_DATA (default
//! ./.skolnav-local: the SQLite file and the outbox folder).

use skolnav::api::Ctx;
use skolnav::auth::Authenticator;
use skolnav::clock::SystemClock;
use skolnav::demo;
use skolnav::devkeys::DevIssuer;
use skolnav::mail::FolderMailer;
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

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let base = format!("http://127.0.0.1:{port}");
    let issuer = Arc::new(DevIssuer::generate(ISSUER, AUDIENCE));
    let auth = Authenticator::new(issuer.auth_config(&format!("{base}/.well-known/jwks.json")));
    let clock = Arc::new(SystemClock);
    let ctx = Ctx {
        store: store.clone(),
        auth: Arc::new(auth),
        clock: clock.clone(),
    };
    let mailer = Arc::new(FolderMailer::new(&outbox_dir, "no-reply@skolnav.local"));
    tokio::spawn(skolnav_local::outbox_worker(
        store,
        mailer,
        clock,
        Duration::from_millis(500),
    ));

    print_welcome(&base, &data, seeded);
    axum::serve(listener, skolnav_local::router(ctx, issuer)).await?;
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
