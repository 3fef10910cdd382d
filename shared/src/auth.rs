//! Verifying the caller's JWT (OIDC ID or access token from the municipality's IdP).
//!
//! API Gateway has already checked the token; the function checks it again here. The token only
//! names the person (`sub`): what the person may do comes from relations in the table, never
//! from claims in the token.
//!
//! Checks, in order:
//! 1. `Authorization: Bearer <token>` (scheme case-insensitive), token shaped like a JWS.
//! 2. Header `alg` pinned to [`AuthConfig::algorithms`]; `none` and HS* are never accepted,
//!    whatever the configuration says. A `crit` header is refused (we understand no extension).
//! 3. Header `kid` present and found in the JWKS; an unknown kid refetches the JWKS, at most once
//!    per [`MIN_REFETCH_INTERVAL`]. The key's own `alg` (if published) must equal the token's,
//!    and its type/curve must fit the algorithm. Symmetric (`oct`) keys are never loaded.
//! 4. Signature, then claims: `exp` required and numeric, `nbf` checked if present, leeway
//!    [`LEEWAY`]; `iss` required and equal to the configured issuer; `aud` required and
//!    containing the configured audience; `sub` required and non-empty.
//!
//! Keys are cached inside the [`Authenticator`] (one per Lambda instance) and refreshed after
//! [`KEYS_MAX_AGE`]. If a refresh fails, the previous keys keep being used (and the refresh is
//! retried at most once per [`MIN_REFETCH_INTERVAL`]).
//!
//! Logging: only `kid`, `alg` and the refusal reason; never the token or its claims. The reasons
//! in [`AuthError::Invalid`] are fixed texts (plus claim names / kid / alg), safe to log, but not
//! meant for clients: answer 401 without detail.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde::Deserialize;

use crate::http_client::Http;

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY: Duration = Duration::from_secs(30);
/// Cached keys are refreshed when older than this.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// At most one JWKS fetch per this interval for an unknown kid or after a failed refresh.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

const ENV_ISSUER: &str = "SKOLNAV_JWT_ISSUER";
const ENV_AUDIENCE: &str = "SKOLNAV_JWT_AUDIENCE";
const ENV_JWKS_URL: &str = "SKOLNAV_JWKS_URL";
const ENV_ALGORITHMS: &str = "SKOLNAV_JWT_ALGORITHMS";
const DEFAULT_ALGORITHMS: &str = "RS256";

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_JWKS_BYTES: usize = 256 * 1024;
const MAX_TOKEN_BYTES: usize = 16 * 1024;
const MIN_RSA_MODULUS_BYTES: usize = 2048 / 8;

// ---------------------------------------------------------------------------------------------
// Configuration

/// Who may issue tokens for us, for whom, and with which algorithms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    /// Expected `iss`, compared exactly.
    pub issuer: String,
    /// Expected member of `aud`.
    pub audience: String,
    /// Where the issuer publishes its JWKS.
    pub jwks_url: String,
    /// Accepted header `alg` values. HS* in here is ignored by [`Authenticator`] (and refused
    /// by [`AuthConfig::from_env`]).
    pub algorithms: Vec<Algorithm>,
}

impl AuthConfig {
    /// Reads `SKOLNAV_JWT_ISSUER`, `SKOLNAV_JWT_AUDIENCE`, `SKOLNAV_JWKS_URL` (required) and
    /// `SKOLNAV_JWT_ALGORITHMS` (comma list, default `RS256`). The error names the variable.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let required = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("environment variable {name} is not set"))
        };
        let issuer = required(ENV_ISSUER)?;
        let audience = required(ENV_AUDIENCE)?;
        let jwks_url = required(ENV_JWKS_URL)?;
        let algorithms = match get(ENV_ALGORITHMS) {
            Some(list) if !list.trim().is_empty() => parse_algorithms(&list),
            _ => parse_algorithms(DEFAULT_ALGORITHMS),
        }
        .map_err(|e| format!("environment variable {ENV_ALGORITHMS}: {e}"))?;
        Ok(AuthConfig {
            issuer,
            audience,
            jwks_url,
            algorithms,
        })
    }
}

/// Parses a comma list of JWS algorithm names (`RS256, ES256`). `none`, HS* and unknown names
/// are errors; duplicates are dropped; an empty list is an error.
pub fn parse_algorithms(list: &str) -> Result<Vec<Algorithm>, String> {
    let mut algorithms = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name.eq_ignore_ascii_case("none") {
            return Err("alg none is never accepted".to_owned());
        }
        let alg = Algorithm::from_str(name).map_err(|_| format!("unknown algorithm {name:?}"))?;
        if alg.family() == AlgorithmFamily::Hmac {
            return Err(format!(
                "{name} is refused: HMAC algorithms are never accepted (shared secret, key confusion)"
            ));
        }
        if !algorithms.contains(&alg) {
            algorithms.push(alg);
        }
    }
    if algorithms.is_empty() {
        return Err("no algorithm given".to_owned());
    }
    Ok(algorithms)
}

// ---------------------------------------------------------------------------------------------
// Public result and error types

/// The authenticated person: the token's `sub`. Roles are NOT taken from the token.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Caller {
    pub subject: String,
}

/// Why a request is not authenticated. `Missing`, `Malformed` and `Invalid` are the caller's
/// fault (answer 401); `KeysUnavailable` is ours or the IdP's (answer 503 or 401, and alert).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no Authorization header")]
    Missing,
    #[error("Authorization header is not a Bearer JWT")]
    Malformed,
    /// The reason is for logs, never shown to clients.
    #[error("token refused: {0}")]
    Invalid(String),
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

fn invalid(reason: impl Into<String>) -> AuthError {
    AuthError::Invalid(reason.into())
}

// ---------------------------------------------------------------------------------------------
// Keys

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

/// One usable verification key from the JWKS.
#[derive(Clone)]
struct VerifyKey {
    key: DecodingKey,
    /// The key's own `alg`, if the JWKS publishes one.
    alg: Option<Algorithm>,
    kind: KeyKind,
}

impl VerifyKey {
    fn accepts(&self, alg: Algorithm) -> bool {
        if self.alg.is_some_and(|own| own != alg) {
            return false;
        }
        kind_fits(self.kind, alg)
    }
}

fn kind_fits(kind: KeyKind, alg: Algorithm) -> bool {
    match kind {
        KeyKind::Rsa => alg.family() == AlgorithmFamily::Rsa,
        KeyKind::EcP256 => alg == Algorithm::ES256,
        KeyKind::EcP384 => alg == Algorithm::ES384,
        KeyKind::Ed25519 => alg == Algorithm::EdDSA,
    }
}

type KeyMap = HashMap<String, Vec<VerifyKey>>;

fn b64_len(value: &str) -> Option<usize> {
    URL_SAFE_NO_PAD.decode(value).ok().map(|bytes| bytes.len())
}

