//! One bound connection: writes submits within the window and the throughput limit, matches
//! their responses, keeps the link alive, and answers what the SMSC sends.

use std::collections::HashMap;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rusmpp::pdus::DeliverSm;
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio::sync::oneshot;
use tokio::time::{sleep_until, Instant};

use super::handle::Request;
use super::inbound::{handle_deliver_sm, inbound_event, PART_WAIT};
use super::pdu::{deliver_sm_resp, generic_nack, is_transient, response, status_name};
use super::session::{Connection, Sequence, Shared};
use crate::sms::SmsSendError;

/// How the link ended.
pub(crate) enum Exit {
    Shutdown,
    Dropped(String),
}

/// How often incomplete MO messages are checked for expiry.
const EXPIRY_CHECK: Duration = Duration::from_secs(30);

struct InFlight {
    reply: oneshot::Sender<Result<String, SmsSendError>>,
    deadline: Instant,
}

pub(crate) struct Link<'a> {
    connection: Connection,
    sequence: Sequence,
    shared: &'a mut Shared,
    in_flight: HashMap<u32, InFlight>,
    /// Earliest time the next submit may be written (throughput limit).
    next_submit: Instant,
    submit_interval: Option<Duration>,
    last_received: Instant,
    /// When our unanswered `enquire_link` was sent.
    enquire_sent: Option<Instant>,
    next_expiry_check: Instant,
}

impl<'a> Link<'a> {
    pub fn new(connection: Connection, sequence: Sequence, shared: &'a mut Shared) -> Self {
        let now = Instant::now();
        let rate = shared.config.throughput_per_sec;
        Link {
            connection,
            sequence,
            in_flight: HashMap::new(),
            next_submit: now,
            submit_interval: (rate > 0).then(|| Duration::from_secs_f64(1.0 / rate as f64)),
            last_received: now,
            enquire_sent: None,
            next_expiry_check: now + EXPIRY_CHECK,
            shared,
        }
    }

    pub async fn run(mut self) -> Exit {
        let exit = match self.serve().await {
            Ok(()) => self.close().await,
            Err(reason) => Exit::Dropped(reason),
        };
        // Whatever was written and not answered may have been accepted.
        let reason = match &exit {
            Exit::Shutdown => "the session was shut down before the SMSC answered",
            Exit::Dropped(_) => "the connection dropped before the SMSC answered",
        };
        for (_, in_flight) in self.in_flight.drain() {
            let _ = in_flight.reply.send(Err(SmsSendError::Uncertain(reason.into())));
        }
        exit
    }

    /// Runs until shutdown is asked (`Ok`) or the link fails (`Err` with the reason).
    async fn serve(&mut self) -> Result<(), String> {
        let window = self.shared.config.window.max(1);
        loop {
            if self.shared.shutting_down() {
                return Ok(());
            }
            let wake = self.next_timer();
            let throttle = self.throttle_until();
            tokio::select! {
                _ = self.shared.shutdown.changed() => {}
                frame = self.connection.next() => match frame {
                    None => return Err("the SMSC closed the connection".into()),
                    Some(Err(e)) => return Err(format!("unreadable PDU from the SMSC: {e}")),
                    Some(Ok(command)) => {
                        self.last_received = Instant::now();
                        self.on_command(command).await?;
                    }
                },
                request = next_request(&mut self.shared.requests, throttle), if self.in_flight.len() < window => {
                    match request {
                        // Every handle is gone: nobody can submit or listen for results.
                        None => return Ok(()),
                        Some(request) => self.write_submits(request, window).await?,
                    }
                },
                _ = sleep_until(wake) => self.on_timer().await?,
            }
        }
    }

    fn throttle_until(&self) -> Option<Instant> {
        self.submit_interval
            .map(|_| self.next_submit)
            .filter(|t| *t > Instant::now())
    }

    /// Writes `first` and whatever else is queued that the window and the limit allow, then
    /// flushes once: under load many submits share one write.
    async fn write_submits(&mut self, first: Request, window: usize) -> Result<(), String> {
        let mut next = Some(first);
        while let Some(request) = next.take() {
            self.feed_submit(request).await?;
            if self.in_flight.len() < window && self.throttle_until().is_none() {
                next = self.shared.requests.try_recv().ok();
            }
        }
        SinkExt::<Command>::flush(&mut self.connection)
            .await
            .map_err(|e| format!("writing to the SMSC: {e}"))
    }

    async fn feed_submit(&mut self, request: Request) -> Result<(), String> {
        if !request.claim() {
            return Ok(()); // Abandoned by its caller while queued.
        }
        let now = Instant::now();
        if let Some(interval) = self.submit_interval {
            self.next_submit = self.next_submit.max(now) + interval;
        }
        let sequence = self.sequence.next();
        let deadline = now + self.shared.config.response_timeout();
        self.in_flight.insert(
            sequence,
            InFlight {
                reply: request.reply,
                deadline,
            },
        );
        let command = Command::new(CommandStatus::EsmeRok, sequence, request.submit);
        self.connection
            .feed(command)
            .await
            .map_err(|e| format!("writing to the SMSC: {e}"))
    }

    async fn send(&mut self, command: Command) -> Result<(), String> {
        self.connection
            .send(command)
            .await
            .map_err(|e| format!("writing to the SMSC: {e}"))
    }

