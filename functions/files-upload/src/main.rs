//! Serves the routes of `files-upload`: its own rows of skolnav::api::routes, so
//! the binary links only its own handlers; S3 for the files.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http_with_files(skolnav::api::routes::files_upload::ROUTES).await
}
