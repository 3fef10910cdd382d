//! Serves the routes of `talk-slot-remove` in skolnav::api::routes.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http("talk-slot-remove").await
}