/// Turns one JWK into a verification key, or says why it is skipped.
fn usable_key(jwk: &Jwk) -> Result<(String, VerifyKey), &'static str> {
    let kid = jwk
        .common
        .key_id
        .as_deref()
        .filter(|k| !k.is_empty())
        .ok_or("no kid")?;
    match &jwk.common.public_key_use {
        None | Some(PublicKeyUse::Signature) => {}
        Some(_) => return Err("use is not sig"),
    }
    if let Some(ops) = &jwk.common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return Err("key_ops lacks verify");
    }
    let alg = match jwk.common.key_algorithm {
        None => None,
        Some(key_alg) => {
            let alg = Algorithm::try_from(key_alg).map_err(|_| "alg is not a JWS algorithm")?;
            if alg.family() == AlgorithmFamily::Hmac {
                return Err("HMAC key");
            }
            Some(alg)
        }
    };
    let (key, kind) = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let n = URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .map_err(|_| "RSA n is not base64url")?;
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err("RSA key shorter than 2048 bits");
            }
            let key = DecodingKey::from_rsa_components(&rsa.n, &rsa.e)
                .map_err(|_| "RSA components are not base64url")?;
            (key, KeyKind::Rsa)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let (kind, len) = match ec.curve {
                EllipticCurve::P256 => (KeyKind::EcP256, 32),
                EllipticCurve::P384 => (KeyKind::EcP384, 48),
                _ => return Err("unsupported EC curve"),
            };
            if b64_len(&ec.x) != Some(len) || b64_len(&ec.y) != Some(len) {
                return Err("EC coordinates have the wrong length");
            }
            let key = DecodingKey::from_ec_components(&ec.x, &ec.y)
                .map_err(|_| "EC coordinates are not base64url")?;
            (key, kind)
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            if okp.curve != EllipticCurve::Ed25519 {
                return Err("unsupported OKP curve");
            }
            // jsonwebtoken slices the key to 32 bytes and would panic on a shorter one.
            if b64_len(&okp.x) != Some(32) {
                return Err("Ed25519 x is not 32 bytes");
            }
            let key =
                DecodingKey::from_ed_components(&okp.x).map_err(|_| "OKP x is not base64url")?;
            (key, KeyKind::Ed25519)
        }
        AlgorithmParameters::OctetKey(_) => return Err("symmetric (oct) keys are never used"),
        _ => return Err("unsupported key type"),
    };
    if let Some(alg) = alg
        && !kind_fits(kind, alg)
    {
        return Err("alg does not fit the key type");
    }
    Ok((kid.to_owned(), VerifyKey { key, alg, kind }))
}

fn add_key(keys: &mut KeyMap, jwk: &Jwk) {
    match usable_key(jwk) {
        Ok((kid, key)) => keys.entry(kid).or_default().push(key),
        Err(why) => tracing::debug!(
            kid = jwk.common.key_id.as_deref().map(short).unwrap_or_default(),
            why,
            "JWKS key skipped"
        ),
    }
}

fn keys_from_set(set: &JwkSet) -> KeyMap {
    let mut keys = KeyMap::new();
    for jwk in &set.keys {
        add_key(&mut keys, jwk);
    }
    keys
}

/// Parses a JWKS document key by key, so that one key of a type we do not know does not take
/// the others down with it.
fn keys_from_json(body: &[u8]) -> Result<KeyMap, String> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let raw: RawSet = serde_json::from_slice(body)
        .map_err(|_| "JWKS is not a JSON object with a keys array".to_owned())?;
    let mut keys = KeyMap::new();
    for value in raw.keys {
        match serde_json::from_value::<Jwk>(value) {
            Ok(jwk) => add_key(&mut keys, &jwk),
            Err(_) => tracing::debug!("JWKS entry skipped: not a JWK we can read"),
        }
    }
    Ok(keys)
}

// ---------------------------------------------------------------------------------------------
// Authenticator

#[derive(Default)]
struct KeyCache {
    keys: Arc<KeyMap>,
    /// When the current keys were fetched (time since `Inner::started`); None before the first
    /// successful fetch.
    fetched_at: Option<Duration>,
    /// When the last fetch was attempted, successful or not.
    last_attempt: Option<Duration>,
    /// Counts fetch attempts; lets waiters see that someone else fetched meanwhile.
    attempts: u64,
    last_error: Option<String>,
}

enum KeySource {
    /// `with_keys`: never fetches.
    Fixed,
    /// Fetched from `jwks_url` through the process's HTTP client.
    Remote(Http),
}

struct Inner {
    issuer: String,
    audience: String,
    jwks_url: String,
    /// Pinned algorithms, HS* removed.
    algorithms: Vec<Algorithm>,
    source: KeySource,
    cache: RwLock<KeyCache>,
    /// Serialises fetches: one request to the IdP at a time per instance.
    fetch_lock: tokio::sync::Mutex<()>,
    started: Instant,
    #[cfg(test)]
    skew: std::sync::atomic::AtomicU64,
}

/// Verifies bearer tokens. Build one per Lambda instance (it is `Send + Sync`, and cheap to
/// clone: clones share the key cache) and reuse it across invocations.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("jwks_url", &self.inner.jwks_url)
            .field("algorithms", &self.inner.algorithms)
            .finish_non_exhaustive()
    }
}

struct Snapshot {
    keys: Arc<KeyMap>,
    fetched_at: Option<Duration>,
    last_attempt: Option<Duration>,
    attempts: u64,
}

enum Lookup {
    Found(VerifyKey),
    UnknownKid,
    WrongAlg,
}

fn lookup(keys: &KeyMap, kid: &str, alg: Algorithm) -> Lookup {
    match keys.get(kid) {
        None => Lookup::UnknownKid,
        Some(candidates) => match candidates.iter().find(|k| k.accepts(alg)) {
            Some(key) => Lookup::Found(key.clone()),
            None => Lookup::WrongAlg,
        },
    }
}

impl Authenticator {
    /// Keys are fetched lazily from `config.jwks_url` (or now, with [`Authenticator::warm`]).
    /// HS* algorithms in `config.algorithms` are dropped (logged as an error).
    pub fn new(config: AuthConfig) -> Self {
        Self::with_http(config, Http::new())
    }

    /// As [`Authenticator::new`], fetching through `http` (a Lambda shares
    /// one client, one pool and one TLS setup with its AWS SDK clients).
    pub fn with_http(config: AuthConfig, http: Http) -> Self {
        Self::build(config, KeySource::Remote(http), KeyCache::default())
    }

    /// Fixed keys; never fetches (tests, and the local server if it wants no HTTP round trip).
    pub fn with_keys(config: AuthConfig, jwks: JwkSet) -> Self {
        let cache = KeyCache {
            keys: Arc::new(keys_from_set(&jwks)),
            fetched_at: Some(Duration::ZERO),
            last_attempt: Some(Duration::ZERO),
            ..KeyCache::default()
        };
        Self::build(config, KeySource::Fixed, cache)
    }

