//! The SMPP ESME against an SMSC that is not our code: `tests/smsc/smsc.js`, built on the npm
//! `smpp` package. The SMSC records every PDU it receives, so each test checks the bytes on
//! the wire as an independent implementation decoded them, not only what the ESME reports.
//!
//! Needs `node`; the `smpp` package is installed from `tests/smsc/package-lock.json` on first
//! use. Without `node` the tests are skipped, except with `CI=true`, where they fail.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use recado_channels::sms::smpp::{parts_from_plan, start, SmppConfig, SmppEvent, SmppHandle, SmppVersion};
use recado_channels::sms::testkit::TestSmsc;
use recado_channels::sms::{DeliveryState, SmsSendError};
use recado_sms::{decode_with, join, plan, AnalyzeOptions, DecodeOptions, Encoding, Gsm7Layout};
use serde_json::{json, Value};
use tokio::sync::mpsc;

const FROM: &str = "+15550001111";
const TO: &str = "+5511900000001";

struct Esme {
    handle: SmppHandle,
    events: mpsc::Receiver<SmppEvent>,
    /// Events passed over while waiting for another one, oldest first.
    skipped: Vec<SmppEvent>,
}

impl Esme {
    async fn start(config: SmppConfig) -> Esme {
        let (tx, events) = mpsc::channel(1024);
        let handle = start(config, tx);
        let mut esme = Esme {
            handle,
            events,
            skipped: Vec::new(),
        };
        esme.expect(|e| *e == SmppEvent::Bound, "the first bind").await;
        esme
    }

    /// The next event matching `wanted` within 10 s, earlier skipped ones first; others are
    /// kept for later calls.
    async fn expect(&mut self, wanted: impl Fn(&SmppEvent) -> bool, what: &str) -> SmppEvent {
        if let Some(i) = self.skipped.iter().position(&wanted) {
            return self.skipped.remove(i);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if wanted(&event) => return event,
                Ok(Some(event)) => self.skipped.push(event),
                Ok(None) => panic!("the session ended while waiting for {what}"),
                Err(_) => panic!("no event for {what} within 10 s"),
            }
        }
    }

    /// Delivery receipts for `ids`, by id, within 10 s.
    async fn receipts(&mut self, ids: &[String]) -> Vec<(String, DeliveryState)> {
        let mut wanted: HashSet<&String> = ids.iter().collect();
        let mut found = Vec::new();
        while !wanted.is_empty() {
            if let SmppEvent::Receipt { message_id, state, .. } = self
                .expect(|e| matches!(e, SmppEvent::Receipt { .. }), "receipts")
                .await
            {
                if wanted.remove(&message_id) {
                    found.push((message_id, state));
                }
            }
        }
        found
    }
}

