//! Source: raw messages from the durable pull consumer.
//!
//! Contract: [`Source::next`] yields the next raw message, or `None` once the
//! shutdown future resolves (it then stops pulling at once). Transient
//! failures (a server restart, missed heartbeats, a cluster fail-over) are
//! logged and the pull is re-established with backoff; they never end the
//! worker. Acks are explicit and left to the caller.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::{self, consumer::PullConsumer};
use futures::{FutureExt, StreamExt};

pub struct Source {
    consumer: PullConsumer,
    batch_size: usize,
    messages: Option<jetstream::consumer::pull::Stream>,
    backoff: Duration,
}

impl Source {
    pub fn new(consumer: PullConsumer, batch_size: usize) -> Self {
        Source {
            consumer,
            batch_size,
            messages: None,
            backoff: Duration::from_millis(100),
        }
    }

    /// The next message, or `None` when `shutdown` resolved first.
    pub async fn next(
        &mut self,
        shutdown: &mut Pin<&mut (impl Future<Output = ()> + ?Sized)>,
    ) -> Option<jetstream::Message> {
        loop {
            if self.messages.is_none() {
                let opened = tokio::select! {
                    biased;
                    _ = shutdown.as_mut() => return None,
                    opened = self.open() => opened,
                };
                match opened {
                    Ok(stream) => self.messages = Some(stream),
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in_ms = self.backoff.as_millis() as u64, "cannot pull from the consumer; retrying");
                        self.pause(shutdown).await?;
                        continue;
                    }
                }
            }
            let stream = self.messages.as_mut()?;
            let next = tokio::select! {
                biased;
                _ = shutdown.as_mut() => return None,
                next = stream.next() => next,
            };
            match next {
                Some(Ok(message)) => {
                    self.backoff = Duration::from_millis(100);
                    return Some(message);
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "pull from the consumer failed; re-subscribing");
                    self.messages = None;
                    self.pause(shutdown).await?;
                }
                None => {
                    tracing::warn!("consumer message stream ended; re-subscribing");
                    self.messages = None;
                }
            }
        }
    }

    async fn open(&self) -> anyhow::Result<jetstream::consumer::pull::Stream> {
        let stream = self
            .consumer
            .stream()
            .max_messages_per_batch(self.batch_size)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await?;
        Ok(stream)
    }

    async fn pause(
        &mut self,
        shutdown: &mut Pin<&mut (impl Future<Output = ()> + ?Sized)>,
    ) -> Option<()> {
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(Duration::from_secs(5));
        tokio::select! {
            biased;
            _ = shutdown.as_mut() => None,
            _ = tokio::time::sleep(wait) => Some(()),
        }
    }

    /// Hands back messages already pulled into this client but not yet
    /// yielded, so other workers get them now rather than after `ack_wait`.
    /// Called once pulling has stopped.
    pub async fn release_buffered(&mut self) -> usize {
        let Some(stream) = self.messages.as_mut() else {
            return 0;
        };
        let mut released = 0;
        while let Some(Some(Ok(message))) = stream.next().now_or_never() {
            if message.ack_with(AckKind::Nak(None)).await.is_ok() {
                released += 1;
            }
        }
        self.messages = None;
        released
    }

    /// The consumer, for lag queries.
    pub fn consumer(&self) -> &PullConsumer {
        &self.consumer
    }
}
