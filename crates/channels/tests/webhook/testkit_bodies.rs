//! The public test kit builds bodies that this parser (and so the server) reads back intact.

use recado_channels::whatsapp::testkit::{self, Inbound};
use recado_channels::whatsapp::{
    parse_webhook, verify_signature, InboundContent, ProviderError, ProviderStatus, WebhookItem,
};

use crate::only_message;

const PN: &str = "1065000001";

fn inbound() -> Inbound {
    Inbound::new(PN, "5511900000001", "Ana", "wamid.K", 1_750_000_000)
}

#[test]
fn testkit_text_round_trips_and_its_signature_verifies() {
    let (body, signature) = testkit::signed(
        b"secret",
        testkit::inbound_text(PN, "5511900000001", "Ana", "wamid.T", 7, "Olá 👋"),
    );
    assert!(verify_signature(b"secret", &body, Some(&signature)));
    assert!(body.is_ascii(), "non-ASCII is escaped like Meta's bodies");
    let m = only_message(&body);
    assert_eq!(
        (m.id.as_str(), m.timestamp, m.profile_name.as_deref()),
        ("wamid.T", 7, Some("Ana"))
    );
    assert_eq!(
        m.content,
        InboundContent::Text {
            body: "Olá 👋".into()
        }
    );
}

#[test]
fn testkit_builds_one_body_per_inbound_type() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (inbound().image("M1", Some("foto")), "image"),
        (inbound().video("M2", None), "video"),
        (inbound().gif("M3"), "gif"),
        (inbound().audio("M4", true), "audio"),
        (inbound().document("M5", "a.pdf", None), "document"),
        (inbound().sticker("M6", false), "sticker"),
        (inbound().location(-23.5, -46.6, Some("Loja")), "location"),
        (inbound().contacts("João", "+5511912345678"), "contacts"),
        (inbound().button_reply("yes", "Sim"), "interactive_reply"),
        (inbound().list_reply("r1", "Amanhã", Some("9h")), "interactive_reply"),
        (
            inbound()
                .context("wamid.TPL")
                .template_button("STOP", "Stop promotions"),
            "template_button",
        ),
        (inbound().reaction("wamid.S", Some("❤️")), "reaction"),
        (inbound().reaction("wamid.S", None), "reaction"),
        (inbound().order("CAT", "sku", 2), "order"),
        (inbound().number_changed("5511900000002"), "system"),
        (inbound().unsupported("poll_update"), "unsupported"),
    ];
    for (body, type_name) in cases {
        assert_eq!(only_message(&body).content.type_name(), type_name);
    }
}

#[test]
fn testkit_policy_violation_is_quarantined() {
    assert!(only_message(&inbound().policy_violation().text("x")).quarantined);
}

#[test]
fn testkit_status_and_template_status_round_trip_and_combine_into_one_delivery() {
    let error = ProviderError {
        code: 131026,
        title: "Message undeliverable".into(),
        message: "Message undeliverable".into(),
        details: None,
    };
    let failed = testkit::status(
        PN,
        "wamid.F",
        ProviderStatus::Failed,
        9,
        Some("hub-1"),
        std::slice::from_ref(&error),
    );
    let template = testkit::template_status("W", 55, "promo", "pt_BR", "PAUSED", Some("LOW_QUALITY"));
    let items = parse_webhook(&testkit::combine(&[failed, template])).unwrap();
    let [WebhookItem::Status(s), WebhookItem::TemplateStatus(t)] = items.as_slice() else {
        panic!("{items:?}")
    };
    assert_eq!(
        (s.biz_opaque_callback_data.as_deref(), &s.errors),
        (Some("hub-1"), &vec![error])
    );
    assert_eq!(
        (t.template_id.as_str(), t.event.as_str(), t.reason.as_deref()),
        ("55", "PAUSED", Some("LOW_QUALITY"))
    );
}
