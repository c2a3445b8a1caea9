//! Writes the seed corpora of the fuzz targets, from the project's test fixtures: the
//! WhatsApp and SMS test kits of recado-channels, the SMPP receipts and MO parts of its unit
//! tests, the CSV files of the import API tests and the workflow example of recado-flow's
//! tests.
//!
//! `target/x86_64-unknown-linux-gnu/release/seeds corpus` (built as `Cargo.toml` says) writes
//! `corpus/<target>/seed-*`; files already there are kept, so crashes and minimised inputs
//! stay.

use std::path::Path;

use bytes::BytesMut;
use recado_channels::sms::testkit::{inbound_form, status_callback_form};
use recado_channels::whatsapp::testkit as wa;
use recado_channels::whatsapp::{ProviderError, ProviderStatus};
use rusmpp::tlvs::MessageDeliveryRequestTlvValue as Tlv;
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::types::{AnyOctetString, COctetString, OctetString};
use rusmpp::values::{DataCoding, EsmClass, MessagePayload, MessageState, Ton};
use rusmpp::{Command, CommandStatus};
use serde_json::{json, Value};
use tokio_util::codec::Encoder;

// The workflow example and helpers of recado-flow's integration tests.
#[path = "../../crates/flow/tests/common/mod.rs"]
mod common;

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    let root = Path::new(&root);
    write(root, "whatsapp_webhook", whatsapp());
    write(root, "twilio_callback", twilio());
    write(root, "smpp_deliver_sm", smpp());
    write(root, "csv_import", csv());
    write(root, "workflow_definition", workflows());
}

fn write(root: &Path, target: &str, seeds: Vec<Vec<u8>>) {
    let dir = root.join(target);
    std::fs::create_dir_all(&dir).expect("corpus directory");
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:03}")), seed).expect("seed file");
    }
    println!("{target}: {} seeds", seeds.len());
}

fn whatsapp() -> Vec<Vec<u8>> {
    let pn = "106540352242922";
    let from = "5511912345678";
    let msg = || wa::Inbound::new(pn, from, "Ana", "wamid.HBgM1", 1_700_000_000);
    let error = ProviderError {
        code: 131026,
        title: "Message undeliverable".into(),
        message: "Message undeliverable".into(),
        details: Some("unable to deliver".into()),
    };
    let mut seeds = vec![
        wa::inbound_text(pn, from, "Ana", "wamid.HBgM0", 1_700_000_000, "STOP"),
        msg().text("olá, tudo bem? 😀"),
        msg().context("wamid.prev").text("reply"),
        msg().image("media-1", Some("a caption")),
        msg().video("media-2", None),
        msg().gif("media-3"),
        msg().audio("media-4", true),
        msg().document("media-5", "invoice.pdf", Some("invoice")),
        msg().sticker("media-6", true),
        msg().location(-23.55, -46.63, Some("São Paulo")),
        msg().contacts("Bia Lima", "+55 11 98765-4321"),
        msg().button_reply("opt-out", "Stop promotions"),
        msg().list_reply("row-1", "First", Some("the first row")),
        msg().template_button("STOP", "Stop"),
        msg().reaction("wamid.prev", Some("👍")),
        msg().reaction("wamid.prev", None),
        msg().order("catalog-1", "sku-1", 2),
        msg().number_changed("5511900000000"),
        msg().unsupported("ephemeral"),
        msg()
            .error(131051, "Message type unknown", "not supported")
            .unsupported("unknown"),
        msg().policy_violation().text("x"),
        msg().custom(
            "interactive",
            json!({"type": "nfm_reply", "nfm_reply": {"response_json": "{}"}}),
        ),
        wa::status(
            pn,
            "wamid.out1",
            ProviderStatus::Sent,
            1_700_000_001,
            Some("msg_01"),
            &[],
        ),
        wa::status(pn, "wamid.out1", ProviderStatus::Delivered, 1_700_000_002, None, &[]),
        wa::status(pn, "wamid.out1", ProviderStatus::Read, 1_700_000_003, None, &[]),
        wa::status(pn, "wamid.out1", ProviderStatus::Failed, 1_700_000_004, None, &[error]),
        wa::template_status("102290129340398", 594425479261596, "promo", "pt_BR", "APPROVED", None),
        wa::template_status(
            "102290129340398",
            594425479261596,
            "promo",
            "pt_BR",
            "REJECTED",
            Some("ABUSIVE_CONTENT"),
        ),
        wa::user_preference(pn, from, "stop", 1_700_000_005),
        wa::user_preference(pn, from, "resume", 1_700_000_006),
    ];
    let combined = wa::combine(&seeds[..4]);
    seeds.push(combined);
    seeds.push(br#"{"object":"page","entry":[]}"#.to_vec());
    seeds.push(br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{}}]}]}"#.to_vec());
    // The signed form a delivery arrives in: header on the first line, then the body.
    let (body, header) = wa::signed(
        b"fuzz-app-secret",
        wa::inbound_text(pn, from, "Ana", "wamid.X", 1, "hi"),
    );
    let mut signed = header.into_bytes();
    signed.push(b'\n');
    signed.extend(body);
    seeds.push(signed);
    seeds
}

