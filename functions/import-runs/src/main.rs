//! Serves the routes of `import-runs` in skolnav::api::routes.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http("import-runs").await
}