    fn build(config: AuthConfig, source: KeySource, cache: KeyCache) -> Self {
        let mut algorithms = Vec::new();
        for alg in config.algorithms {
            if alg.family() == AlgorithmFamily::Hmac {
                tracing::error!(alg = ?alg, "HMAC algorithm in the JWT configuration ignored");
            } else if !algorithms.contains(&alg) {
                algorithms.push(alg);
            }
        }
        if algorithms.is_empty() {
            tracing::error!("no usable JWT algorithm configured: every token will be refused");
        }
        Authenticator {
            inner: Arc::new(Inner {
                issuer: config.issuer,
                audience: config.audience,
                jwks_url: config.jwks_url,
                algorithms,
                source,
                cache: RwLock::new(cache),
                fetch_lock: tokio::sync::Mutex::new(()),
                started: Instant::now(),
                #[cfg(test)]
                skew: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// Fetches the JWKS now (call during Lambda init). A no-op with fixed keys.
    pub async fn warm(&self) -> Result<(), AuthError> {
        if matches!(self.inner.source, KeySource::Fixed) {
            return Ok(());
        }
        let attempts = self.snapshot().attempts;
        self.refresh(attempts).await.map(|_| ())
    }

    /// Verifies the `Authorization` header's bearer token and names the caller.
    pub async fn verify(&self, authorization_header: Option<&str>) -> Result<Caller, AuthError> {
        let token = bearer_token(authorization_header)?;
        let header = peek_header(token)?;
        let alg = self.pinned_alg(&header.alg)?;
        let kid = header.kid.as_deref().filter(|k| !k.is_empty());
        let result = match kid {
            None => Err(invalid("header has no kid")),
            Some(_) if header.crit.is_some() => Err(invalid("crit header is not supported")),
            Some(kid) => match self.key_for(kid, alg).await {
                Ok(key) => self.check(token, &key, alg),
                Err(e) => Err(e),
            },
        };
        if let Err(e) = &result {
            tracing::debug!(kid = kid.map(short).unwrap_or_default(), alg = ?alg, error = %e, "token refused");
        }
        result
    }

    fn pinned_alg(&self, alg: &str) -> Result<Algorithm, AuthError> {
        let refuse = |reason: String| {
            tracing::debug!(alg = short(alg), reason, "token refused");
            Err(AuthError::Invalid(reason))
        };
        if alg.eq_ignore_ascii_case("none") {
            return refuse("alg none is never accepted".to_owned());
        }
        let Ok(parsed) = Algorithm::from_str(alg) else {
            return refuse(format!("unsupported alg {:?}", short(alg)));
        };
        if parsed.family() == AlgorithmFamily::Hmac {
            return refuse(format!(
                "alg {alg} refused: HMAC algorithms are never accepted"
            ));
        }
        if !self.inner.algorithms.contains(&parsed) {
            return refuse(format!("alg {alg} is not among the configured algorithms"));
        }
        Ok(parsed)
    }

    fn check(&self, token: &str, key: &VerifyKey, alg: Algorithm) -> Result<Caller, AuthError> {
        // Read loosely, so that a missing or odd claim is reported by jsonwebtoken's validation
        // (by name) rather than as a deserialization error; checked strictly below.
        #[derive(Deserialize)]
        struct Claims {
            #[serde(default)]
            sub: Option<serde_json::Value>,
            #[serde(default)]
            iss: Option<serde_json::Value>,
        }

        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.inner.issuer]);
        validation.set_audience(&[&self.inner.audience]);

        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| refusal(e.kind()))?;
        // jsonwebtoken also accepts an `iss` array containing the issuer: require the string.
        match data.claims.iss {
            Some(serde_json::Value::String(iss)) if iss == self.inner.issuer => {}
            _ => return Err(invalid("iss is not the expected issuer")),
        }
        match data.claims.sub {
            Some(serde_json::Value::String(sub)) if !sub.trim().is_empty() => {
                Ok(Caller { subject: sub })
            }
            _ => Err(invalid("sub is not a non-empty string")),
        }
    }

    // --- key cache ---------------------------------------------------------------------------

    fn now(&self) -> Duration {
        let now = self.inner.started.elapsed();
        #[cfg(test)]
        let now =
            now + Duration::from_secs(self.inner.skew.load(std::sync::atomic::Ordering::SeqCst));
        now
    }

    fn read_cache(&self) -> RwLockReadGuard<'_, KeyCache> {
        self.inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write_cache(&self) -> RwLockWriteGuard<'_, KeyCache> {
        self.inner
            .cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn snapshot(&self) -> Snapshot {
        let cache = self.read_cache();
        Snapshot {
            keys: Arc::clone(&cache.keys),
            fetched_at: cache.fetched_at,
            last_attempt: cache.last_attempt,
            attempts: cache.attempts,
        }
    }

    fn within(&self, at: Option<Duration>, interval: Duration) -> bool {
        at.is_some_and(|at| self.now().saturating_sub(at) < interval)
    }

    async fn key_for(&self, kid: &str, alg: Algorithm) -> Result<VerifyKey, AuthError> {
        let snap = self.current_keys().await?;
        match lookup(&snap.keys, kid, alg) {
            Lookup::Found(key) => return Ok(key),
            Lookup::WrongAlg => {
                return Err(invalid(format!(
                    "key {} is not for alg {alg:?}",
                    short(kid)
                )));
            }
            Lookup::UnknownKid => {}
        }
        if matches!(self.inner.source, KeySource::Fixed) {
            return Err(invalid(format!("unknown kid {}", short(kid))));
        }
        // Unknown kid: maybe the IdP rotated its keys. Refetch, at most once per interval.
        let latest = self.snapshot();
        if latest.attempts == snap.attempts
            && self.within(latest.last_attempt, MIN_REFETCH_INTERVAL)
        {
            return Err(invalid(format!(
                "unknown kid {} (JWKS fetched recently)",
                short(kid)
            )));
        }
        let keys = if latest.attempts != snap.attempts {
            // Someone fetched since we looked: use their result.
            latest.keys
        } else {
            tracing::info!(kid = short(kid), "unknown kid: refetching the JWKS");
            self.refresh(latest.attempts).await?
        };
        match lookup(&keys, kid, alg) {
            Lookup::Found(key) => Ok(key),
            Lookup::WrongAlg => Err(invalid(format!(
                "key {} is not for alg {alg:?}",
                short(kid)
            ))),
            Lookup::UnknownKid => Err(invalid(format!("unknown kid {}", short(kid)))),
        }
    }

    /// The keys to verify with: cached if fresh; otherwise refreshed; stale ones if the refresh
    /// fails (and then no new attempt for a minute).
    async fn current_keys(&self) -> Result<Snapshot, AuthError> {
        let snap = self.snapshot();
        if matches!(self.inner.source, KeySource::Fixed)
            || self.within(snap.fetched_at, KEYS_MAX_AGE)
        {
            return Ok(snap);
        }
        let have_keys = snap.fetched_at.is_some();
        if have_keys && self.within(snap.last_attempt, MIN_REFETCH_INTERVAL) {
            return Ok(snap); // a refresh failed a moment ago: keep the stale keys for now
        }
        match self.refresh(snap.attempts).await {
            Ok(_) => Ok(self.snapshot()),
            Err(e) if have_keys => {
                tracing::warn!(error = %e, "JWKS refresh failed: using the previous keys");
                Ok(self.snapshot())
            }
            Err(e) => Err(e),
        }
    }

    /// Fetches the JWKS unless someone else attempted it since `seen_attempts`, in which case
    /// their outcome is used.
    async fn refresh(&self, seen_attempts: u64) -> Result<Arc<KeyMap>, AuthError> {
        let client = match &self.inner.source {
            KeySource::Fixed => return Ok(self.snapshot().keys),
            KeySource::Remote(client) => client,
        };
        let _guard = self.inner.fetch_lock.lock().await;
        {
            let cache = self.read_cache();
            if cache.attempts != seen_attempts {
                return match &cache.last_error {
                    None => Ok(Arc::clone(&cache.keys)),
                    Some(e) => Err(AuthError::KeysUnavailable(e.clone())),
                };
            }
        }
        let result = self.fetch(client).await;
        let now = self.now();
        let mut cache = self.write_cache();
        cache.attempts += 1;
        cache.last_attempt = Some(now);
        match result {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "JWKS fetched");
                cache.keys = Arc::new(keys);
                cache.fetched_at = Some(now);
                cache.last_error = None;
                Ok(Arc::clone(&cache.keys))
            }
            Err(e) => {
                tracing::warn!(error = %e, "JWKS fetch failed");
                cache.last_error = Some(e.clone());
                Err(AuthError::KeysUnavailable(e))
            }
        }
    }

    async fn fetch(&self, client: &Http) -> Result<KeyMap, String> {
        let url = &self.inner.jwks_url;
        let body = tokio::time::timeout(
            FETCH_TIMEOUT,
            client.get(url, "application/json", MAX_JWKS_BYTES),
        )
        .await
        .map_err(|_| format!("GET {url}: no answer within {FETCH_TIMEOUT:?}"))??;
        let keys = keys_from_json(&body).map_err(|e| format!("GET {url}: {e}"))?;
        if keys.is_empty() {
            return Err(format!("GET {url}: JWKS has no usable signing key"));
        }
        Ok(keys)
    }

    #[cfg(test)]
    fn advance_clock(&self, by: Duration) {
        self.inner
            .skew
            .fetch_add(by.as_secs(), std::sync::atomic::Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------------
// Token parsing helpers

/// `Bearer <token>`, scheme case-insensitive, token shaped like a compact JWS.
fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(AuthError::Missing)?;
    let (scheme, token) = header.split_once([' ', '\t']).ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed);
    }
    let token = token.trim();
    let shaped = !token.is_empty()
        && token.len() <= MAX_TOKEN_BYTES
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && {
            // header.payload.signature; the signature may be empty (alg none, refused later
            // with a clear reason), the other two may not.
            let parts: Vec<&str> = token.split('.').collect();
            parts.len() == 3 && !parts[0].is_empty() && !parts[1].is_empty()
        };
    if shaped {
        Ok(token)
    } else {
        Err(AuthError::Malformed)
    }
}

