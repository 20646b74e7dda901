//! Creating a topic with its retry topics and DLQ, idempotently.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::{KafkaConfig, KafkaError, topics};

/// Creates `topic`, `<topic>.retry.1..=retry_topics` and `<topic>.dlq` with `partitions`
/// partitions each; topics that exist already are left as they are.
pub async fn create_topics(
    config: &KafkaConfig,
    topic: &str,
    partitions: i32,
    retry_topics: u32,
) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = config
        .client_config(&[])
        .create()
        .map_err(|e| KafkaError::Config(e.to_string()))?;
    let mut names = vec![topic.to_owned(), topics::dlq_topic(topic)];
    names.extend((1..=retry_topics).map(|n| topics::retry_topic(topic, n)));
    let new: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(-1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(&new, &options).await? {
        match result {
            Ok(_) => {}
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(KafkaError::Config(format!(
                    "creating topic `{name}`: {code}"
                )));
            }
        }
    }
    Ok(())
}
