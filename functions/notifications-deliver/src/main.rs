//! Delivers outbox items from the table's stream (e-mail through SES).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_outbox_stream().await
}
