//! Serves the routes of `news-school` in skolnav::api::routes.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http("news-school").await
}
