use recado_channels::whatsapp::{InboundContent, MediaRef, SharedContact, SharedPhone};
use serde_json::json;

use crate::{delivery, message, only_message, PHONE_ID, WABA};

#[test]
fn text_message_carries_ids_sender_profile_and_unix_timestamp() {
    let m = only_message(&delivery(message("text", json!({ "body": "Oi, tudo bem?" }))));
    assert_eq!(m.waba_id, WABA);
    assert_eq!(m.phone_number_id, PHONE_ID);
    assert_eq!(m.display_phone_number.as_deref(), Some("15550001111"));
    assert_eq!(m.from, "5511900000001");
    assert_eq!(m.profile_name.as_deref(), Some("Ana"));
    assert_eq!(m.id, "wamid.A1");
    assert_eq!(m.timestamp, 1_750_000_000);
    assert_eq!(
        m.content,
        InboundContent::Text {
            body: "Oi, tudo bem?".into()
        }
    );
    assert_eq!(m.content.type_name(), "text");
    assert_eq!(m.content.keyword_text(), Some("Oi, tudo bem?"));
    assert!(!m.quarantined);
    assert_eq!(m.raw["text"]["body"], "Oi, tudo bem?");
}

#[test]
fn non_ascii_text_sent_as_unicode_escapes_parses_to_the_original_characters() {
    let raw = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"2"},"messages":[{"from":"48600000001","id":"wamid.U","timestamp":"1750000000","type":"text","text":{"body":"Za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144 \ud83d\ude00"}}]}}]}]}"#;
    let m = only_message(raw);
    assert_eq!(m.content.text().as_deref(), Some("Zażółć gęślą jaźń 😀"));
    let raw_utf8 = delivery(message("text", json!({ "body": "Ação: pão, café ¿qué? Żółw 👍" })));
    assert_eq!(
        only_message(&raw_utf8).content.text().as_deref(),
        Some("Ação: pão, café ¿qué? Żółw 👍")
    );
}

#[test]
fn image_keeps_media_reference_and_caption() {
    let object = json!({ "id": "MEDIA1", "mime_type": "image/jpeg", "sha256": "abc=", "caption": "Nota fiscal", "url": "https://lookaside.example/1" });
    let m = only_message(&delivery(message("image", object)));
    let media = MediaRef {
        id: "MEDIA1".into(),
        mime_type: Some("image/jpeg".into()),
        sha256: Some("abc=".into()),
        url: Some("https://lookaside.example/1".into()),
    };
    assert_eq!(
        m.content,
        InboundContent::Image {
            media,
            caption: Some("Nota fiscal".into())
        }
    );
    assert_eq!(m.content.text().as_deref(), Some("Nota fiscal"));
    assert_eq!(m.content.keyword_text(), None, "captions are not keyword messages");
}

#[test]
fn video_without_caption_and_video_flagged_gif_are_told_apart() {
    let m = only_message(&delivery(message(
        "video",
        json!({ "id": "V1", "mime_type": "video/mp4", "sha256": "s" }),
    )));
    assert!(matches!(m.content, InboundContent::Video { ref media, caption: None } if media.id == "V1"));
    let gif = only_message(&delivery(message(
        "video",
        json!({ "id": "G1", "mime_type": "video/mp4", "gif": true }),
    )));
    assert_eq!(gif.content.type_name(), "gif");
}

#[test]
fn audio_distinguishes_voice_notes_from_audio_files() {
    let voice = only_message(&delivery(message(
        "audio",
        json!({ "id": "A1", "mime_type": "audio/ogg; codecs=opus", "voice": true }),
    )));
    assert!(matches!(voice.content, InboundContent::Audio { voice: true, .. }));
    let file = only_message(&delivery(message(
        "audio",
        json!({ "id": "A2", "mime_type": "audio/mpeg" }),
    )));
    assert!(matches!(file.content, InboundContent::Audio { voice: false, .. }));
    assert_eq!(file.content.text(), None);
}

