use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::config::{Credentials, Region};

use crate::error::{SqsError, api};

/// An SQS client and the queue URLs it has looked up. Cheap to clone.
#[derive(Clone)]
pub struct Sqs {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    urls: Mutex<HashMap<String, String>>,
}

impl fmt::Debug for Sqs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sqs").finish_non_exhaustive()
    }
}

impl Sqs {
    /// Region, credentials and endpoint as every AWS tool finds them: `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`..., `AWS_PROFILE` and `~/.aws/config`, `AWS_ENDPOINT_URL`
    /// (`AWS_ENDPOINT_URL_SQS`) for moto or LocalStack, then the container and instance roles.
    pub async fn from_env() -> Self {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Self::from_client(Client::new(&config))
    }

    /// As [`from_env`](Self::from_env), at `endpoint` (moto, LocalStack), in us-east-1 when
    /// no region is configured.
    pub async fn from_env_at(endpoint: &str) -> Self {
        let region = aws_config::meta::region::RegionProviderChain::default_provider()
            .or_else(Region::new("us-east-1"));
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(region)
            .endpoint_url(endpoint)
            .load()
            .await;
        Self::from_client(Client::new(&config))
    }

    /// A client you configured yourself.
    pub fn from_client(client: Client) -> Self {
        Sqs {
            inner: Arc::new(Inner {
                client,
                urls: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A local SQS API (moto, LocalStack) at `endpoint`: region us-east-1, dummy static
    /// credentials, and each call given up after `timeout` (connecting included).
    pub fn local(endpoint: &str, timeout: Duration) -> Self {
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "herald-local"))
            .endpoint_url(endpoint)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            )
            .build();
        Self::from_client(Client::from_conf(config))
    }

    /// The SDK client, for what herald does not wrap.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The URL of queue `name` (a URL is returned as it is), looked up once.
    pub async fn queue_url(&self, name: &str) -> Result<String, SqsError> {
        if name.starts_with("https://") || name.starts_with("http://") {
            return Ok(name.to_owned());
        }
        if let Some(url) = self.cached(name) {
            return Ok(url);
        }
        let out = self
            .client()
            .get_queue_url()
            .queue_name(name)
            .send()
            .await
            .map_err(api("GetQueueUrl"))
            .map_err(|e| {
                if e.is_queue_missing() {
                    SqsError::Invalid(format!(
                        "queue `{name}` does not exist (create it and its DLQ with Sqs::create_queues)"
                    ))
                } else {
                    e
                }
            })?;
        let url = out
            .queue_url
            .ok_or_else(|| SqsError::Invalid(format!("GetQueueUrl gave no URL for `{name}`")))?;
        self.remember(name, &url);
        Ok(url)
    }

    fn cached(&self, name: &str) -> Option<String> {
        self.inner
            .urls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    pub(crate) fn remember(&self, name: &str, url: &str) {
        self.inner
            .urls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), url.to_owned());
    }
}