fn twilio() -> Vec<Vec<u8>> {
    let encode = |url: Option<&str>, form: Vec<(String, String)>| {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        match url {
            Some(url) => format!("{url}\n{body}").into_bytes(),
            None => body.into_bytes(),
        }
    };
    let sid = "SM0123456789abcdef0123456789abcdef";
    let mut seeds = Vec::new();
    for status in [
        "queued",
        "sent",
        "delivered",
        "read",
        "undelivered",
        "failed",
        "canceled",
        "partially_delivered",
        "received",
        "bogus",
    ] {
        let code = matches!(status, "undelivered" | "failed").then_some("30003");
        seeds.push(encode(None, status_callback_form(sid, status, code)));
    }
    seeds.push(encode(
        None,
        inbound_form(sid, "+5511912345678", "+5511900000000", "STOP"),
    ));
    seeds.push(encode(
        None,
        inbound_form(sid, "+5511912345678", "+5511900000000", "olá & até já = 😀"),
    ));
    for url in [
        "https://hub.example/hooks/sms/ch_1/status?x=1",
        "http://hub.example:80/hooks/sms/ch_1/inbound",
        "https://[::1]:443/status",
        "https://hub.example",
    ] {
        seeds.push(encode(Some(url), status_callback_form(sid, "delivered", None)));
    }
    seeds.push(b"MessageSid=%20&MessageStatus=sent&MessageSid=SM1".to_vec());
    seeds
}

fn deliver_sm(esm_class: u8, data_coding: u8, short_message: &[u8], tlvs: Vec<Tlv>) -> Vec<u8> {
    let mut builder = rusmpp::pdus::DeliverSm::builder()
        .source_addr_ton(Ton::International)
        .source_addr(COctetString::from_string("5511912345678".into()).expect("address"))
        .dest_addr_ton(Ton::National)
        .destination_addr(COctetString::from_string("28000".into()).expect("address"))
        .esm_class(EsmClass::from(esm_class))
        .data_coding(DataCoding::from(data_coding))
        .short_message(OctetString::from_vec(short_message.to_vec()).expect("short message"));
    for tlv in tlvs {
        builder = builder.push_tlv(tlv);
    }
    let command = Command::new(CommandStatus::EsmeRok, 7, builder.build());
    let mut out = BytesMut::new();
    CommandCodec::new().encode(&command, &mut out).expect("encode");
    out.to_vec()
}

fn smpp() -> Vec<Vec<u8>> {
    let udh = |reference: u8, total: u8, sequence: u8, text: &[u8]| {
        let mut data = vec![0x05, 0x00, 0x03, reference, total, sequence];
        data.extend_from_slice(text);
        data
    };
    let sar = |sequence: u8| {
        vec![
            Tlv::SarMsgRefNum(300),
            Tlv::SarTotalSegments(2),
            Tlv::SarSegmentSeqnum(sequence),
        ]
    };
    let mut seeds = vec![
        // Receipts (receipt/tests.rs).
        deliver_sm(
            0x04,
            0,
            b"id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello there",
            vec![],
        ),
        deliver_sm(0x04, 0, b"id:A1 sub:001 dlvrd:000 stat:UNDELIV err:011 text:", vec![]),
        deliver_sm(0x04, 0, b"Id: 77 STAT: EXPIRED", vec![]),
        deliver_sm(0x04, 0, b"id:9 sub:001 dlvrd:000 stat:UNDELIV err:001 text:stat:DELIVRD id:1", vec![]),
        deliver_sm(0x20, 0, b"id:C3 stat:ENROUTE", vec![]),
        deliver_sm(
            0x04,
            0,
            b"id:other stat:UNDELIV",
            vec![
                Tlv::ReceiptedMessageId(COctetString::from_string("B2".into()).expect("id")),
                Tlv::MessageState(MessageState::Delivered),
            ],
        ),
        // MO messages (inbound.rs tests).
        deliver_sm(0, 0, b"STOP", vec![]),
        deliver_sm(0, 0, b"caf\xe9", vec![]),
        deliver_sm(0, 8, &[0x00, 0x53, 0x00, 0x54], vec![]),
        deliver_sm(0, 0, b"", vec![Tlv::MessagePayload(MessagePayload::new(AnyOctetString::from_slice(b"a long payload")))]),
        deliver_sm(0x40, 0, &udh(7, 2, 1, b"hello "), vec![]),
        deliver_sm(0, 0, b"hello ", sar(1)),
    ];
    // A concatenated message in one stream, parts out of order.
    let mut stream = deliver_sm(0x40, 0, &udh(7, 3, 3, b"c"), vec![]);
    stream.extend(deliver_sm(0x40, 0, &udh(7, 3, 1, b"a"), vec![]));
    stream.extend(deliver_sm(0x40, 0, &udh(7, 3, 2, b"b"), vec![]));
    seeds.push(stream);
    let mut stream = deliver_sm(0, 0, b"world", sar(2));
    stream.extend(deliver_sm(0, 0, b"hello ", sar(1)));
    seeds.push(stream);
    seeds
}

