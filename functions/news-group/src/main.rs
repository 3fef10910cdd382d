//! Serves the routes of `news-group` in skolnav::api::routes.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http("news-group").await
}