#[derive(Deserialize)]
struct PeekedHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// Reads `alg`/`kid` from the (unverified) header, to choose the key.
fn peek_header(token: &str) -> Result<PeekedHeader, AuthError> {
    let encoded = token.split('.').next().ok_or(AuthError::Malformed)?;
    let json = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| AuthError::Malformed)
}

/// A fixed description of a jsonwebtoken error: serde messages can quote claim values, which
/// must not reach the logs.
fn refusal(kind: &ErrorKind) -> AuthError {
    let reason = match kind {
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            return AuthError::Malformed;
        }
        ErrorKind::InvalidSignature => "signature does not verify".to_owned(),
        ErrorKind::ExpiredSignature => "token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "token is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidIssuer => "iss is not the expected issuer".to_owned(),
        ErrorKind::InvalidAudience => "aud does not name this audience".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => {
            format!("claim {} is missing or not well-formed", short(claim))
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            format!("claim {} is not well-formed", short(claim))
        }
        ErrorKind::InvalidAlgorithm => "algorithm does not match the key".to_owned(),
        ErrorKind::Json(_) => "claims are not of the expected shape".to_owned(),
        ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => "the published key is unusable".to_owned(),
        _ => "token refused by the JWT library".to_owned(),
    };
    AuthError::Invalid(reason)
}

