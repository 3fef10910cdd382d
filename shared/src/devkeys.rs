//! The local issuer: signs tokens for demo users with its own Ed25519 key and publishes the
//! public half as a JWKS, so that local runs go through the production verification path
//! ([`crate::auth::Authenticator`]) instead of a shortcut.
//!
//! The benchmark signs with RSA instead ([`DevIssuer::generate_rs256`]): RS256 is what the
//! functions accept by default and what the IdPs they face sign with (OpenID Connect requires
//! it of every provider), and its signatures are checked in about half the time of Ed25519's.
//!
//! The key is generated in memory at start-up and never written anywhere; restarting the local
//! server invalidates every token it handed out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{EncodePrivateKey, PrivateKeyInfo};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::auth::AuthConfig;

/// A signing key for demo users plus the issuer and audience it signs for.
///
/// `Debug` does not show the private key (jsonwebtoken redacts `EncodingKey`).
#[derive(Clone, Debug)]
pub struct DevIssuer {
    issuer: String,
    audience: String,
    kid: String,
    jwk: Jwk,
    encoding_key: EncodingKey,
    algorithm: Algorithm,
}

#[derive(Serialize)]
struct DevClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
}

impl DevIssuer {
    /// A fresh Ed25519 key from 32 bytes of OS randomness.
    ///
    /// Panics only if the OS has no random source, which leaves nothing sensible to do.
    pub fn generate(issuer: &str, audience: &str) -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the OS random source is unavailable");
        let signing_key = SigningKey::from_bytes(&seed);
        seed.fill(0);

        // PKCS#8 DER is what jsonwebtoken's EdDSA signer parses.
        let der = signing_key
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes as PKCS#8");
        let encoding_key = EncodingKey::from_ed_der(der.as_bytes());

