//! Serves the routes of `calendar-create`: its own rows of skolnav::api::routes, so
//! the binary links only its own handlers; S3 to check and keep attached files.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http_with_files(skolnav::api::routes::calendar_create::ROUTES).await
}