#[test]
fn document_keeps_filename_and_shows_it_when_there_is_no_caption() {
    let m = only_message(&delivery(message(
        "document",
        json!({ "id": "D1", "mime_type": "application/pdf", "filename": "boleto.pdf" }),
    )));
    assert!(
        matches!(&m.content, InboundContent::Document { filename: Some(f), caption: None, .. } if f == "boleto.pdf")
    );
    assert_eq!(m.content.text().as_deref(), Some("boleto.pdf"));
}

#[test]
fn sticker_keeps_animated_flag() {
    let m = only_message(&delivery(message(
        "sticker",
        json!({ "id": "S1", "mime_type": "image/webp", "animated": true }),
    )));
    assert!(matches!(m.content, InboundContent::Sticker { animated: true, .. }));
}

#[test]
fn location_reads_float_coordinates_and_optional_place() {
    let object = json!({ "latitude": -23.5505, "longitude": -46.6333, "name": "Sé", "address": "Praça da Sé", "url": "https://maps.example" });
    let m = only_message(&delivery(message("location", object)));
    let expected = InboundContent::Location {
        latitude: -23.5505,
        longitude: -46.6333,
        name: Some("Sé".into()),
        address: Some("Praça da Sé".into()),
        url: Some("https://maps.example".into()),
    };
    assert_eq!(m.content, expected);
    assert_eq!(m.content.text().as_deref(), Some("Sé, Praça da Sé"));
}

#[test]
fn a_location_with_coordinates_that_are_no_place_is_unsupported() {
    for (latitude, longitude) in [
        (json!("NaN"), json!(10)),
        (json!(10), json!("inf")),
        (json!(91), json!(0)),
        (json!(0), json!(-180.5)),
    ] {
        let object = json!({ "latitude": latitude, "longitude": longitude });
        let m = only_message(&delivery(message("location", object)));
        assert!(
            matches!(m.content, InboundContent::Unsupported { .. }),
            "{latitude} {longitude}: {:?}",
            m.content
        );
    }
}

#[test]
fn shared_contacts_keep_names_phones_and_emails() {
    let cards = json!([{
        "name": { "formatted_name": "João Silva", "first_name": "João" },
        "phones": [{ "phone": "+55 11 91234-5678", "wa_id": "5511912345678", "type": "CELL" }, { "phone": "+55 11 3333-4444", "type": "WORK" }],
        "emails": [{ "email": "joao@example.com", "type": "WORK" }],
        "org": { "company": "Exemplo" }
    }]);
    let m = only_message(&delivery(message("contacts", cards)));
    let expected = SharedContact {
        formatted_name: Some("João Silva".into()),
        phones: vec![
            SharedPhone {
                phone: "+55 11 91234-5678".into(),
                wa_id: Some("5511912345678".into()),
                phone_type: Some("CELL".into()),
            },
            SharedPhone {
                phone: "+55 11 3333-4444".into(),
                wa_id: None,
                phone_type: Some("WORK".into()),
            },
        ],
        emails: vec!["joao@example.com".into()],
    };
    assert_eq!(
        m.content,
        InboundContent::Contacts {
            contacts: vec![expected]
        }
    );
    assert_eq!(m.content.text().as_deref(), Some("João Silva"));
}

#[test]
fn interactive_button_reply_keeps_id_title_and_context() {
    let mut msg = message(
        "interactive",
        json!({ "type": "button_reply", "button_reply": { "id": "yes", "title": "Sim" } }),
    );
    msg["context"] = json!({ "from": "15550001111", "id": "wamid.SENT1" });
    let m = only_message(&delivery(msg));
    assert_eq!(m.context_message_id.as_deref(), Some("wamid.SENT1"));
    let expected = InboundContent::InteractiveReply {
        reply_type: "button_reply".into(),
        id: "yes".into(),
        title: "Sim".into(),
        description: None,
    };
    assert_eq!(m.content, expected);
    assert_eq!(m.content.keyword_text(), None, "button titles are not keyword messages");
}

