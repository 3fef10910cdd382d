//! Delivers unexcused-absence alerts from the table's stream (B6): SMS
//! through SNS, e-mail through SES.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_absence_alerts().await
}
