//! What a release build can write to the log. At trace level the AWS SDK
//! logs every request and response it sends and receives, bodies included
//! (aws-smithy-runtime's "transmitting request", "received response from
//! service", `output_or_error`): a pupil's name, personal number or
//! absence reason would reach CloudWatch if someone set RUST_LOG=trace on
//! a function. Release builds compile those events out.

use skolnav_tests::workspace_root;
use std::process::Command;

/// The features cargo resolves for `tracing` in this workspace.
fn resolved_tracing_features() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Offline, only this machine's platform: the whole resolve names
    // crates for other platforms (android_system_properties) that a build
    // here never downloads, and a fresh machine would fail on them.
    let platform = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &platform])
        .current_dir(workspace_root())
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let nodes = metadata["resolve"]["nodes"]
        .as_array()
        .expect("cargo metadata resolves the workspace");
    let tracing = nodes
        .iter()
        .find(|n| {
            n["id"]
                .as_str()
                .is_some_and(|id| id.contains("#tracing@0.1"))
        })
        .expect("the workspace depends on tracing 0.1");
    tracing["features"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(String::from))
        .collect()
}

/// The most a release build of `tracing` can log, as its
/// `STATIC_MAX_LEVEL` decides it: the lowest `release_max_level_*` feature,
/// else the lowest `max_level_*`, else trace.
fn release_max_level(features: &[String]) -> &'static str {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    ["release_max_level_", "max_level_"]
        .iter()
        .find_map(|prefix| {
            LEVELS
                .into_iter()
                .find(|level| features.iter().any(|f| *f == format!("{prefix}{level}")))
        })
        .unwrap_or("trace")
}

#[test]
fn release_builds_cannot_log_the_sdk_request_and_response_bodies() {
    let features = resolved_tracing_features();
    let level = release_max_level(&features);
    assert_ne!(
        level, "trace",
        "tracing should have a release_max_level below trace (workspace Cargo.toml), \
         so that RUST_LOG=trace cannot make a Lambda log request bodies; resolved: {features:?}"
    );
}