/// Waits up to 5 s for an SMSC counter to reach `value`.
async fn wait_for_stat(smsc: &TestSmsc, name: &str, value: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stats = smsc.stats().await;
        if stats[name].as_u64() == Some(value) {
            return;
        }
        assert!(Instant::now() < deadline, "{name} is not {value}: {stats}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn submit_sms(pdus: &[Value]) -> Vec<&Value> {
    pdus.iter().filter(|p| p["command"] == "submit_sm").collect()
}

fn hex(bytes: &str) -> Vec<u8> {
    (0..bytes.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&bytes[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test]
async fn a_three_part_gsm_message_arrives_as_three_concatenated_submits_and_each_part_is_delivered() {
    let Some(smsc) = TestSmsc::start_or_skip(&[]).await else {
        return;
    };
    let mut esme = Esme::start(smsc.esme_config()).await;
    let text =
        "Olá! Aproveite a promoção de verão: 20% de desconto com o código {VERAO} até domingo, 5€ de frete. ".repeat(4);
    let plan = plan(&text, &AnalyzeOptions::default(), 0xA7).unwrap();
    assert_eq!((plan.analysis.encoding, plan.parts.len()), (Encoding::Gsm7, 3));
    let ids = esme
        .handle
        .submit(FROM, TO, parts_from_plan(&plan))
        .await
        .expect("accepted");
    assert_eq!(ids.len(), 3);

    let pdus = smsc.pdus().await;
    let submits = submit_sms(&pdus);
    assert_eq!(submits.len(), 3);
    let options = DecodeOptions {
        gsm7_layout: Gsm7Layout::Unpacked,
        user_data_length: None,
    };
    let mut decoded = Vec::new();
    let mut smsc_text = String::new();
    for (i, pdu) in submits.iter().enumerate() {
        // Same reference, total 3, sequence 1..3, in the SMSC's own reading of the UDH.
        assert_eq!(pdu["udh_hex"], json!([format!("0003a703{:02x}", i + 1)]), "{pdu}");
        assert_eq!(pdu["esm_class"], 0x40);
        assert_eq!(pdu["data_coding"], 0);
        assert_eq!(pdu["registered_delivery"], 1);
        assert_eq!(
            (&pdu["source_addr_ton"], &pdu["source_addr_npi"]),
            (&json!(1), &json!(1))
        );
        assert_eq!(pdu["source_addr"], "15550001111");
        assert_eq!((&pdu["dest_addr_ton"], &pdu["dest_addr_npi"]), (&json!(1), &json!(1)));
        assert_eq!(pdu["destination_addr"], "5511900000001");
        assert_eq!(
            pdu["message_id"],
            ids[i].as_str(),
            "the ids the ESME reports are the SMSC's"
        );
        smsc_text.push_str(pdu["text"].as_str().unwrap());
        let raw = hex(pdu["short_message_hex"].as_str().unwrap());
        assert_eq!(&raw[..6], &[0x05, 0x00, 0x03, 0xA7, 3, i as u8 + 1]);
        decoded.push(decode_with(&raw, 0, true, options).unwrap());
    }
    assert_eq!(smsc_text, plan.analysis.text, "the SMSC reads unpacked GSM as sent");
    assert_eq!(join(&decoded).unwrap(), plan.analysis.text);

    for (id, state) in esme.receipts(&ids).await {
        assert_eq!(state, DeliveryState::Delivered, "{id}");
    }
    esme.handle.shutdown().await;
}

#[tokio::test]
async fn a_ucs2_message_with_an_emoji_uses_data_coding_8() {
    let Some(smsc) = TestSmsc::start_or_skip(&[]).await else {
        return;
    };
    let esme = Esme::start(smsc.esme_config()).await;
    let plan = plan("Olá Ana 😀 até já", &AnalyzeOptions::default(), 1).unwrap();
    assert_eq!(plan.analysis.encoding, Encoding::Ucs2);
    esme.handle.submit(FROM, TO, parts_from_plan(&plan)).await.unwrap();
    let pdus = smsc.pdus_of("submit_sm").await;
    assert_eq!(pdus.len(), 1);
    assert_eq!(pdus[0]["data_coding"], 8);
    assert_eq!(pdus[0]["esm_class"], 0);
    assert_eq!(pdus[0]["text"], "Olá Ana 😀 até já");
    esme.handle.shutdown().await;
}

#[tokio::test]
async fn an_mo_stop_and_a_concatenated_mo_arrive_as_inbound_events() {
    let Some(smsc) = TestSmsc::start_or_skip(&[]).await else {
        return;
    };
    let mut esme = Esme::start(smsc.esme_config()).await;
    assert!(
        smsc.send_mo(json!({ "from": TO, "to": "+15550001111", "text": "STOP" }))
            .await
    );
    let event = esme
        .expect(|e| matches!(e, SmppEvent::Inbound { .. }), "the MO STOP")
        .await;
    assert_eq!(
        event,
        SmppEvent::Inbound {
            from: TO.into(),
            to: "+15550001111".into(),
            text: "STOP".into(),
            data_coding: 0
        }
    );
    // The SMSC's GSM encoder knows the default alphabet and its extension only.
    let parts = json!([
        "Quero saber mais sobre ",
        "a oferta de Época, ü ",
        "por favor {obrigado} €5"
    ]);
    assert!(smsc.send_mo(json!({ "from": TO, "to": "12345", "parts": parts })).await);
    match esme
        .expect(|e| matches!(e, SmppEvent::Inbound { .. }), "the concatenated MO")
        .await
    {
        SmppEvent::Inbound { text, to, .. } => {
            assert_eq!(
                text,
                "Quero saber mais sobre a oferta de Época, ü por favor {obrigado} €5"
            );
            assert_eq!(to, "12345");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        smsc.send_mo(json!({ "from": TO, "to": "12345", "text": "Sim 👍", "data_coding": 8 }))
            .await
    );
    match esme
        .expect(|e| matches!(e, SmppEvent::Inbound { .. }), "the UCS-2 MO")
        .await
    {
        SmppEvent::Inbound { text, data_coding, .. } => assert_eq!((text.as_str(), data_coding), ("Sim 👍", 8)),
        other => panic!("{other:?}"),
    }
    // Every MO was acknowledged with deliver_sm_resp (right after its event was handed on).
    wait_for_stat(&smsc, "mo_acked", 5).await;
    esme.handle.shutdown().await;
}

#[tokio::test]
async fn a_dropped_connection_is_reestablished_and_no_submit_is_lost() {
    let Some(smsc) = TestSmsc::start_or_skip(&["--receipt-delay-ms", "300"]).await else {
        return;
    };
    // Answers come 100 ms late, so that submits are in flight when the connection drops.
    smsc.configure(json!({ "respond_delay_ms": 100 })).await;
    let mut config = smsc.esme_config();
    config.response_timeout_secs = 2;
    let mut esme = Esme::start(config).await;
    let mut sends = Vec::new();
    for i in 0..40 {
        let handle = esme.handle.clone();
        sends.push(tokio::spawn(async move {
            let to = format!("+55119{i:08}");
            let parts = parts_from_plan(&plan(&format!("message {i}"), &AnalyzeOptions::default(), 0).unwrap());
            let result = handle.submit(FROM, &to, parts).await;
            (to, result)
        }));
        tokio::time::sleep(Duration::from_millis(10)).await;
        if i == 15 {
            assert_eq!(smsc.drop_connections().await, 1);
        }
    }
    esme.expect(|e| matches!(e, SmppEvent::Disconnected { .. }), "the drop")
        .await;
    esme.expect(|e| *e == SmppEvent::Bound, "the bind after the drop").await;
    let mut results = Vec::new();
    for send in sends {
        results.push(send.await.unwrap());
    }

    let pdus = smsc.pdus().await;
    let seen: HashSet<String> = submit_sms(&pdus)
        .iter()
        .map(|p| format!("+{}", p["destination_addr"].as_str().unwrap()))
        .collect();
    let mut accepted = Vec::new();
    for (to, result) in &results {
        match result {
            Ok(ids) => {
                assert!(seen.contains(to), "{to} acknowledged but never received");
                accepted.extend(ids.iter().cloned());
            }
            // Never written: the SMSC must not have it, so sending it again is safe.
            Err(SmsSendError::Unreachable(_)) => assert!(!seen.contains(to), "{to} reported unsent but arrived"),
            Err(SmsSendError::Uncertain(_)) => {}
            Err(other) => panic!("{to}: {other:?}"),
        }
    }
    let uncertain = results
        .iter()
        .filter(|(_, r)| matches!(r, Err(SmsSendError::Uncertain(_))))
        .count();
    assert!(uncertain >= 1, "some submits were in flight at the drop: {results:?}");
    assert!(
        accepted.len() >= 20,
        "the submits after the drop went through: {results:?}"
    );
    // Receipts of parts acknowledged before the drop wait in the SMSC and come after the bind.
    let receipts = esme.receipts(&accepted).await;
    assert_eq!(receipts.len(), accepted.len());
    assert!(smsc.stats().await["binds"].as_u64().unwrap() >= 2);
    esme.handle.shutdown().await;
}

#[tokio::test]
async fn throughput_limit_is_respected() {
    let Some(smsc) = TestSmsc::start_or_skip(&["--no-receipts"]).await else {
        return;
    };
    let mut config = smsc.esme_config();
    config.throughput_per_sec = 20;
    let esme = Esme::start(config).await;
    let n = 21;
    let started = Instant::now();
    let sends = (0..n).map(|i| {
        let handle = esme.handle.clone();
        async move {
            let parts = parts_from_plan(&plan(&format!("n{i}"), &AnalyzeOptions::default(), 0).unwrap());
            handle.submit(FROM, TO, parts).await
        }
    });
    let results = futures::future::join_all(sends).await;
    let elapsed = started.elapsed();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // N submits at R/s take at least (N-1)/R seconds.
    assert!(elapsed >= Duration::from_secs_f64((n - 1) as f64 / 20.0), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert_eq!(smsc.pdus_of("submit_sm").await.len(), n);
    esme.handle.shutdown().await;
}

#[tokio::test]
async fn the_window_limits_unacknowledged_submits() {
    let Some(smsc) = TestSmsc::start_or_skip(&["--no-receipts"]).await else {
        return;
    };
    smsc.configure(json!({ "respond_delay_ms": 200 })).await;
    let mut config = smsc.esme_config();
    config.window = 2;
    let esme = Esme::start(config).await;
    let started = Instant::now();
    let sends = (0..6).map(|_| {
        let handle = esme.handle.clone();
        async move {
            handle
                .submit(
                    FROM,
                    TO,
                    parts_from_plan(&plan("w", &AnalyzeOptions::default(), 0).unwrap()),
                )
                .await
        }
    });
    let results = futures::future::join_all(sends).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // Six answers 200 ms late, two at a time: three rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(580),
        "{:?}",
        started.elapsed()
    );
    esme.handle.shutdown().await;
}

#[tokio::test]
async fn throttled_and_refused_submits() {
    let Some(smsc) = TestSmsc::start_or_skip(&["--no-receipts"]).await else {
        return;
    };
    let esme = Esme::start(smsc.esme_config()).await;
    let one = || parts_from_plan(&plan("hello", &AnalyzeOptions::default(), 0).unwrap());
    for (status, expected) in [(0x58, "RetryLater"), (0x14, "RetryLater"), (0x0B, "Rejected")] {
        smsc.configure(json!({ "reject": [{ "count": 1, "status": status }] }))
            .await;
        let err = esme.handle.submit(FROM, TO, one()).await.unwrap_err();
        let kind = match &err {
            SmsSendError::RetryLater { .. } => "RetryLater",
            SmsSendError::Rejected { .. } => "Rejected",
            _ => "other",
        };
        assert_eq!(kind, expected, "status {status:#x}: {err:?}");
    }
    smsc.configure(json!({ "reject": [{ "count": 1, "status": 0x0B }] }))
        .await;
    match esme.handle.submit(FROM, TO, one()).await {
        Err(SmsSendError::Rejected { code, .. }) => assert_eq!(code, "invalid_recipient"),
        other => panic!("{other:?}"),
    }
    assert_eq!(esme.handle.submit(FROM, TO, one()).await.unwrap().len(), 1);
    // A later part that is throttled is retried; the message still arrives whole.
    let long = plan(&"x".repeat(200), &AnalyzeOptions::default(), 9).unwrap();
    smsc.configure(json!({ "reject": [] })).await;
    let before = smsc.pdus_of("submit_sm").await.len();
    let handle = esme.handle.clone();
    let submit = tokio::spawn(async move { handle.submit(FROM, TO, parts_from_plan(&long)).await });
    while smsc.pdus_of("submit_sm").await.len() == before {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    smsc.configure(json!({ "reject": [{ "count": 1, "status": 0x58 }] }))
        .await;
    let ids = submit.await.unwrap().expect("both parts accepted in the end");
    assert_eq!(ids.len(), 2);
    esme.handle.shutdown().await;
}

#[tokio::test]
async fn smpp_5_binds_receipts_with_tlvs_keepalive_and_unbind() {
    let Some(smsc) = TestSmsc::start_or_skip(&["--receipt-tlvs"]).await else {
        return;
    };
    let mut config = smsc.esme_config();
    config.interface_version = SmppVersion::V50;
    config.enquire_link_secs = 1;
    config.system_type = "recado".into();
    let mut esme = Esme::start(config).await;
    let ids = esme
        .handle
        .submit(
            "Recado",
            TO,
            parts_from_plan(&plan("Oi", &AnalyzeOptions::default(), 0).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(esme.receipts(&ids).await[0].1, DeliveryState::Delivered);
    let submit = &smsc.pdus_of("submit_sm").await[0];
    assert_eq!(
        (&submit["source_addr_ton"], &submit["source_addr_npi"]),
        (&json!(5), &json!(0))
    );
    assert_eq!(submit["source_addr"], "Recado");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(esme.handle.is_bound());
    esme.handle.shutdown().await;
    let pdus = smsc.pdus().await;
    let bind = pdus.iter().find(|p| p["command"] == "bind_transceiver").unwrap();
    assert_eq!(bind["interface_version"], 0x50);
    assert_eq!(bind["system_id"], "recado");
    assert!(pdus.iter().filter(|p| p["command"] == "enquire_link").count() >= 1);
    assert_eq!(pdus.last().unwrap()["command"], "unbind");
}

#[tokio::test]
async fn a_refused_bind_is_reported_and_retried_and_submits_are_unreachable() {
    let Some(smsc) = TestSmsc::start_or_skip(&[]).await else {
        return;
    };
    let mut config = smsc.esme_config();
    config.password = "wrong".into();
    config.response_timeout_secs = 1;
    let (tx, mut events) = mpsc::channel(64);
    let handle = start(config, tx);
    for _ in 0..2 {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(SmppEvent::Disconnected { reason })) => assert!(reason.contains("ESME_RINVPASWD"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(!handle.is_bound());
    let parts = parts_from_plan(&plan("hi", &AnalyzeOptions::default(), 0).unwrap());
    assert!(matches!(
        handle.submit(FROM, TO, parts).await,
        Err(SmsSendError::Unreachable(_))
    ));
    assert!(smsc.pdus_of("submit_sm").await.is_empty());
    handle.shutdown().await;
}