#[test]
fn interactive_list_reply_keeps_description() {
    let object =
        json!({ "type": "list_reply", "list_reply": { "id": "opt_2", "title": "Amanhã", "description": "9-12h" } });
    let m = only_message(&delivery(message("interactive", object)));
    assert!(
        matches!(&m.content, InboundContent::InteractiveReply { reply_type, id, description: Some(d), .. }
        if reply_type == "list_reply" && id == "opt_2" && d == "9-12h")
    );
}

#[test]
fn flow_reply_is_an_interactive_reply_named_after_the_flow() {
    let object =
        json!({ "type": "nfm_reply", "nfm_reply": { "name": "flow", "body": "Sent", "response_json": "{\"a\":1}" } });
    let m = only_message(&delivery(message("interactive", object)));
    assert!(matches!(&m.content, InboundContent::InteractiveReply { reply_type, .. } if reply_type == "nfm_reply"));
}

#[test]
fn template_quick_reply_tap_is_a_template_button_with_its_text() {
    let mut msg = message("button", json!({ "payload": "STOP_PROMO", "text": "Stop promotions" }));
    msg["context"] = json!({ "from": "15550001111", "id": "wamid.TPL1" });
    let m = only_message(&delivery(msg));
    assert_eq!(
        m.content,
        InboundContent::TemplateButton {
            payload: "STOP_PROMO".into(),
            text: "Stop promotions".into()
        }
    );
    assert_eq!(m.content.text().as_deref(), Some("Stop promotions"));
    assert_eq!(m.content.type_name(), "template_button");
}

#[test]
fn reaction_and_its_removal_differ_only_in_the_emoji() {
    let added = only_message(&delivery(message(
        "reaction",
        json!({ "message_id": "wamid.SENT1", "emoji": "👍" }),
    )));
    assert_eq!(
        added.content,
        InboundContent::Reaction {
            message_id: "wamid.SENT1".into(),
            emoji: Some("👍".into())
        }
    );
    let removed = only_message(&delivery(message("reaction", json!({ "message_id": "wamid.SENT1" }))));
    assert_eq!(
        removed.content,
        InboundContent::Reaction {
            message_id: "wamid.SENT1".into(),
            emoji: None
        }
    );
    let emptied = only_message(&delivery(message(
        "reaction",
        json!({ "message_id": "wamid.SENT1", "emoji": "" }),
    )));
    assert_eq!(emptied.content, removed.content);
}

#[test]
fn order_keeps_catalog_and_product_items() {
    let items = json!([{ "product_retailer_id": "sku1", "quantity": 2, "item_price": 30, "currency": "BRL" }]);
    let m = only_message(&delivery(message(
        "order",
        json!({ "catalog_id": "194836987003835", "text": "", "product_items": items }),
    )));
    assert_eq!(
        m.content,
        InboundContent::Order {
            catalog_id: "194836987003835".into(),
            text: None,
            items
        }
    );
}

#[test]
fn number_change_system_message_without_contacts_carries_the_new_wa_id() {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA, "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": PHONE_ID },
            "messages": [{ "from": "5511900000001", "id": "wamid.SYS", "timestamp": "1750269342", "type": "system",
                "system": { "body": "User Ana changed from 5511900000001 to 5511900000002", "wa_id": "5511900000002", "type": "user_changed_number" } }]
        } }] }]
    });
    let m = only_message(&serde_json::to_vec(&body).unwrap());
    assert_eq!(m.profile_name, None);
    assert!(
        matches!(&m.content, InboundContent::System { new_wa_id: Some(n), system_type, .. }
        if n == "5511900000002" && system_type == "user_changed_number")
    );
}

