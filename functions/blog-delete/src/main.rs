//! Serves the routes of `blog-delete`: its own rows of skolnav::api::routes, so
//! the binary links only its own handlers.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http_with_files(skolnav::api::routes::blog_delete::ROUTES).await
}
