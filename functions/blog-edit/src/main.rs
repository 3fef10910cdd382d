//! Serves the routes of `blog-edit`: its own rows of skolnav::api::routes, so
//! the binary links only its own handlers; S3 to check and keep attached files.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http_with_files(skolnav::api::routes::blog_edit::ROUTES).await
}