#[test]
fn unsupported_poll_update_keeps_whatsapps_reason_and_the_type() {
    let mut msg = message("unsupported", json!({ "type": "poll_update" }));
    msg["errors"] = json!([{ "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
        "error_data": { "details": "Message type is currently not supported." } }]);
    let m = only_message(&delivery(msg));
    let expected = InboundContent::Unsupported {
        reason: "Message type unknown: Message type is currently not supported.".into(),
        unsupported_type: Some("poll_update".into()),
    };
    assert_eq!(m.content, expected);
    assert!(!m.quarantined, "an unsupported type is not a policy violation");
}

#[test]
fn unknown_type_without_details_and_types_not_known_here_are_unsupported_not_errors() {
    let unknown = only_message(&delivery(message("unknown", json!({}))));
    assert!(matches!(
        unknown.content,
        InboundContent::Unsupported {
            unsupported_type: None,
            ..
        }
    ));
    let poll = only_message(&delivery(message("poll", json!({ "question": "?" }))));
    assert_eq!(
        poll.content,
        InboundContent::Unsupported {
            reason: "message type poll is not supported".into(),
            unsupported_type: Some("poll".into())
        }
    );
    let no_type = only_message(&delivery(
        json!({ "from": "5511900000001", "id": "wamid.N", "timestamp": "1" }),
    ));
    assert_eq!(no_type.content.type_name(), "unsupported");
}

#[test]
fn a_known_type_missing_its_object_is_unsupported_with_a_reason() {
    let m = only_message(&delivery(
        json!({ "from": "5511900000001", "id": "wamid.M", "timestamp": "1", "type": "image" }),
    ));
    assert_eq!(
        m.content,
        InboundContent::Unsupported {
            reason: "malformed image message".into(),
            unsupported_type: Some("image".into())
        }
    );
}

#[test]
fn policy_error_on_a_message_quarantines_it_and_keeps_the_content_parsed() {
    let mut msg = message("text", json!({ "body": "conteúdo bloqueado" }));
    msg["errors"] = json!([{ "code": 368, "title": "Temporarily blocked for policies violations" }]);
    let m = only_message(&delivery(msg));
    assert!(m.quarantined);
    assert_eq!(
        m.content,
        InboundContent::Text {
            body: "conteúdo bloqueado".into()
        }
    );
}

#[test]
fn spam_code_or_policy_wording_quarantines_but_other_errors_do_not() {
    for (code, title, quarantined) in [
        (131048, "Spam rate limit hit", true),
        (999_999, "Content violates WhatsApp Commerce Policy", true),
        (131060, "Message currently unavailable", false),
    ] {
        let mut msg = message("text", json!({ "body": "x" }));
        msg["errors"] = json!([{ "code": code, "title": title }]);
        assert_eq!(only_message(&delivery(msg)).quarantined, quarantined, "{code} {title}");
    }
}

#[test]
fn profile_name_is_matched_on_wa_id_among_several_contacts() {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA, "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": PHONE_ID },
            "contacts": [{ "profile": { "name": "Ana" }, "wa_id": "1" }, { "profile": { "name": "Bia" }, "wa_id": "2" }],
            "messages": [{ "from": "2", "id": "wamid.B", "timestamp": "5", "type": "text", "text": { "body": "oi" } }]
        } }] }]
    });
    assert_eq!(
        only_message(&serde_json::to_vec(&body).unwrap())
            .profile_name
            .as_deref(),
        Some("Bia")
    );
}

#[test]
fn a_sender_without_phone_number_is_identified_by_the_business_scoped_user_id() {
    let msg = json!({ "from_user_id": "US.13491208655302741918", "id": "wamid.U", "timestamp": "1", "type": "text", "text": { "body": "oi" } });
    let m = only_message(&delivery(msg));
    assert_eq!(m.from, "US.13491208655302741918");
    assert_eq!(m.from_user_id.as_deref(), Some("US.13491208655302741918"));
    let with_phone = only_message(&delivery(message("text", json!({ "body": "oi" }))));
    assert_eq!(with_phone.from_user_id, None);
}
