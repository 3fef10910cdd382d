//! One integration-test binary (one link, one DynamoDB Local per run).

mod absence_flow;
mod dynamodb_faults;
mod import;
mod openapi;
mod policy_matrix;
mod routes_template;
mod sample_events;
mod ses;
mod store_conformance;
mod tokens;
