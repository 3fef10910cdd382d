//! Serves the routes of `absence-today` in skolnav::api::routes.

#[tokio::main]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_http("absence-today").await
}
