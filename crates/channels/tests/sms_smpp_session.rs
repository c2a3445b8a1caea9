//! Session rules that need an SMSC misbehaving on cue: a scripted peer in this process (on
//! `rusmpp`'s codec) that hangs, withholds answers, checks the link or unbinds. The interop
//! tests cover the well-behaved SMSC.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use recado_channels::sms::smpp::{parts_from_plan, start, SmppConfig, SmppEvent, SmppHandle};
use recado_channels::sms::SmsSendError;
use recado_sms::{plan, AnalyzeOptions};
use rusmpp::pdus::{BindTransceiverResp, SubmitSmResp};
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::types::COctetString;
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Accepts the connection and never says anything.
    Silent,
    /// Binds and answers everything.
    Normal,
    /// Binds, never answers submit_sm.
    NoSubmitResp,
    /// Binds, never answers enquire_link.
    NoEnquireResp,
}

/// What the peer saw, and a way to make it speak first.
struct Peer {
    port: u16,
    seen: mpsc::UnboundedReceiver<Command>,
    say: mpsc::UnboundedSender<Command>,
}

async fn peer(mode: Mode) -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let (say, mut said) = mpsc::unbounded_channel::<Command>();
    tokio::spawn(async move {
        // One connection at a time, as an SMSC account with one bind allowed.
        while let Ok((stream, _)) = listener.accept().await {
            let mut framed = Framed::new(stream, CommandCodec::new());
            loop {
                tokio::select! {
                    command = framed.next() => {
                        let Some(Ok(command)) = command else { break };
                        let answer = answer(mode, &command);
                        let _ = seen_tx.send(command);
                        if let Some(answer) = answer {
                            if framed.send(answer).await.is_err() {
                                break;
                            }
                        }
                    }
                    Some(command) = said.recv() => {
                        if framed.send(command).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    });
    Peer { port, seen, say }
}

fn answer(mode: Mode, command: &Command) -> Option<Command> {
    let pdu: Pdu = match (mode, command.id()) {
        (Mode::Silent, _) => return None,
        (_, CommandId::BindTransceiver) => BindTransceiverResp::builder()
            .system_id(COctetString::from_string("peer".into()).unwrap())
            .build()
            .into(),
        (Mode::NoSubmitResp, CommandId::SubmitSm) => return None,
        (_, CommandId::SubmitSm) => SubmitSmResp::builder()
            .message_id(COctetString::from_string(format!("M{}", command.sequence_number())).unwrap())
            .build()
            .into(),
        (Mode::NoEnquireResp, CommandId::EnquireLink) => return None,
        (_, CommandId::EnquireLink) => Pdu::EnquireLinkResp,
        (_, CommandId::Unbind) => Pdu::UnbindResp,
        _ => return None,
    };
    Some(Command::new(CommandStatus::EsmeRok, command.sequence_number(), pdu))
}

impl Peer {
    /// The next command the peer received of kind `id`, within 5 s.
    async fn next_of(&mut self, id: CommandId) -> Command {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, self.seen.recv()).await {
                Ok(Some(command)) if command.id() == id => return command,
                Ok(Some(_)) => {}
                other => panic!("no {id:?} received: {other:?}"),
            }
        }
    }
}

fn config(port: u16) -> SmppConfig {
    let mut config = SmppConfig::new("127.0.0.1", port, "recado", "secret");
    config.response_timeout_secs = 1;
    config.reconnect_min_ms = 20;
    config.reconnect_max_ms = 100;
    config
}

async fn event(events: &mut mpsc::Receiver<SmppEvent>, wanted: impl Fn(&SmppEvent) -> bool) -> SmppEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(e)) if wanted(&e) => return e,
            Ok(Some(_)) => {}
            other => panic!("event not seen: {other:?}"),
        }
    }
}

async fn bound(port: u16, tune: impl FnOnce(&mut SmppConfig)) -> (SmppHandle, mpsc::Receiver<SmppEvent>) {
    let mut config = config(port);
    tune(&mut config);
    let (tx, mut events) = mpsc::channel(64);
    let handle = start(config, tx);
    event(&mut events, |e| *e == SmppEvent::Bound).await;
    (handle, events)
}

