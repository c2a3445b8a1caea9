//! The session task: connect, bind, run the bound link, and after a drop reconnect with
//! exponential back-off and jitter, until shut down.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rand::Rng;
use rusmpp::{CommandId, CommandStatus, Pdu};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout, Instant};
use tokio_util::codec::Framed;

use super::config::SmppConfig;
use super::frame::SmppCodec;
use super::handle::{Request, ABANDONED, QUEUED};
use super::inbound::Reassembly;
use super::link::{Exit, Link};
use super::pdu::{bind_transceiver, response, status_name};
use super::SmppEvent;
use crate::sms::SmsSendError;

pub(crate) type Connection = Framed<TcpStream, SmppCodec>;

/// Sequence numbers of one connection: 1 to 0x7FFFFFFF, then around again.
#[derive(Debug, Default)]
pub(crate) struct Sequence(u32);

impl Sequence {
    pub fn next(&mut self) -> u32 {
        self.0 = if self.0 >= 0x7FFF_FFFF { 1 } else { self.0 + 1 };
        self.0
    }
}

/// What the link needs from the task around it.
pub(crate) struct Shared {
    pub config: SmppConfig,
    pub events: mpsc::Sender<SmppEvent>,
    pub requests: mpsc::Receiver<Request>,
    pub shutdown: watch::Receiver<bool>,
    pub reassembly: Reassembly,
}

impl Shared {
    /// Reports an event; a dropped receiver only means nobody listens any more.
    pub async fn emit(&self, event: SmppEvent) {
        let _ = self.events.send(event).await;
    }

    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow() || self.shutdown.has_changed().is_err()
    }
}

pub(crate) async fn run(
    config: SmppConfig,
    events: mpsc::Sender<SmppEvent>,
    requests: mpsc::Receiver<Request>,
    bound: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
) {
    let mut shared = Shared {
        config,
        events,
        requests,
        shutdown,
        reassembly: Reassembly::new(),
    };
    let mut failures: u32 = 0;
    while !shared.shutting_down() {
        let outcome = match shared.config.validate() {
            Err(e) => Err(format!("invalid SMPP settings: {e}")),
            // A shutdown does not wait for a connect or a bind that hangs.
            Ok(()) => tokio::select! {
                outcome = connect_and_bind(&shared.config) => outcome,
                _ = shared.shutdown.changed() => continue,
            },
        };
        match outcome {
            Ok((connection, sequence)) => {
                failures = 0;
                let _ = bound.send(true);
                shared.emit(SmppEvent::Bound).await;
                let exit = Link::new(connection, sequence, &mut shared).run().await;
                let _ = bound.send(false);
                match exit {
                    Exit::Shutdown => break,
                    Exit::Dropped(reason) => {
                        tracing::warn!(reason = %reason, "SMPP connection lost");
                        shared.emit(SmppEvent::Disconnected { reason }).await;
                    }
                }
            }
            Err(reason) => {
                tracing::warn!(reason = %reason, "SMPP bind failed");
                shared.emit(SmppEvent::Disconnected { reason }).await;
            }
        }
        failures = failures.saturating_add(1);
        let delay = backoff(&shared.config, failures);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shared.shutdown.changed() => {}
        }
    }
    // Nothing queued will be written any more: the callers learn it was never sent.
    shared.requests.close();
    while let Ok(request) = shared.requests.try_recv() {
        if request
            .state
            .compare_exchange(
                QUEUED,
                ABANDONED,
                std::sync::atomic::Ordering::AcqRel,
                std::sync::atomic::Ordering::Acquire,
            )
            .is_ok()
        {
            let _ = request.reply.send(Err(SmsSendError::Unreachable(
                "the SMPP session was shut down before the part was sent".into(),
            )));
        }
    }
}

/// Delay before reconnect attempt `failures` (from 1): `min · 2^(failures-1)` capped at `max`,
/// then a random point in its upper half, so that many channels cut off together do not all
/// come back at the same instant.
pub(crate) fn backoff(config: &SmppConfig, failures: u32) -> Duration {
    let min = config.reconnect_min_ms.max(1);
    let max = config.reconnect_max_ms.max(min);
    let base = min.saturating_mul(1u64 << failures.saturating_sub(1).min(30)).min(max);
    let low = base / 2;
    Duration::from_millis(rand::thread_rng().gen_range(low..=base))
}

async fn connect_and_bind(config: &SmppConfig) -> Result<(Connection, Sequence), String> {
    let limit = config.response_timeout();
    let address = format!("{}:{}", config.host, config.port);
    let stream = match timeout(limit, TcpStream::connect(&address)).await {
        Err(_) => return Err(format!("connecting to {address} timed out")),
        Ok(Err(e)) => return Err(format!("cannot connect to {address}: {e}")),
        Ok(Ok(stream)) => stream,
    };
    // Submits are small and latency-bound; do not let Nagle hold them back.
    let _ = stream.set_nodelay(true);
    let mut connection = Framed::new(stream, SmppCodec::new());
    let mut sequence = Sequence::default();
    let bind_sequence = sequence.next();
    connection
        .send(bind_transceiver(config, bind_sequence)?)
        .await
        .map_err(|e| format!("sending bind_transceiver: {e}"))?;
    let deadline = Instant::now() + limit;
    loop {
        let command = match tokio::time::timeout_at(deadline, connection.next()).await {
            Err(_) => return Err("no answer to bind_transceiver in time".into()),
            Ok(None) => return Err("the SMSC closed the connection during the bind".into()),
            Ok(Some(Err(e))) => return Err(format!("unreadable answer to the bind: {e}")),
            Ok(Some(Ok(command))) => command,
        };
        match command.id() {
            CommandId::BindTransceiverResp | CommandId::GenericNack if command.sequence_number() == bind_sequence => {
                if command.status() == CommandStatus::EsmeRok && command.id() == CommandId::BindTransceiverResp {
                    return Ok((connection, sequence));
                }
                return Err(format!("bind refused: {}", status_name(command.status())));
            }
            // Some SMSCs check the link before answering the bind.
            CommandId::EnquireLink => connection
                .send(response(command.sequence_number(), Pdu::EnquireLinkResp))
                .await
                .map_err(|e| format!("answering enquire_link: {e}"))?,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let mut config = SmppConfig::new("h", 1, "id", "pw");
        config.reconnect_min_ms = 100;
        config.reconnect_max_ms = 1_000;
        for _ in 0..50 {
            let d = |n| backoff(&config, n).as_millis() as u64;
            assert!((50..=100).contains(&d(1)));
            assert!((100..=200).contains(&d(2)));
            assert!((200..=400).contains(&d(3)));
            assert!((500..=1_000).contains(&d(5)));
            assert!((500..=1_000).contains(&d(40)));
        }
    }

    #[test]
    fn sequence_numbers_wrap_before_the_high_bit() {
        let mut s = Sequence(0x7FFF_FFFE);
        assert_eq!(s.next(), 0x7FFF_FFFF);
        assert_eq!(s.next(), 1);
    }
}
