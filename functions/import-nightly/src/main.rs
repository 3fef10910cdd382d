//! The nightly import from the student registry (SS 12000): the 02:00
//! schedule, and runs requested through the API.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), skolnav::lambda::Error> {
    skolnav::lambda::run_import().await
}
