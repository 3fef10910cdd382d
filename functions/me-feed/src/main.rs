//! Serves the routes of `me-feed`: its own rows of skolnav::api::routes, so
//! the binary links only its own handlers.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http(skolnav::api::routes::me_feed::ROUTES).await
}
