//! Releases scheduled news (C3): every few minutes, the notices of the
//! news whose publish time has come.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_news_release().await
}
