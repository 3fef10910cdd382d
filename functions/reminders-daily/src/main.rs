//! Day-before reminders (talks now, other features later): a daily
//! schedule in Europe/Stockholm.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_reminders().await
}
