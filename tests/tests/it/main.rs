//! One integration-test binary (one link, one DynamoDB Local per run).

mod store_conformance;