fn csv() -> Vec<Vec<u8>> {
    // The files of the import API tests (crates/server/tests/api/import.rs) and the preview
    // and mapping unit tests.
    [
        "firstname,lastname,email,phone,country,notes\nAna,Souza,ana@example.com,11 91234-5678,BR,vip\nBruno,Lima,bruno@example.com,12,BR,\n\"Carla\",\"Dias\",\"not-an-email\",11 98765-4321,BR,\nDiego,Rocha,diego@example.com\nEva,Melo,eva@example.com,+34 612 345 678,,\"first line\nsecond line\"\nFabio,Nunes,fabio@example.com,11 99999-0000,BR,x,extra\nGil,Ramos,GIL@example.com,,,\n",
        "email,lastname\nana@example.com,Souza Lima\n",
        "email,phone,country,firstname\nANA@example.com,(21) 98765-4321,BR,Ana Maria\n,21 98765-4321,BR,Bruno Lima\ncarla@example.com,+351 912 345 678,,Carla\n",
        "firstname,email\r\nAna,ana@example.com\r\nBad,nope\r\n\"Two\r\nlines\",x@\r\nOk,ok@example.com\r\nShort\r\n",
        "firstname,email\n\nBia,bia@example.com\n\n\nBad,nope\n,\n\"x\ny\",still-bad\nlast,z@\n",
        "firstname,email\rCid,cid@example.com\rBad,nope\r",
        "firstname,E-mail\nAna,ana@example.com\n",
        "email,firstname,email\na@example.com,Ana,b@example.com\n",
        "\n",
        "firstname\nAna\n",
        "email,firstname,phone,country,mobile_prefix,whatsapp_phone,mobilephone,language\nx@example.com,X,612345678,ES,+34,+5511912345678,0034612345678,pt\n",
        "Nome,Celular\nAna,+5511912345678\nBia,+5511912345679\nCaio,x\n",
        "Nome,Cidade,Celular\nAna,Recife,+5511912345678\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn workflows() -> Vec<Vec<u8>> {
    let example = common::example_json();
    let mut variants: Vec<Value> = vec![example.clone()];
    let mut change = |f: &dyn Fn(&mut Value)| {
        let mut v = example.clone();
        f(&mut v);
        variants.push(v);
    };
    // Changes the validator tests make (crates/flow/tests/validate.rs, definition.rs).
    change(&|j| j["triggers"][1] = json!({"type": "event", "event": "EMAIL_OPENED"}));
    change(&|j| j["triggers"][1]["where"] = json!({"event": "SMS_CLICKED", "of": "n1", "op": "is_known"}));
    change(&|j| j["settings"]["exit_when"] = json!({"event": "SMS_CLICKED", "of": "n3", "op": "is_known"}));
    change(&|j| j["nodes"]["n5"]["template"]["parameters"] = json!({"body": ["Ana", "extra"]}));
    change(&|j| j["nodes"]["n5"]["template"]["parameters"] = json!({"body": ["Ana"], "header": ["x"]}));
    change(&|j| {
        j.as_object_mut().expect("object").remove("settings");
    });
    change(&|j| j["start"] = json!("nowhere"));
    change(&|j| j["triggers"] = json!([]));
    // The first byte is how the workspace answers: everything exists, nothing exists, and
    // templates with one body parameter.
    let mut seeds = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let answers = [0xFFu8, 0x00, 0x7F][i % 3];
        let mut seed = vec![answers];
        seed.extend(serde_json::to_vec_pretty(v).expect("json"));
        seeds.push(seed);
    }
    seeds
}
