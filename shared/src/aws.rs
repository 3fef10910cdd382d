//! AWS SDK clients built from the Lambda environment alone.
//!
//! Written here rather than calling `aws_config::load_from_env`: that builds
//! the whole default provider chain (profile files, SSO, web identity, ECS,
//! IMDS) and its own HTTP client, about 5 ms of every cold start, where a
//! Lambda needs only what its runtime puts in the environment: the region,
//! the execution role's credentials, and (locally) endpoint overrides.

use crate::http_client::Http;
use aws_credential_types::Credentials;
use aws_types::region::Region;

/// Region, credentials, endpoint overrides and the shared HTTP client,
/// read once at init.
#[derive(Clone, Debug)]
pub struct AwsEnv {
    region: Region,
    credentials: Credentials,
    endpoints: Endpoints,
    http: Http,
}

#[derive(Clone, Debug, Default)]
struct Endpoints {
    any: Option<String>,
    #[cfg_attr(not(feature = "dynamodb"), allow(dead_code))]
    dynamodb: Option<String>,
    #[cfg_attr(not(feature = "ses"), allow(dead_code))]
    sesv2: Option<String>,
    #[cfg_attr(not(feature = "sns"), allow(dead_code))]
    sns: Option<String>,
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    s3: Option<String>,
}

impl Endpoints {
    /// The service's own override, else the global one, else none (the
    /// SDK's regional endpoint).
    fn pick<'a>(&'a self, own: &'a Option<String>) -> Option<&'a str> {
        own.as_deref().or(self.any.as_deref())
    }
}

impl AwsEnv {
    /// Reads the process environment: see [`AwsEnv::from_vars`].
    pub fn from_env(http: Http) -> Result<Self, String> {
        Self::from_vars(http, |name| std::env::var(name).ok())
    }

    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and, when present, `AWS_SESSION_TOKEN`: what
    /// the Lambda runtime sets from the execution role. Endpoints:
    /// `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, as the SDK's
    /// own loader resolves them. The error names the missing variable.
    pub fn from_vars(http: Http, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let required =
            |name: &str| var(name).ok_or_else(|| format!("environment variable {name} is not set"));
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or("environment variable AWS_REGION is not set")?;
        let credentials = Credentials::new(
            required("AWS_ACCESS_KEY_ID")?,
            required("AWS_SECRET_ACCESS_KEY")?,
            var("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        let endpoints = Endpoints {
            any: var("AWS_ENDPOINT_URL"),
            dynamodb: var("AWS_ENDPOINT_URL_DYNAMODB"),
            sesv2: var("AWS_ENDPOINT_URL_SESV2"),
            sns: var("AWS_ENDPOINT_URL_SNS"),
            s3: var("AWS_ENDPOINT_URL_S3"),
        };
        Ok(AwsEnv {
            region: Region::new(region),
            credentials,
            endpoints,
            http,
        })
    }

    #[cfg(feature = "dynamodb")]
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Builder};
        let mut config = Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(self.region.clone())
            .credentials_provider(self.credentials.clone())
            .http_client(self.http.for_sdk());
        if let Some(url) = self.endpoints.pick(&self.endpoints.dynamodb) {
            config = config.endpoint_url(url);
        }
        aws_sdk_dynamodb::Client::from_conf(config.build())
    }

    #[cfg(feature = "ses")]
    pub fn sesv2(&self) -> aws_sdk_sesv2::Client {
        use aws_sdk_sesv2::config::{BehaviorVersion, Builder};
        let mut config = Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(self.region.clone())
            .credentials_provider(self.credentials.clone())
            .http_client(self.http.for_sdk());
        if let Some(url) = self.endpoints.pick(&self.endpoints.sesv2) {
            config = config.endpoint_url(url);
        }
        aws_sdk_sesv2::Client::from_conf(config.build())
    }

    #[cfg(feature = "sns")]
    pub fn sns(&self) -> aws_sdk_sns::Client {
        use aws_sdk_sns::config::{BehaviorVersion, Builder};
        let mut config = Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(self.region.clone())
            .credentials_provider(self.credentials.clone())
            .http_client(self.http.for_sdk());
        if let Some(url) = self.endpoints.pick(&self.endpoints.sns) {
            config = config.endpoint_url(url);
        }
        aws_sdk_sns::Client::from_conf(config.build())
    }

    /// The region, for signers outside the SDK (S3 files).
    pub fn region(&self) -> &str {
        self.region.as_ref()
    }

    /// The execution role's credentials, for signers outside the SDK.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The process's HTTP client.
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The S3 endpoint override, if any (a local moto).
    #[cfg(feature = "s3")]
    pub fn s3_endpoint(&self) -> Option<&str> {
        self.endpoints.pick(&self.endpoints.s3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err =
            AwsEnv::from_vars(Http::new(), vars(&[("AWS_REGION", "eu-north-1")])).unwrap_err();
        assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
        let err = AwsEnv::from_vars(Http::new(), vars(&[("AWS_ACCESS_KEY_ID", "a")])).unwrap_err();
        assert!(err.contains("AWS_REGION"), "{err}");
    }

    #[test]
    fn the_service_endpoint_wins_over_the_global_one() {
        let env = AwsEnv::from_vars(
            Http::new(),
            vars(&[
                ("AWS_DEFAULT_REGION", "eu-north-1"),
                ("AWS_ACCESS_KEY_ID", "a"),
                ("AWS_SECRET_ACCESS_KEY", "b"),
                ("AWS_ENDPOINT_URL", "http://global:1"),
                ("AWS_ENDPOINT_URL_DYNAMODB", "http://dynamodb:2"),
            ]),
        )
        .unwrap();
        assert_eq!(env.region.as_ref(), "eu-north-1");
        assert_eq!(
            env.endpoints.pick(&env.endpoints.dynamodb),
            Some("http://dynamodb:2")
        );
        assert_eq!(
            env.endpoints.pick(&env.endpoints.sesv2),
            Some("http://global:1")
        );
    }
}
