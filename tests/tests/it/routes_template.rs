//! The route table in code, the functions/ packages and infra/template.yaml
//! describe the same functions and routes; this test keeps them from
//! drifting apart.

use serde_yaml_ng::Value;
use skolnav::api::routes::{self, ROUTES};
use skolnav_tests::workspace_root;
use std::collections::BTreeSet;

fn template() -> Value {
    let path = workspace_root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("parsing the template: {e}"))
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Tagged(t) => str_of(&t.value),
        _ => None,
    }
}

/// (function, method, path) of every HttpApi event, and every function.
fn template_routes() -> (BTreeSet<(String, String, String)>, BTreeSet<String>) {
    let t = template();
    let mut routes = BTreeSet::new();
    let mut functions = BTreeSet::new();
    let resources = t["Resources"].as_mapping().cloned().unwrap_or_default();
    for (_, res) in resources {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = str_of(&res["Metadata"]["SkolnavFunction"])
            .unwrap_or_else(|| panic!("a function without Metadata.SkolnavFunction: {res:?}"));
        let code_uri = str_of(&res["Properties"]["CodeUri"]).unwrap_or_default();
        assert!(
            code_uri
                .trim_end_matches('/')
                .ends_with(&format!("target/lambda/{name}")),
            "{name}: CodeUri {code_uri} is not its cargo-lambda output"
        );
        functions.insert(name.clone());
        let events = res["Properties"]["Events"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        for (_, ev) in events {
            if ev["Type"].as_str() == Some("HttpApi") {
                let method = str_of(&ev["Properties"]["Method"]).unwrap_or_default();
                let path = str_of(&ev["Properties"]["Path"]).unwrap_or_default();
                routes.insert((name.clone(), method.to_uppercase(), path));
            }
        }
    }
    (routes, functions)
}

#[test]
fn the_template_declares_exactly_the_routes_of_the_route_table() {
    let (in_template, _) = template_routes();
    let in_code: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.function.to_string(),
                r.method.to_string(),
                r.path.to_string(),
            )
        })
        .collect();
    assert_eq!(in_template, in_code);
}

#[test]
fn every_function_has_a_package_a_template_resource_and_a_sample_event() {
    let (_, in_template) = template_routes();
    let in_code: BTreeSet<String> = routes::functions().into_iter().map(String::from).collect();
    assert_eq!(in_template, in_code, "template functions vs route table");
    let packages: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().join("Cargo.toml").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(packages, in_code, "functions/ packages vs route table");
    for f in &in_code {
        let event = workspace_root().join(format!("events/{f}.json"));
        assert!(event.is_file(), "missing sample event {}", event.display());
    }
}

/// Every function links the code that runs per request ahead of the rest
/// (`functions/hot-code.rs` writes its linker script from
/// `functions/hot-code.txt`, the code each function ran):
/// without it, its code pages, most of its memory, spread over all of
/// `.text` again. Hello world, the benchmark's baseline, is built plainly.
#[test]
fn every_function_is_built_with_its_hot_code_first() {
    for f in routes::functions() {
        let path = workspace_root().join(format!("functions/{f}/Cargo.toml"));
        let manifest = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        assert!(
            manifest
                .lines()
                .any(|l| l.trim() == r#"build = "../hot-code.rs""#),
            "{} should say build = \"../hot-code.rs\"",
            path.display()
        );
    }
    let layout = std::fs::read_to_string(workspace_root().join("functions/hot-code.txt"))
        .expect("functions/hot-code.txt (scripts/hot-code writes it)");
    let profiled = layout
        .lines()
        .find_map(|l| l.strip_prefix("profiled: "))
        .expect("the layout names the profiled functions");
    assert!(
        profiled.split(' ').any(|f| f == "directory-me"),
        "{profiled}"
    );
    assert!(layout.lines().any(|l| l == "ran by: all"));
    let hello = std::fs::read_to_string(workspace_root().join("bench/hello/Cargo.toml")).unwrap();
    assert!(
        !hello.contains("hot-code"),
        "the baseline is built the usual way"
    );
}

/// Each HTTP function's `main` serves its own module of the route table
/// (`routes::directory_me::ROUTES` for directory-me): the module is what
/// keeps the other handlers out of its binary, so a function that named
/// another's module would build, and serve the wrong routes.
#[test]
fn each_http_function_serves_its_own_rows_of_the_route_table() {
    let http: BTreeSet<&str> = ROUTES.iter().map(|r| r.function).collect();
    for f in http {
        let path = workspace_root().join(format!("functions/{f}/src/main.rs"));
        let main = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let own = format!("routes::{}::ROUTES", f.replace('-', "_"));
        assert!(main.contains(&own), "{} should serve {own}", path.display());
        assert_eq!(
            main.matches("::ROUTES").count(),
            1,
            "{} should serve only its own rows",
            path.display()
        );
    }
}

#[test]
fn the_table_in_the_template_has_the_keys_indexes_ttl_and_stream_the_code_uses() {
    let t = template();
    let table = t["Resources"]
        .as_mapping()
        .and_then(|m| {
            m.values()
                .find(|r| r["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no table in the template"));
    let props = &table["Properties"];
    let names = |v: &Value| -> Vec<String> {
        v.as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|e| str_of(&e["AttributeName"]))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(&props["KeySchema"]), ["PK", "SK"]);
    let gsis: Vec<(String, Vec<String>)> = props["GlobalSecondaryIndexes"]
        .as_sequence()
        .map(|s| {
            s.iter()
                .map(|g| {
                    (
                        str_of(&g["IndexName"]).unwrap_or_default(),
                        names(&g["KeySchema"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        gsis,
        [
            (
                "GSI1".to_string(),
                vec!["GSI1PK".to_string(), "GSI1SK".to_string()]
            ),
            (
                "GSI2".to_string(),
                vec!["GSI2PK".to_string(), "GSI2SK".to_string()]
            ),
        ]
    );
    assert_eq!(
        str_of(&props["TimeToLiveSpecification"]["AttributeName"]).as_deref(),
        Some(skolnav::store::attr::EXPIRES_AT)
    );
    assert_eq!(
        str_of(&props["StreamSpecification"]["StreamViewType"]).as_deref(),
        Some("NEW_AND_OLD_IMAGES")
    );
}