fn message() -> Vec<recado_channels::sms::smpp::SubmitPart> {
    parts_from_plan(&plan("hello", &AnalyzeOptions::default(), 0).unwrap())
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_bind_that_hangs() {
    let mut peer = peer(Mode::Silent).await;
    let mut config = config(peer.port);
    config.response_timeout_secs = 30;
    let (tx, _events) = mpsc::channel(64);
    let handle = start(config, tx);
    peer.next_of(CommandId::BindTransceiver).await;
    let started = Instant::now();
    handle.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_submit_without_an_answer_is_uncertain_after_the_response_timeout() {
    let peer = peer(Mode::NoSubmitResp).await;
    let (handle, _events) = bound(peer.port, |c| c.window = 1).await;
    let started = Instant::now();
    let err = handle.submit("Recado", "+5511900000001", message()).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Uncertain(_)), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(900));
    // The window slot is free again: the next submit is written (and also left unanswered).
    let err = handle.submit("Recado", "+5511900000001", message()).await.unwrap_err();
    assert!(matches!(err, SmsSendError::Uncertain(_)), "{err:?}");
    handle.shutdown().await;
}

#[tokio::test]
async fn the_smscs_enquire_link_is_answered_with_its_sequence_number() {
    let mut peer = peer(Mode::Normal).await;
    let (handle, _events) = bound(peer.port, |_| {}).await;
    peer.say
        .send(Command::new(CommandStatus::EsmeRok, 777, Pdu::EnquireLink))
        .unwrap();
    let resp = peer.next_of(CommandId::EnquireLinkResp).await;
    assert_eq!(resp.sequence_number(), 777);
    // A request the ESME does not serve gets a generic_nack, and the link stays up.
    peer.say
        .send(Command::new(CommandStatus::EsmeRok, 778, Pdu::CancelSmResp))
        .unwrap();
    peer.say
        .send(Command::new(CommandStatus::EsmeRok, 779, Pdu::EnquireLink))
        .unwrap();
    assert_eq!(peer.next_of(CommandId::EnquireLinkResp).await.sequence_number(), 779);
    assert_eq!(
        handle
            .submit("Recado", "+5511900000001", message())
            .await
            .unwrap()
            .len(),
        1
    );
    handle.shutdown().await;
    peer.next_of(CommandId::Unbind).await;
}

#[tokio::test]
async fn a_link_whose_enquire_link_goes_unanswered_is_dropped_and_bound_again() {
    let mut peer = peer(Mode::NoEnquireResp).await;
    let (handle, mut events) = bound(peer.port, |c| c.enquire_link_secs = 1).await;
    peer.next_of(CommandId::EnquireLink).await;
    match event(&mut events, |e| matches!(e, SmppEvent::Disconnected { .. })).await {
        SmppEvent::Disconnected { reason } => assert!(reason.contains("enquire_link"), "{reason}"),
        other => panic!("{other:?}"),
    }
    event(&mut events, |e| *e == SmppEvent::Bound).await;
    assert_eq!(peer.next_of(CommandId::BindTransceiver).await.sequence_number(), 1);
    handle.shutdown().await;
}

#[tokio::test]
async fn an_unbind_from_the_smsc_is_answered_and_the_session_binds_again() {
    let mut peer = peer(Mode::Normal).await;
    let (handle, mut events) = bound(peer.port, |_| {}).await;
    peer.say
        .send(Command::new(CommandStatus::EsmeRok, 9, Pdu::Unbind))
        .unwrap();
    assert_eq!(peer.next_of(CommandId::UnbindResp).await.sequence_number(), 9);
    match event(&mut events, |e| matches!(e, SmppEvent::Disconnected { .. })).await {
        SmppEvent::Disconnected { reason } => assert!(reason.contains("unbound"), "{reason}"),
        other => panic!("{other:?}"),
    }
    event(&mut events, |e| *e == SmppEvent::Bound).await;
    assert!(handle.is_bound());
    assert_eq!(
        handle
            .submit("Recado", "+5511900000001", message())
            .await
            .unwrap()
            .len(),
        1
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn invalid_parts_and_addresses_are_rejected_before_anything_is_sent() {
    let mut peer = peer(Mode::Normal).await;
    let (handle, _events) = bound(peer.port, |_| {}).await;
    let too_long = recado_channels::sms::smpp::SubmitPart {
        esm_class: 0,
        data_coding: 0,
        short_message: vec![b'a'; 255],
    };
    for (to, parts) in [
        ("+5511900000001", vec![]),
        ("+5511900000001", vec![too_long]),
        ("+551190000000112345678901", message()),
    ] {
        match handle.submit("Recado", to, parts).await {
            Err(SmsSendError::Rejected { .. }) => {}
            other => panic!("{to}: {other:?}"),
        }
    }
    handle.shutdown().await;
    // Only the bind and the unbind reached the SMSC.
    let bind = peer.seen.recv().await.unwrap();
    assert_eq!(bind.id(), CommandId::BindTransceiver);
    let next = peer.seen.recv().await.unwrap();
    assert_eq!(next.id(), CommandId::Unbind);
}