/// Bounds attacker-chosen header values before they go into logs or reasons.
fn short(value: &str) -> String {
    const MAX: usize = 64;
    let cut: String = value.chars().take(MAX).collect();
    let cut = cut.escape_debug().to_string();
    if value.chars().count() > MAX {
        format!("{cut}...")
    } else {
        cut
    }
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use jsonwebtoken::jwk::{CommonParameters, KeyAlgorithm, OctetKeyParameters, OctetKeyType};
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::devkeys::DevIssuer;

    const ISS: &str = "https://idp.test.skolnav.se";
    const AUD: &str = "skolnav-api";
    const HOUR: Duration = Duration::from_secs(3600);

    fn dev() -> DevIssuer {
        DevIssuer::generate(ISS, AUD)
    }

    fn fixed(issuer: &DevIssuer) -> Authenticator {
        Authenticator::with_keys(
            issuer.auth_config("http://127.0.0.1:9/unused"),
            issuer.jwks(),
        )
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn good_claims() -> Value {
        json!({ "iss": ISS, "aud": AUD, "sub": "user-1", "iat": now(), "exp": now() + 300 })
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    fn without(mut claims: Value, key: &str) -> Value {
        claims.as_object_mut().expect("object").remove(key);
        claims
    }

    fn sign(issuer: &DevIssuer, claims: &Value) -> String {
        jsonwebtoken::encode(&issuer.header(), claims, issuer.encoding_key()).expect("sign")
    }

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    async fn accepted(auth: &Authenticator, token: &str) -> Caller {
        auth.verify(Some(&bearer(token)))
            .await
            .expect("token should be accepted")
    }

    async fn refused(auth: &Authenticator, token: &str) -> AuthError {
        match auth.verify(Some(&bearer(token))).await {
            Ok(caller) => panic!("token should be refused, but verified as {caller:?}"),
            Err(e) => e,
        }
    }

    fn reason(error: &AuthError) -> &str {
        match error {
            AuthError::Invalid(reason) => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    // --- the happy path ------------------------------------------------------------------------

    #[tokio::test]
    async fn a_valid_dev_issuer_token_verifies_and_yields_the_subject() {
        let issuer = dev();
        let auth = fixed(&issuer);
        let caller = accepted(&auth, &issuer.token_for("elev-123", HOUR)).await;
        assert_eq!(
            caller,
            Caller {
                subject: "elev-123".to_owned()
            }
        );
    }

    #[tokio::test]
    async fn the_bearer_scheme_is_case_insensitive() {
        let issuer = dev();
        let auth = fixed(&issuer);
        let token = issuer.token_for("user-1", HOUR);
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            let caller = auth
                .verify(Some(&format!("{scheme} {token}")))
                .await
                .expect(scheme);
            assert_eq!(caller.subject, "user-1");
        }
    }

    #[tokio::test]
    async fn an_audience_array_containing_ours_is_accepted() {
        let issuer = dev();
        let claims = with(good_claims(), "aud", json!(["other-api", AUD]));
        accepted(&fixed(&issuer), &sign(&issuer, &claims)).await;
    }

    #[tokio::test]
    async fn a_token_expired_within_the_leeway_is_accepted() {
        let issuer = dev();
        let claims = with(good_claims(), "exp", json!(now() - 10));
        accepted(&fixed(&issuer), &sign(&issuer, &claims)).await;
    }

    #[tokio::test]
    async fn a_token_whose_nbf_is_within_the_leeway_is_accepted() {
        let issuer = dev();
        let claims = with(good_claims(), "nbf", json!(now() + 10));
        accepted(&fixed(&issuer), &sign(&issuer, &claims)).await;
    }

    // --- the header ----------------------------------------------------------------------------

    #[tokio::test]
    async fn a_missing_header_is_refused() {
        let auth = fixed(&dev());
        assert!(matches!(auth.verify(None).await, Err(AuthError::Missing)));
        assert!(matches!(
            auth.verify(Some("  ")).await,
            Err(AuthError::Missing)
        ));
    }

    #[tokio::test]
    async fn a_header_that_is_not_bearer_is_refused() {
        let issuer = dev();
        let auth = fixed(&issuer);
        let token = issuer.token_for("user-1", HOUR);
        for header in [
            format!("Basic {token}"),
            format!("Token {token}"),
            token.clone(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            format!("Bearer {token} extra"),
        ] {
            let result = auth.verify(Some(&header)).await;
            assert!(
                matches!(result, Err(AuthError::Malformed)),
                "{header:?}: {result:?}"
            );
        }
    }

    #[tokio::test]
    async fn garbage_is_refused() {
        let auth = fixed(&dev());
        let too_long = format!("{}.{}.{}", "a".repeat(9000), "b".repeat(9000), "c");
        for garbage in [
            "garbage",
            "a.b",
            "a.b.c.d",
            "!!!.???.***",
            "e30.e30.e30",
            "bm90IGpzb24.e30.",
            &too_long,
        ] {
            let result = auth.verify(Some(&bearer(garbage))).await;
            assert!(
                matches!(result, Err(AuthError::Malformed)),
                "{garbage:.40}: {result:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_token_with_alg_none_is_refused() {
        let issuer = dev();
        let auth = fixed(&issuer);
        for alg in ["none", "None", "NONE"] {
            let header = json!({ "alg": alg, "typ": "JWT", "kid": issuer.kid() });
            let token = format!("{}.{}.", b64(&header), b64(&good_claims()));
            let error = refused(&auth, &token).await;
            assert!(reason(&error).contains("none"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_token_signed_with_hs256_using_the_public_key_is_refused() {
        let issuer = dev();
        let jwk = &issuer.jwks().keys[0];
        let AlgorithmParameters::OctetKeyPair(okp) = &jwk.algorithm else {
            panic!("OKP")
        };
        let raw_public = URL_SAFE_NO_PAD.decode(&okp.x).expect("x");
        let public_json = serde_json::to_vec(jwk).expect("jwk json");

        // Even a configuration that (wrongly) lists HS256 must not open the door.
        let mut lax = issuer.auth_config("http://127.0.0.1:9/unused");
        lax.algorithms = vec![Algorithm::HS256, Algorithm::EdDSA];
        let lax = Authenticator::with_keys(lax, issuer.jwks());
        let strict = fixed(&issuer);

        for secret in [
            raw_public.as_slice(),
            okp.x.as_bytes(),
            public_json.as_slice(),
        ] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(issuer.kid().to_owned());
            let token =
                jsonwebtoken::encode(&header, &good_claims(), &EncodingKey::from_secret(secret))
                    .expect("sign HS256");
            for auth in [&strict, &lax] {
                let error = refused(auth, &token).await;
                assert!(reason(&error).contains("HMAC"), "{error}");
            }
        }
    }

    #[tokio::test]
    async fn an_hmac_key_in_the_jwks_is_never_used_even_with_hs256_configured() {
        let secret = b"a shared secret that must never verify anything";
        let oct = Jwk {
            common: CommonParameters {
                key_id: Some("hmac".to_owned()),
                key_algorithm: Some(KeyAlgorithm::HS256),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKey(OctetKeyParameters {
                key_type: OctetKeyType::Octet,
                value: URL_SAFE_NO_PAD.encode(secret),
            }),
        };
        let config = AuthConfig {
            issuer: ISS.to_owned(),
            audience: AUD.to_owned(),
            jwks_url: "http://127.0.0.1:9/unused".to_owned(),
            algorithms: vec![Algorithm::HS256],
        };
        let auth = Authenticator::with_keys(config, JwkSet { keys: vec![oct] });
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("hmac".to_owned());
        let token =
            jsonwebtoken::encode(&header, &good_claims(), &EncodingKey::from_secret(secret))
                .expect("sign");
        refused(&auth, &token).await;
        assert!(auth.inner.algorithms.is_empty());
        assert!(auth.snapshot().keys.is_empty());
    }

    #[tokio::test]
    async fn a_token_whose_kid_is_fine_but_alg_header_says_rs256_is_refused() {
        let issuer = dev();
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": issuer.kid() });
        let token = format!(
            "{}.{}.{}",
            b64(&header),
            b64(&good_claims()),
            "c2lnbmF0dXJl"
        );

        // Pinned to EdDSA: refused at the pin.
        let error = refused(&fixed(&issuer), &token).await;
        assert!(
            reason(&error).contains("not among the configured"),
            "{error}"
        );

        // RS256 also allowed: refused because the key is published for EdDSA.
        let mut config = issuer.auth_config("http://127.0.0.1:9/unused");
        config.algorithms = vec![Algorithm::EdDSA, Algorithm::RS256];
        let auth = Authenticator::with_keys(config, issuer.jwks());
        let error = refused(&auth, &token).await;
        assert!(reason(&error).contains("is not for alg"), "{error}");
    }

    #[tokio::test]
    async fn a_key_without_its_own_alg_is_still_bound_to_its_key_type() {
        let issuer = dev();
        let mut jwks = issuer.jwks();
        jwks.keys[0].common.key_algorithm = None;
        let mut config = issuer.auth_config("http://127.0.0.1:9/unused");
        config.algorithms = vec![Algorithm::EdDSA, Algorithm::RS256, Algorithm::ES256];
        let auth = Authenticator::with_keys(config, jwks);
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        for alg in ["RS256", "ES256"] {
            let header = json!({ "alg": alg, "kid": issuer.kid() });
            let token = format!("{}.{}.{}", b64(&header), b64(&good_claims()), "c2ln");
            let error = refused(&auth, &token).await;
            assert!(reason(&error).contains("is not for alg"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_token_without_kid_is_refused() {
        let issuer = dev();
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::EdDSA),
            &good_claims(),
            issuer.encoding_key(),
        )
        .expect("sign");
        let error = refused(&fixed(&issuer), &token).await;
        assert!(reason(&error).contains("kid"), "{error}");
    }

    #[tokio::test]
    async fn a_token_with_an_unknown_kid_is_refused() {
        let issuer = dev();
        let mut header = issuer.header();
        header.kid = Some("some-other-key".to_owned());
        let token =
            jsonwebtoken::encode(&header, &good_claims(), issuer.encoding_key()).expect("sign");
        let error = refused(&fixed(&issuer), &token).await;
        assert!(reason(&error).contains("unknown kid"), "{error}");
    }

    #[tokio::test]
    async fn a_token_signed_by_another_dev_issuer_with_the_same_kid_is_refused() {
        let genuine = dev();
        let impostor = dev();
        let token =
            jsonwebtoken::encode(&genuine.header(), &good_claims(), impostor.encoding_key())
                .expect("sign");
        let error = refused(&fixed(&genuine), &token).await;
        assert!(reason(&error).contains("signature"), "{error}");
    }

    #[tokio::test]
    async fn a_token_with_a_tampered_payload_is_refused() {
        let issuer = dev();
        let token = issuer.token_for("user-1", HOUR);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = with(good_claims(), "sub", json!("admin"));
        let tampered = format!("{}.{}.{}", parts[0], b64(&forged), parts[2]);
        let error = refused(&fixed(&issuer), &tampered).await;
        assert!(reason(&error).contains("signature"), "{error}");
    }

    #[tokio::test]
    async fn a_token_with_a_crit_header_is_refused() {
        let issuer = dev();
        let mut header = issuer.header();
        header.crit = Some(vec!["exp".to_owned()]);
        let token =
            jsonwebtoken::encode(&header, &good_claims(), issuer.encoding_key()).expect("sign");
        let error = refused(&fixed(&issuer), &token).await;
        assert!(reason(&error).contains("crit"), "{error}");
    }

    // --- the claims ----------------------------------------------------------------------------

    async fn claims_refused(claims: Value) -> String {
        let issuer = dev();
        let error = refused(&fixed(&issuer), &sign(&issuer, &claims)).await;
        reason(&error).to_owned()
    }

    #[tokio::test]
    async fn an_expired_token_is_refused() {
        let why = claims_refused(with(good_claims(), "exp", json!(now() - 120))).await;
        assert!(why.contains("expired"), "{why}");
    }

    #[tokio::test]
    async fn an_expired_dev_issuer_token_is_refused() {
        let issuer = dev();
        // ttl 0 is "now", inside the leeway; forge one that expired long ago instead.
        let claims = with(good_claims(), "exp", json!(now() - 3600));
        refused(&fixed(&issuer), &sign(&issuer, &claims)).await;
    }

    #[tokio::test]
    async fn an_exp_given_as_a_string_is_refused() {
        let why = claims_refused(with(good_claims(), "exp", json!("9999999999"))).await;
        assert!(why.contains("exp"), "{why}");
    }

    #[tokio::test]
    async fn a_token_without_exp_is_refused() {
        let why = claims_refused(without(good_claims(), "exp")).await;
        assert!(why.contains("exp"), "{why}");
    }

    #[tokio::test]
    async fn a_token_not_valid_yet_is_refused() {
        let why = claims_refused(with(good_claims(), "nbf", json!(now() + 120))).await;
        assert!(why.contains("nbf"), "{why}");
    }

    #[tokio::test]
    async fn an_nbf_given_as_a_string_is_refused() {
        let why = claims_refused(with(good_claims(), "nbf", json!("0"))).await;
        assert!(why.contains("nbf"), "{why}");
    }

    #[tokio::test]
    async fn a_token_for_another_audience_is_refused() {
        let why = claims_refused(with(good_claims(), "aud", json!("someone-else"))).await;
        assert!(why.contains("aud"), "{why}");
        let why = claims_refused(with(good_claims(), "aud", json!(["a", "b"]))).await;
        assert!(why.contains("aud"), "{why}");
        let why = claims_refused(with(good_claims(), "aud", json!([]))).await;
        assert!(why.contains("aud"), "{why}");
    }

    #[tokio::test]
    async fn a_token_without_audience_is_refused() {
        let why = claims_refused(without(good_claims(), "aud")).await;
        assert!(why.contains("aud"), "{why}");
    }

    #[tokio::test]
    async fn a_token_from_another_issuer_is_refused() {
        let why = claims_refused(with(good_claims(), "iss", json!("https://evil.example"))).await;
        assert!(why.contains("iss"), "{why}");
        // An array that merely contains our issuer is not "equal to" it.
        claims_refused(with(
            good_claims(),
            "iss",
            json!([ISS, "https://evil.example"]),
        ))
        .await;
    }

    #[tokio::test]
    async fn a_token_without_issuer_is_refused() {
        let why = claims_refused(without(good_claims(), "iss")).await;
        assert!(why.contains("iss"), "{why}");
    }

    #[tokio::test]
    async fn a_token_without_sub_is_refused() {
        let why = claims_refused(without(good_claims(), "sub")).await;
        assert!(why.contains("sub"), "{why}");
    }

    #[tokio::test]
    async fn a_token_with_an_empty_or_non_string_sub_is_refused() {
        for sub in [json!(""), json!("   "), json!(42), json!(null)] {
            claims_refused(with(good_claims(), "sub", sub)).await;
        }
    }

    // --- JWKS over HTTP ------------------------------------------------------------------------

    /// A tiny JWKS server: counts requests; its answer can be changed.
    struct JwksServer {
        url: String,
        hits: Arc<AtomicUsize>,
        answer: Arc<Mutex<(u16, String)>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl JwksServer {
        async fn start(jwks: Value) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let url = format!(
                "http://{}/.well-known/jwks.json",
                listener.local_addr().expect("addr")
            );
            let hits = Arc::new(AtomicUsize::new(0));
            let answer = Arc::new(Mutex::new((200, jwks.to_string())));
            let (h, a) = (Arc::clone(&hits), Arc::clone(&answer));
            let task = tokio::spawn(async move {
                loop {
                    let Ok((mut socket, _)) = listener.accept().await else {
                        return;
                    };
                    let (hits, answer) = (Arc::clone(&h), Arc::clone(&a));
                    tokio::spawn(async move {
                        let mut request = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                            match socket.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => request.extend_from_slice(&buf[..n]),
                            }
                        }
                        hits.fetch_add(1, Ordering::SeqCst);
                        let (status, body) = answer.lock().unwrap().clone();
                        let response = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(response.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    });
                }
            });
            JwksServer {
                url,
                hits,
                answer,
                task,
            }
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }

        fn answer(&self, status: u16, body: impl Into<String>) {
            *self.answer.lock().unwrap() = (status, body.into());
        }
    }

    impl Drop for JwksServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    fn jwks_of(issuers: &[&DevIssuer]) -> Value {
        let keys: Vec<Value> = issuers
            .iter()
            .flat_map(|i| i.jwks().keys)
            .map(|k| json!(k))
            .collect();
        json!({ "keys": keys })
    }

    #[tokio::test]
    async fn the_jwks_is_fetched_over_http_once_for_many_verifications() {
        let issuer = dev();
        let server = JwksServer::start(issuer.jwks_json()).await;
        let auth = Authenticator::new(issuer.auth_config(&server.url));
        assert_eq!(server.hits(), 0, "keys are fetched lazily");
        for n in 0..25 {
            let subject = format!("user-{n}");
            let caller = accepted(&auth, &issuer.token_for(&subject, HOUR)).await;
            assert_eq!(caller.subject, subject);
        }
        // Clones share the cache.
        accepted(&auth.clone(), &issuer.token_for("user-x", HOUR)).await;
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn warm_fetches_the_jwks_so_that_verifications_do_not() {
        let issuer = dev();
        let server = JwksServer::start(issuer.jwks_json()).await;
        let auth = Authenticator::new(issuer.auth_config(&server.url));
        auth.warm().await.expect("warm");
        assert_eq!(server.hits(), 1);
        for _ in 0..10 {
            accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        }
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_verifications_share_one_fetch() {
        let issuer = dev();
        let server = JwksServer::start(issuer.jwks_json()).await;
        let auth = Authenticator::new(issuer.auth_config(&server.url));
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..16 {
            let (auth, token) = (auth.clone(), issuer.token_for(&format!("user-{n}"), HOUR));
            tasks.spawn(async move { auth.verify(Some(&format!("Bearer {token}"))).await });
        }
        while let Some(result) = tasks.join_next().await {
            result.expect("task").expect("verified");
        }
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_the_jwks_at_most_once_a_minute() {
        let old = dev();
        let new = dev();
        let server = JwksServer::start(jwks_of(&[&old])).await;
        let auth = Authenticator::new(old.auth_config(&server.url));
        accepted(&auth, &old.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 1);

        // The IdP rotates; we fetched a moment ago, so the new kid is not looked for yet.
        server.answer(200, jwks_of(&[&old, &new]).to_string());
        refused(&auth, &new.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 1);

        auth.advance_clock(MIN_REFETCH_INTERVAL + Duration::from_secs(1));
        accepted(&auth, &new.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 2);

        // Unknown kids in a burst cost at most one fetch per minute.
        let mut header = old.header();
        for n in 0..10 {
            header.kid = Some(format!("nope-{n}"));
            let token =
                jsonwebtoken::encode(&header, &good_claims(), old.encoding_key()).expect("sign");
            let error = refused(&auth, &token).await;
            assert!(reason(&error).contains("unknown kid"), "{error}");
        }
        assert_eq!(server.hits(), 2);
        auth.advance_clock(MIN_REFETCH_INTERVAL + Duration::from_secs(1));
        let token =
            jsonwebtoken::encode(&header, &good_claims(), old.encoding_key()).expect("sign");
        refused(&auth, &token).await;
        assert_eq!(server.hits(), 3);
        // The known keys keep working without fetches.
        accepted(&auth, &old.token_for("user-1", HOUR)).await;
        accepted(&auth, &new.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 3);
    }

    #[tokio::test]
    async fn the_keys_are_refreshed_after_ten_minutes() {
        let issuer = dev();
        let server = JwksServer::start(issuer.jwks_json()).await;
        let auth = Authenticator::new(issuer.auth_config(&server.url));
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        auth.advance_clock(KEYS_MAX_AGE - Duration::from_secs(1));
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 1);
        auth.advance_clock(Duration::from_secs(2));
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn a_removed_key_stops_verifying_after_the_refresh() {
        let old = dev();
        let new = dev();
        let server = JwksServer::start(jwks_of(&[&old])).await;
        let auth = Authenticator::new(old.auth_config(&server.url));
        accepted(&auth, &old.token_for("user-1", HOUR)).await;
        server.answer(200, jwks_of(&[&new]).to_string());
        auth.advance_clock(KEYS_MAX_AGE + Duration::from_secs(1));
        refused(&auth, &old.token_for("user-1", HOUR)).await;
        accepted(&auth, &new.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn stale_keys_keep_working_while_the_jwks_endpoint_fails() {
        let issuer = dev();
        let server = JwksServer::start(issuer.jwks_json()).await;
        let auth = Authenticator::new(issuer.auth_config(&server.url));
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;

        server.answer(500, "oops");
        auth.advance_clock(KEYS_MAX_AGE + Duration::from_secs(1));
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 2);
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        assert_eq!(
            server.hits(),
            2,
            "no new attempt within a minute of a failure"
        );

        server.answer(200, issuer.jwks_json().to_string());
        auth.advance_clock(MIN_REFETCH_INTERVAL + Duration::from_secs(1));
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 3);
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 3, "fresh again");
    }

    #[tokio::test]
    async fn a_failing_jwks_endpoint_without_cached_keys_gives_keys_unavailable() {
        let issuer = dev();
        let server = JwksServer::start(issuer.jwks_json()).await;
        server.answer(503, "down");
        let auth = Authenticator::new(issuer.auth_config(&server.url));
        assert!(matches!(
            auth.warm().await,
            Err(AuthError::KeysUnavailable(_))
        ));
        let result = auth
            .verify(Some(&bearer(&issuer.token_for("user-1", HOUR))))
            .await;
        assert!(
            matches!(result, Err(AuthError::KeysUnavailable(_))),
            "{result:?}"
        );

        // Once the endpoint is back, the next verification fetches (no keys: no waiting).
        server.answer(200, issuer.jwks_json().to_string());
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        assert_eq!(server.hits(), 3);

        for body in [
            "not json",
            r#"{"keys": []}"#,
            r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}"#,
        ] {
            server.answer(200, body);
            let auth = Authenticator::new(issuer.auth_config(&server.url));
            let error = auth.warm().await.expect_err(body);
            assert!(
                matches!(error, AuthError::KeysUnavailable(_)),
                "{body}: {error:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_unreachable_jwks_endpoint_gives_keys_unavailable() {
        let issuer = dev();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
        drop(listener);
        let auth = Authenticator::new(issuer.auth_config(&url));
        let result = auth
            .verify(Some(&bearer(&issuer.token_for("user-1", HOUR))))
            .await;
        assert!(
            matches!(result, Err(AuthError::KeysUnavailable(_))),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn broken_or_foreign_keys_in_the_jwks_are_skipped_without_harm() {
        let issuer = dev();
        let mut jwks = jwks_of(&[&issuer]);
        let keys = jwks["keys"].as_array_mut().expect("keys");
        keys.insert(
            0,
            json!({ "kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": "short", "alg": "EdDSA" }),
        );
        keys.insert(
            0,
            json!({ "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA", "kid": "bad-ec" }),
        );
        keys.insert(
            0,
            json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "tiny-rsa", "alg": "RS256" }),
        );
        keys.insert(
            0,
            json!({ "kty": "OKP", "crv": "X25519", "x": "AAAA", "kid": "x25519" }),
        );
        keys.insert(0, json!({ "kty": "something-new", "kid": "future" }));
        keys.insert(0, json!({ "kty": "oct", "k": "c2VjcmV0", "kid": "hmac" }));
        keys.insert(0, json!("not even an object"));
        let mut enc = issuer.jwks().keys[0].clone();
        enc.common.key_id = Some("enc-use".to_owned());
        enc.common.public_key_use = Some(PublicKeyUse::Encryption);
        keys.push(json!(enc));
        let server = JwksServer::start(jwks).await;
        let auth = Authenticator::new(issuer.auth_config(&server.url));
        accepted(&auth, &issuer.token_for("user-1", HOUR)).await;
        assert_eq!(auth.snapshot().keys.len(), 1);

        // A token naming the short key must be refused, not panic inside jsonwebtoken.
        for kid in ["short", "hmac", "enc-use"] {
            let mut header = issuer.header();
            header.kid = Some(kid.to_owned());
            let token =
                jsonwebtoken::encode(&header, &good_claims(), issuer.encoding_key()).expect("sign");
            refused(&auth, &token).await;
        }
    }

    // --- configuration -------------------------------------------------------------------------

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    const FULL: [(&str, &str); 3] = [
        (ENV_ISSUER, "https://login.example.se"),
        (ENV_AUDIENCE, "skolnav"),
        (ENV_JWKS_URL, "https://login.example.se/jwks"),
    ];

    #[test]
    fn the_config_is_read_from_the_environment_with_rs256_by_default() {
        let config = AuthConfig::from_lookup(env(&FULL)).expect("config");
        assert_eq!(
            config,
            AuthConfig {
                issuer: "https://login.example.se".to_owned(),
                audience: "skolnav".to_owned(),
                jwks_url: "https://login.example.se/jwks".to_owned(),
                algorithms: vec![Algorithm::RS256],
            }
        );
        let mut vars = FULL.to_vec();
        vars.push((ENV_ALGORITHMS, " RS256, ES256 ,EdDSA,RS256 "));
        let config = AuthConfig::from_lookup(env(&vars)).expect("config");
        assert_eq!(
            config.algorithms,
            vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
        );
    }

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        for missing in [ENV_ISSUER, ENV_AUDIENCE, ENV_JWKS_URL] {
            let vars: Vec<_> = FULL
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            let error = AuthConfig::from_lookup(env(&vars)).expect_err(missing);
            assert!(error.contains(missing), "{error}");
            let mut blank = vars.clone();
            blank.push((missing, "  "));
            let error = AuthConfig::from_lookup(env(&blank)).expect_err(missing);
            assert!(error.contains(missing), "{error}");
        }
    }

    #[test]
    fn hs_none_and_unknown_algorithms_are_refused_in_the_configuration() {
        for list in [
            "HS256",
            "RS256,HS384",
            "hs512",
            "HS512",
            "none",
            "RS256, none",
            "FOO",
            ",",
        ] {
            let mut vars = FULL.to_vec();
            vars.push((ENV_ALGORITHMS, list));
            let error = AuthConfig::from_lookup(env(&vars)).expect_err(list);
            assert!(error.contains(ENV_ALGORITHMS), "{error}");
        }
    }

    #[test]
    fn the_authenticator_is_send_sync_and_cheap_to_share() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<Authenticator>();
        fn assert_future_send<F: std::future::Future + Send>(_: F) {}
        let auth = fixed(&dev());
        assert_future_send(auth.verify(None));
        assert_future_send(auth.warm());
    }

    #[test]
    fn debug_output_shows_configuration_but_no_keys() {
        let issuer = dev();
        let debug = format!("{:?}", fixed(&issuer));
        assert!(debug.contains(ISS) && debug.contains("EdDSA"), "{debug}");
        let AlgorithmParameters::OctetKeyPair(okp) = &issuer.jwks().keys[0].algorithm else {
            panic!("OKP")
        };
        assert!(!debug.contains(&okp.x), "{debug}");
    }

    // --- logging -------------------------------------------------------------------------------

    /// Collects every event and span field as text.
    struct Capture(Arc<Mutex<String>>);

    struct Collect<'a>(&'a mut String);

    impl tracing::field::Visit for Collect<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            self.0.push_str(&format!("{}={:?}\n", field.name(), value));
        }
    }

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            span.record(&mut Collect(&mut self.0.lock().unwrap()));
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
            values.record(&mut Collect(&mut self.0.lock().unwrap()));
        }
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            event.record(&mut Collect(&mut self.0.lock().unwrap()));
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn logs_never_contain_the_token_or_its_claims() {
        let logs = Arc::new(Mutex::new(String::new()));
        let subscriber = Capture(Arc::clone(&logs));
        let issuer = dev();
        let other = dev();
        let secret_sub = "personnummer-19121212-1212";
        let claims = json!({ "iss": ISS, "aud": AUD, "sub": secret_sub, "exp": now() + 300 });
        let mut tokens = vec![
            sign(&issuer, &claims),
            sign(&issuer, &with(claims.clone(), "exp", json!(now() - 999))),
            sign(
                &issuer,
                &with(claims.clone(), "exp", json!(format!("{secret_sub}"))),
            ),
            sign(&issuer, &with(claims.clone(), "aud", json!(secret_sub))),
            sign(&issuer, &with(claims.clone(), "iss", json!(secret_sub))),
            sign(
                &issuer,
                &with(claims.clone(), "sub", json!({ "x": secret_sub })),
            ),
            jsonwebtoken::encode(&issuer.header(), &claims, other.encoding_key()).expect("sign"),
        ];
        tokens.push(format!(
            "{}.{}.",
            b64(&json!({ "alg": "none", "kid": issuer.kid() })),
            b64(&claims)
        ));

        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            runtime.block_on(async {
                let server = JwksServer::start(issuer.jwks_json()).await;
                let auth = Authenticator::new(issuer.auth_config(&server.url));
                let mut outcomes = Vec::new();
                for token in &tokens {
                    outcomes.push(auth.verify(Some(&bearer(token))).await);
                }
                assert!(outcomes[0].is_ok());
                assert!(outcomes[1..].iter().all(Result::is_err));
                for error in outcomes.iter().filter_map(|o| o.as_ref().err()) {
                    let text = format!("{error} {error:?}");
                    assert!(!text.contains(secret_sub), "{text}");
                }
            });
        });

        let logs = logs.lock().unwrap();
        assert!(
            logs.contains("token refused"),
            "refusals are logged:\n{logs}"
        );
        assert!(logs.contains(issuer.kid()), "kid is logged:\n{logs}");
        assert!(
            !logs.contains(secret_sub),
            "a claim leaked into the logs:\n{logs}"
        );
        for token in &tokens {
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(
                    !logs.contains(part),
                    "a token part leaked into the logs:\n{logs}"
                );
            }
        }
    }
}
