//! One integration-test binary (one link, one DynamoDB Local per run).

/// Runs each named `async fn case(Backend)` of the module once on SQLite
/// and once on DynamoDB Local, as `<module>::sqlite::<case>` and
/// `<module>::dynamodb::<case>`.
macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(skolnav_tests::Backend::Sqlite).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(skolnav_tests::Backend::Dynamo).await;
                }
            )*
        }
    };
}

mod absence_flow;
mod alerts;
mod answers;
mod attendance;
mod bad_input;
mod blog;
mod calendar;
mod dynamodb_faults;
mod feed;
mod files;
mod import;
mod lessons;
mod news;
mod openapi;
mod outsiders;
mod pages;
mod policy_matrix;
mod preferences;
mod reads;
mod release_logging;
mod reports;
mod retries;
mod routes_template;
mod sample_events;
mod school_settings;
mod ses;
mod store_conformance;
mod talks;
mod tokens;