    async fn on_command(&mut self, command: Command) -> Result<(), String> {
        let sequence = command.sequence_number();
        match command.id() {
            CommandId::SubmitSmResp | CommandId::GenericNack => self.on_submit_answer(&command),
            CommandId::DeliverSm => {
                if let Some(Pdu::DeliverSm(deliver)) = command.pdu() {
                    self.on_deliver(deliver).await;
                }
                // Answered only after the event was handed on: if we drop before, the SMSC
                // delivers it again rather than it being lost.
                self.send(deliver_sm_resp(sequence)).await?;
            }
            CommandId::EnquireLink => self.send(response(sequence, Pdu::EnquireLinkResp)).await?,
            CommandId::EnquireLinkResp => self.enquire_sent = None,
            CommandId::Unbind => {
                let _ = self.send(response(sequence, Pdu::UnbindResp)).await;
                return Err("the SMSC unbound".into());
            }
            // Requests we do not serve as an ESME (data_sm, query_sm, …) get a generic_nack;
            // alert_notification needs no answer and other responses are ignored.
            id if !is_response(id) && id != CommandId::AlertNotification => {
                self.send(generic_nack(sequence, CommandStatus::EsmeRinvcmdid)).await?
            }
            _ => {}
        }
        Ok(())
    }

    fn on_submit_answer(&mut self, command: &Command) {
        let Some(in_flight) = self.in_flight.remove(&command.sequence_number()) else {
            // A late answer to a submit already reported uncertain, or a nack to something else.
            return;
        };
        let status = command.status();
        let result = if status == CommandStatus::EsmeRok && command.id() == CommandId::SubmitSmResp {
            let id = match command.pdu() {
                Some(Pdu::SubmitSmResp(resp)) => resp.message_id().as_str().trim().to_string(),
                _ => String::new(),
            };
            Ok(id)
        } else if is_transient(status) {
            Err(SmsSendError::RetryLater {
                message: status_name(status),
                retry_after_ms: None,
            })
        } else {
            Err(SmsSendError::Rejected {
                code: rejection_code(status),
                message: status_name(status),
            })
        };
        let _ = in_flight.reply.send(result);
    }

    async fn on_deliver(&mut self, deliver: &DeliverSm) {
        let events = handle_deliver_sm(deliver, &mut self.shared.reassembly, std::time::Instant::now());
        for event in events {
            self.shared.emit(event).await;
        }
    }

    fn next_timer(&self) -> Instant {
        let config = &self.shared.config;
        let keepalive = match self.enquire_sent {
            Some(sent) => sent + config.response_timeout(),
            None => self.last_received + Duration::from_secs(config.enquire_link_secs.max(1)),
        };
        let earliest_submit = self.in_flight.values().map(|f| f.deadline).min();
        [Some(keepalive), earliest_submit, Some(self.next_expiry_check)]
            .into_iter()
            .flatten()
            .min()
            .expect("keepalive is always set")
    }

    async fn on_timer(&mut self) -> Result<(), String> {
        let now = Instant::now();
        let expired: Vec<u32> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(s, _)| *s)
            .collect();
        for sequence in expired {
            if let Some(f) = self.in_flight.remove(&sequence) {
                let _ = f.reply.send(Err(SmsSendError::Uncertain(
                    "no submit_sm_resp within the response timeout".into(),
                )));
            }
        }
        if now >= self.next_expiry_check {
            self.next_expiry_check = now + EXPIRY_CHECK;
            for mo in self.shared.reassembly.expire(std::time::Instant::now(), PART_WAIT) {
                self.shared.emit(inbound_event(mo)).await;
            }
        }
        let config = &self.shared.config;
        match self.enquire_sent {
            Some(sent) if now >= sent + config.response_timeout() => {
                return Err("no answer to enquire_link within the response timeout".into())
            }
            None if now >= self.last_received + Duration::from_secs(config.enquire_link_secs.max(1)) => {
                let sequence = self.sequence.next();
                self.enquire_sent = Some(now);
                self.send(Command::new(CommandStatus::EsmeRok, sequence, Pdu::EnquireLink))
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Lets the submits in flight be answered (within the response timeout), then unbinds.
    async fn close(&mut self) -> Exit {
        let deadline = Instant::now() + self.shared.config.response_timeout();
        while !self.in_flight.is_empty() {
            match tokio::time::timeout_at(deadline, self.connection.next()).await {
                Ok(Some(Ok(command))) => {
                    if self.on_command(command).await.is_err() {
                        return Exit::Shutdown;
                    }
                }
                _ => break,
            }
        }
        let sequence = self.sequence.next();
        if self
            .send(Command::new(CommandStatus::EsmeRok, sequence, Pdu::Unbind))
            .await
            .is_ok()
        {
            let limit = Instant::now() + Duration::from_secs(2).min(self.shared.config.response_timeout());
            while let Ok(Some(Ok(command))) = tokio::time::timeout_at(limit, self.connection.next()).await {
                if command.id() == CommandId::UnbindResp {
                    break;
                }
            }
        }
        let _ = SinkExt::<Command>::close(&mut self.connection).await;
        Exit::Shutdown
    }
}

async fn next_request(
    requests: &mut tokio::sync::mpsc::Receiver<Request>,
    throttle: Option<Instant>,
) -> Option<Request> {
    if let Some(at) = throttle {
        sleep_until(at).await;
    }
    requests.recv().await
}

fn is_response(id: CommandId) -> bool {
    u32::from(id) & 0x8000_0000 != 0
}

/// Stable names for refusals the server acts on; other statuses keep their SMPP name.
fn rejection_code(status: CommandStatus) -> String {
    match u32::from(status) {
        0x0A | 0x48 | 0x49 => "invalid_sender".into(),
        0x0B | 0x50 | 0x51 => "invalid_recipient".into(),
        _ => status_name(status),
    }
}
