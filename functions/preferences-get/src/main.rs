//! Serves the routes of `preferences-get` in skolnav::api::routes.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http("preferences-get").await
}
