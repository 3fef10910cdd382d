//! Serves the routes of `news-publish` in skolnav::api::routes.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http("news-publish").await
}