        let public = signing_key.verifying_key().to_bytes();
        let jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(public),
            }),
        };
        Self::with_key(issuer, audience, jwk, encoding_key, Algorithm::EdDSA)
    }

    /// A fresh RSA key of 2048 bits, signing RS256 (what the benchmark's functions verify,
    /// as in production). Generating it takes tens of milliseconds, so the local server keeps
    /// Ed25519.
    ///
    /// Panics only if the OS has no random source.
    pub fn generate_rs256(issuer: &str, audience: &str) -> Self {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .expect("the OS random source is unavailable");
        let pkcs8 = pair.as_der().expect("an RSA key always encodes as PKCS#8");
        // jsonwebtoken signs with the PKCS#1 key that PKCS#8 wraps.
        let info = PrivateKeyInfo::try_from(pkcs8.as_ref()).expect("PKCS#8 we just encoded");
        let encoding_key = EncodingKey::from_rsa_der(info.private_key);
        let mut jwk = Jwk::from_encoding_key(&encoding_key, Algorithm::RS256)
            .expect("an RSA private key has public components");
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Self::with_key(issuer, audience, jwk, encoding_key, Algorithm::RS256)
    }

    fn with_key(
        issuer: &str,
        audience: &str,
        mut jwk: Jwk,
        encoding_key: EncodingKey,
        algorithm: Algorithm,
    ) -> Self {
        // The RFC 7638 thumbprint as kid: stable for the key, distinct between keys.
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .expect("an OKP or RSA JWK has a thumbprint");
        jwk.common.key_id = Some(kid.clone());

        DevIssuer {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            kid,
            jwk,
            encoding_key,
            algorithm,
        }
    }

    /// The public key as a JWK set (one key with kid, alg and use sig: OKP crv Ed25519 for
    /// EdDSA, RSA n and e for RS256).
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    /// The JWK set as JSON, ready to serve at the local JWKS URL.
    pub fn jwks_json(&self) -> serde_json::Value {
        serde_json::to_value(self.jwks()).expect("a JwkSet always serializes")
    }

    /// A signed token for `subject`: `iss` and `aud` as configured, `iat` and `nbf` now,
    /// `exp` now + `ttl`; header `alg` (EdDSA or RS256), `typ: JWT`, `kid`.
    pub fn token_for(&self, subject: &str, ttl: Duration) -> String {
        let now = unix_now();
        let claims = DevClaims {
            iss: &self.issuer,
            aud: &self.audience,
            sub: subject,
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl.as_secs()),
        };
        jsonwebtoken::encode(&self.header(), &claims, &self.encoding_key)
            .expect("signing with our own key cannot fail")
    }

    /// The verifier's configuration matching this issuer (algorithms pinned to its one).
    pub fn auth_config(&self, jwks_url: &str) -> AuthConfig {
        AuthConfig {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            jwks_url: jwks_url.to_owned(),
            algorithms: vec![self.algorithm],
        }
    }

    /// The key id in the JWKS and in every token header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key, for tests that sign tokens with odd claims or headers.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding_key
    }

    /// The issuer (`iss`) this key signs for.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience (`aud`) this key signs for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The header used by [`DevIssuer::token_for`]: this key's algorithm and kid, JWT.
    pub fn header(&self) -> Header {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        header
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_key_is_an_okp_ed25519_jwk_with_kid_alg_and_use() {
        let issuer = DevIssuer::generate("https://dev.skolnav.local", "skolnav-api");
        let json = issuer.jwks_json();
        let keys = json["keys"].as_array().expect("keys array");
        assert_eq!(keys.len(), 1);
        let key = &keys[0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kid"], issuer.kid());
        let x = URL_SAFE_NO_PAD
            .decode(key["x"].as_str().expect("x"))
            .expect("x is base64url");
        assert_eq!(x.len(), 32);
        // Only public parameters are published.
        assert!(key.get("d").is_none());
    }

    #[test]
    fn the_jwks_json_parses_back_into_the_same_jwk_set() {
        let issuer = DevIssuer::generate("iss", "aud");
        let parsed: JwkSet = serde_json::from_value(issuer.jwks_json()).expect("JwkSet");
        assert_eq!(parsed, issuer.jwks());
        assert!(parsed.find(issuer.kid()).is_some());
    }

    #[test]
    fn two_generated_issuers_have_different_keys_and_kids() {
        let a = DevIssuer::generate("iss", "aud");
        let b = DevIssuer::generate("iss", "aud");
        assert_ne!(a.kid(), b.kid());
        assert_ne!(a.jwks(), b.jwks());
    }

    #[test]
    fn a_token_carries_issuer_audience_subject_and_expiry_in_the_given_ttl() {
        let issuer = DevIssuer::generate("https://dev.skolnav.local", "skolnav-api");
        let token = issuer.token_for("user-42", Duration::from_secs(3600));
        let data = jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(&token)
            .expect("well-formed token");
        assert_eq!(data.header.alg, Algorithm::EdDSA);
        assert_eq!(data.header.kid.as_deref(), Some(issuer.kid()));
        let claims = data.claims;
        assert_eq!(claims["iss"], "https://dev.skolnav.local");
        assert_eq!(claims["aud"], "skolnav-api");
        assert_eq!(claims["sub"], "user-42");
        let now = unix_now();
        let exp = claims["exp"].as_u64().expect("numeric exp");
        assert!(
            exp >= now + 3590 && exp <= now + 3610,
            "exp {exp} vs now {now}"
        );
    }

    #[test]
    fn the_auth_config_pins_eddsa_and_names_this_issuer_and_audience() {
        let issuer = DevIssuer::generate("iss-x", "aud-y");
        let config = issuer.auth_config("http://127.0.0.1:1/jwks.json");
        assert_eq!(config.issuer, "iss-x");
        assert_eq!(config.audience, "aud-y");
        assert_eq!(config.jwks_url, "http://127.0.0.1:1/jwks.json");
        assert_eq!(config.algorithms, vec![Algorithm::EdDSA]);
    }

    #[test]
    fn an_rs256_issuer_publishes_an_rsa_jwk_of_2048_bits_without_private_parts() {
        let issuer = DevIssuer::generate_rs256("iss", "aud");
        let json = issuer.jwks_json();
        let key = &json["keys"][0];
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["kid"], issuer.kid());
        let n = URL_SAFE_NO_PAD
            .decode(key["n"].as_str().expect("n"))
            .expect("n is base64url");
        assert_eq!(n.len(), 256);
        assert_eq!(key["e"], "AQAB");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{private} is published");
        }
    }

    #[tokio::test]
    async fn an_rs256_token_passes_the_verifier_pinned_to_rs256_and_no_other() {
        use crate::auth::Authenticator;
        let issuer = DevIssuer::generate_rs256("iss", "aud");
        let token = issuer.token_for("person-7", Duration::from_secs(60));
        let header = jsonwebtoken::decode_header(&token).expect("a JWS header");
        assert_eq!(header.alg, Algorithm::RS256);
        let bearer = format!("Bearer {token}");

        let config = issuer.auth_config("http://127.0.0.1:9/unused");
        assert_eq!(config.algorithms, vec![Algorithm::RS256]);
        let rs256 = Authenticator::with_keys(config.clone(), issuer.jwks());
        let caller = rs256.verify(Some(&bearer)).await.expect("accepted");
        assert_eq!(caller.subject, "person-7");

        let eddsa_only = AuthConfig {
            algorithms: vec![Algorithm::EdDSA],
            ..config
        };
        let eddsa = Authenticator::with_keys(eddsa_only, issuer.jwks());
        assert!(eddsa.verify(Some(&bearer)).await.is_err());
    }

    #[test]
    fn the_debug_output_does_not_show_the_private_key() {
        let issuer = DevIssuer::generate("iss", "aud");
        let debug = format!("{issuer:?}");
        assert!(debug.contains("redacted"), "{debug}");
    }
}
