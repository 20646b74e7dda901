use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;

use crate::Sqs;
use crate::error::{SqsError, api};

/// How `create_queues` makes a queue.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// The queue's default visibility timeout (a subscriber sets its own on each receive).
    pub visibility_timeout: Duration,
    /// The redrive policy's `maxReceiveCount`: SQS moves a message to the DLQ itself after
    /// this many receives. A backstop for messages herald could not settle (a worker that
    /// crashes on them); keep it above the handlers' `max_attempts`, since herald moves
    /// failed messages itself with their reason, and FIFO requeues count as receives too.
    pub max_receive_count: u32,
    /// How long SQS keeps a message (queue and DLQ): 60 s to 14 days.
    pub retention: Duration,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            visibility_timeout: Duration::from_secs(30),
            max_receive_count: 10,
            retention: Duration::from_secs(14 * 24 * 3600),
        }
    }
}

/// What `create_queues` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub queue: String,
    pub dead_letter_queue: String,
}

/// Whether `queue` (a name or URL) is a FIFO queue.
pub fn is_fifo(queue: &str) -> bool {
    queue.ends_with(".fifo")
}

/// The dead-letter queue of `queue`: `<queue>-dlq`, or `<name>-dlq.fifo` for `<name>.fifo`.
pub fn dead_letter_queue(queue: &str) -> String {
    match queue.strip_suffix(".fifo") {
        Some(name) => format!("{name}-dlq.fifo"),
        None => format!("{queue}-dlq"),
    }
}

impl Sqs {
    /// Creates `queue` (FIFO when it ends in `.fifo`), its dead-letter queue and the redrive
    /// policy from one to the other. Idempotent: queues that exist with these attributes are
    /// left as they are; one that exists with others is updated to them.
    pub async fn create_queues(
        &self,
        queue: &str,
        options: &QueueOptions,
    ) -> Result<QueueUrls, SqsError> {
        check_name(queue)?;
        let dlq = dead_letter_queue(queue);
        let retention = options.retention.as_secs().to_string();
        let mut dlq_attributes = HashMap::from([(
            QueueAttributeName::MessageRetentionPeriod,
            retention.clone(),
        )]);
        if is_fifo(queue) {
            dlq_attributes.insert(QueueAttributeName::FifoQueue, "true".into());
        }
        let dlq_url = self.create(&dlq, dlq_attributes).await?;
        let arn = self
            .client()
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(api("GetQueueAttributes"))?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| SqsError::Invalid(format!("SQS gave no ARN for `{dlq}`")))?;
        let redrive = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": options.max_receive_count.to_string(),
        })
        .to_string();
        let mut attributes = HashMap::from([
            (
                QueueAttributeName::VisibilityTimeout,
                options.visibility_timeout.as_secs().to_string(),
            ),
            (QueueAttributeName::MessageRetentionPeriod, retention),
            (QueueAttributeName::RedrivePolicy, redrive),
        ]);
        if is_fifo(queue) {
            attributes.insert(QueueAttributeName::FifoQueue, "true".into());
        }
        let queue_url = self.create(queue, attributes).await?;
        Ok(QueueUrls {
            queue: queue_url,
            dead_letter_queue: dlq_url,
        })
    }

    /// CreateQueue; when the queue exists with other attributes, sets them instead.
    async fn create(
        &self,
        name: &str,
        attributes: HashMap<QueueAttributeName, String>,
    ) -> Result<String, SqsError> {
        let created = self
            .client()
            .create_queue()
            .queue_name(name)
            .set_attributes(Some(attributes.clone()))
            .send()
            .await
            .map_err(api("CreateQueue"));
        let url = match created {
            Ok(out) => out.queue_url.unwrap_or_default(),
            Err(e)
                if e.code().is_some_and(|c| {
                    c.contains("QueueNameExists") || c.contains("QueueAlreadyExists")
                }) =>
            {
                let url = self.queue_url(name).await?;
                // FifoQueue cannot be changed, and is the same by the name.
                let mut settable = attributes;
                settable.remove(&QueueAttributeName::FifoQueue);
                self.client()
                    .set_queue_attributes()
                    .queue_url(&url)
                    .set_attributes(Some(settable))
                    .send()
                    .await
                    .map_err(api("SetQueueAttributes"))?;
                url
            }
            Err(e) => return Err(e),
        };
        self.remember(name, &url);
        Ok(url)
    }
}

/// SQS queue names: 1 to 80 characters of `[A-Za-z0-9_-]`, and `.fifo` at the end of a FIFO
/// queue's (the DLQ's name adds 4 characters).
fn check_name(queue: &str) -> Result<(), SqsError> {
    let base = queue.strip_suffix(".fifo").unwrap_or(queue);
    let ok = !base.is_empty()
        && dead_letter_queue(queue).len() <= 80
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(SqsError::Invalid(format!(
            "`{queue}` is not a queue name SQS takes with its `-dlq`: 1 to 76 characters of letters, digits, `-` and `_` (no dots), `.fifo` at the end of a FIFO queue"
        )))
    }
}
