//! Forged and broken tokens through the HTTP surface: every one is a 401
//! problem, and none reaches a handler.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use skolnav::demo;
use skolnav::devkeys::DevIssuer;
use skolnav_tests::{Backend, TestApp};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({
        "iss": skolnav_local::ISSUER,
        "aud": skolnav_local::AUDIENCE,
        "sub": demo::guardian(1).to_string(),
        "iat": now(),
        "exp": now() + 600,
    })
}

fn signed(issuer: &DevIssuer, claims: &Value) -> String {
    encode(&issuer.header(), claims, issuer.encoding_key()).unwrap_or_default()
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    if let Some(map) = claims.as_object_mut() {
        map.remove(name);
    }
    claims
}

#[tokio::test]
async fn forged_expired_and_misaddressed_tokens_are_all_refused_with_401() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let good = claims();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());

    // The control: the same claims, properly signed, are accepted.
    let ok = app
        .get_with_authorization(&format!("Bearer {}", signed(&app.issuer, &good)), "/me")
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);

    let none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT", "kid": app.issuer.kid() })),
        b64(&good)
    );
    let public_x = app.issuer.jwks_json()["keys"][0]["x"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(app.issuer.kid().to_string());
    let hs256_with_public_key = encode(
        &hs_header,
        &good,
        &EncodingKey::from_secret(public_x.as_bytes()),
    )
    .unwrap_or_default();
    let stranger = DevIssuer::generate(skolnav_local::ISSUER, skolnav_local::AUDIENCE);
    let mut unknown_kid_header = app.issuer.header();
    unknown_kid_header.kid = Some("no-such-key".into());

    let cases: Vec<(&str, String)> = vec![
        ("no scheme", signed(&app.issuer, &good)),
        ("alg none", format!("Bearer {none}")),
        (
            "HS256 signed with the public key",
            format!("Bearer {hs256_with_public_key}"),
        ),
        (
            "expired",
            format!(
                "Bearer {}",
                signed(&app.issuer, &with(good.clone(), "exp", json!(now() - 3600)))
            ),
        ),
        (
            "exp as a string",
            format!(
                "Bearer {}",
                signed(&app.issuer, &with(good.clone(), "exp", json!("9999999999")))
            ),
        ),
        (
            "no exp",
            format!(
                "Bearer {}",
                signed(&app.issuer, &without(good.clone(), "exp"))
            ),
        ),
        (
            "wrong audience",
            format!(
                "Bearer {}",
                signed(
                    &app.issuer,
                    &with(good.clone(), "aud", json!("someone-else"))
                )
            ),
        ),
        (
            "no audience",
            format!(
                "Bearer {}",
                signed(&app.issuer, &without(good.clone(), "aud"))
            ),
        ),
        (
            "wrong issuer",
            format!(
                "Bearer {}",
                signed(
                    &app.issuer,
                    &with(good.clone(), "iss", json!("https://evil.example"))
                )
            ),
        ),
        (
            "unknown kid",
            format!(
                "Bearer {}",
                encode(&unknown_kid_header, &good, app.issuer.encoding_key()).unwrap_or_default()
            ),
        ),
        (
            "signed by another key",
            format!("Bearer {}", signed(&stranger, &good)),
        ),
        ("garbage", "Bearer not.a.token".to_string()),
    ];
    for (what, authorization) in cases {
        let res = app.get_with_authorization(&authorization, "/me").await;
        assert_eq!(res.status, 401, "{what}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json", "{what}");
        assert_eq!(
            res.json["type"], "https://skolnav.se/problems/unauthorized",
            "{what}"
        );
    }
    let missing = app
        .http
        .get(format!("{}/me", app.base))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert_eq!(missing, 401);
}

#[tokio::test]
async fn a_valid_token_for_someone_skolnav_does_not_know_is_refused_with_403() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let res = app.get(skolnav::ids::PersonId::generate(), "/me").await;
    assert_eq!(res.status, 403);
    assert_eq!(
        res.json["type"],
        "https://skolnav.se/problems/unknown-person"
    );
}

#[tokio::test]
async fn roles_come_from_stored_relations_not_from_token_claims() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // A guardian adds a "roles" claim that says admin: it changes nothing.
    let mut c = claims();
    c["roles"] = json!(["schoolAdmin", "principal"]);
    c["cognito:groups"] = json!(["admin"]);
    let res = app
        .get_with_authorization(
            &format!("Bearer {}", signed(&app.issuer, &c)),
            &format!("/schools/{}/absence-reports/pending", demo::school()),
        )
        .await;
    assert_eq!(res.status, 404);
    let me = app
        .get_with_authorization(&format!("Bearer {}", signed(&app.issuer, &c)), "/me")
        .await;
    assert_eq!(me.json["relations"][0]["kind"], "guardianOf");
}
