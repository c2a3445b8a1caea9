use recado_channels::whatsapp::send::{
    mark_read_body, message_body, validate, ContentError, Interactive, MediaKind, OutboundContent, ReplyButton, Row,
    Section, SendRequest,
};
use serde_json::json;

fn req(content: OutboundContent) -> SendRequest {
    SendRequest {
        to: "+5511900000001".into(),
        content,
        biz_opaque_callback_data: None,
        reply_to: None,
    }
}

fn text(body: &str) -> OutboundContent {
    OutboundContent::Text {
        body: body.into(),
        preview_url: false,
    }
}

fn buttons(n: usize) -> Vec<ReplyButton> {
    (0..n)
        .map(|i| ReplyButton {
            id: format!("b{i}"),
            title: format!("Opção {i}"),
        })
        .collect()
}

fn button_msg(buttons: Vec<ReplyButton>) -> OutboundContent {
    OutboundContent::Interactive(Interactive::Buttons {
        header: None,
        body: "Escolha".into(),
        footer: None,
        buttons,
    })
}

fn list(sections: Vec<Section>) -> OutboundContent {
    OutboundContent::Interactive(Interactive::List {
        header: None,
        body: "Escolha".into(),
        footer: None,
        button: "Ver".into(),
        sections,
    })
}

fn rows(n: usize) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            id: format!("r{i}"),
            title: format!("Linha {i}"),
            description: None,
        })
        .collect()
}

#[track_caller]
fn field_of(r: Result<(), ContentError>) -> String {
    r.expect_err("request must be refused").field().to_string()
}

#[test]
fn text_body_is_exactly_meta_shape_with_recipient_type_and_extras() {
    let mut r = req(OutboundContent::Text {
        body: "Olá".into(),
        preview_url: true,
    });
    r.reply_to = Some("wamid.Q".into());
    r.biz_opaque_callback_data = Some("msg_1".into());
    assert_eq!(
        message_body(&r),
        json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+5511900000001",
            "type": "text", "text": { "body": "Olá", "preview_url": true },
            "context": { "message_id": "wamid.Q" }, "biz_opaque_callback_data": "msg_1"
        })
    );
}

#[test]
fn document_by_id_carries_filename_and_caption() {
    let content = OutboundContent::Media {
        kind: MediaKind::Document,
        link: None,
        id: Some("MEDIA_ID".into()),
        caption: Some("Fatura".into()),
        filename: Some("fatura.pdf".into()),
    };
    let body = message_body(&req(content));
    assert_eq!(
        body["document"],
        json!({ "id": "MEDIA_ID", "caption": "Fatura", "filename": "fatura.pdf" })
    );
}

#[test]
fn interactive_list_body_has_text_header_sections_and_rows() {
    let content = OutboundContent::Interactive(Interactive::List {
        header: Some("Horários".into()),
        body: "Escolha".into(),
        footer: Some("Rodapé".into()),
        button: "Ver".into(),
        sections: vec![Section {
            title: Some("Amanhã".into()),
            rows: vec![Row {
                id: "t9".into(),
                title: "09:00".into(),
                description: Some("Dr. X".into()),
            }],
        }],
    });
    assert_eq!(
        message_body(&req(content))["interactive"],
        json!({
            "type": "list", "header": { "type": "text", "text": "Horários" }, "body": { "text": "Escolha" },
            "footer": { "text": "Rodapé" },
            "action": { "button": "Ver", "sections": [{ "title": "Amanhã", "rows": [{ "id": "t9", "title": "09:00", "description": "Dr. X" }] }] }
        })
    );
}

#[test]
fn template_language_is_sent_with_deterministic_policy() {
    let content = OutboundContent::Template {
        name: "hello".into(),
        language: "pt_BR".into(),
        components: vec![],
    };
    assert_eq!(
        message_body(&req(content))["template"],
        json!({ "name": "hello", "language": { "policy": "deterministic", "code": "pt_BR" } })
    );
}

#[test]
fn mark_read_body_names_the_message() {
    assert_eq!(
        mark_read_body("wamid.R"),
        json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.R" })
    );
}

#[test]
fn text_up_to_4096_characters_is_accepted_and_longer_is_refused() {
    assert!(validate(&req(text(&"ç".repeat(4096)))).is_ok());
    let err = validate(&req(text(&"a".repeat(4097)))).unwrap_err();
    assert_eq!(
        err,
        ContentError::TooLong {
            field: "text.body".into(),
            max: 4096,
            actual: 4097
        }
    );
    assert_eq!(field_of(validate(&req(text("   ")))), "text.body");
}

#[test]
fn at_most_three_reply_buttons_with_titles_up_to_20_characters() {
    assert!(validate(&req(button_msg(buttons(3)))).is_ok());
    assert_eq!(field_of(validate(&req(button_msg(buttons(4))))), "interactive.buttons");
    assert_eq!(field_of(validate(&req(button_msg(vec![])))), "interactive.buttons");
    let long = vec![ReplyButton {
        id: "a".into(),
        title: "x".repeat(21),
    }];
    assert_eq!(
        field_of(validate(&req(button_msg(long)))),
        "interactive.buttons[0].title"
    );
    let dup = vec![
        ReplyButton {
            id: "a".into(),
            title: "A".into(),
        },
        ReplyButton {
            id: "a".into(),
            title: "B".into(),
        },
    ];
    assert_eq!(field_of(validate(&req(button_msg(dup)))), "interactive.buttons[1].id");
}

#[test]
fn lists_hold_at_most_ten_rows_in_total_with_row_limits() {
    let two = |a, b| {
        vec![
            Section {
                title: Some("A".into()),
                rows: rows(a),
            },
            Section {
                title: Some("B".into()),
                rows: rows(b),
            },
        ]
    };
    assert!(validate(&req(list(vec![Section {
        title: None,
        rows: rows(10)
    }])))
    .is_ok());
    let mut over = two(6, 5);
    over[1].rows.iter_mut().for_each(|r| r.id.push('x'));
    assert_eq!(field_of(validate(&req(list(over)))), "interactive.sections[].rows");
    let mut row = rows(1);
    row[0].title = "y".repeat(25);
    assert_eq!(
        field_of(validate(&req(list(vec![Section { title: None, rows: row }])))),
        "interactive.sections[0].rows[0].title"
    );
    let mut row = rows(1);
    row[0].description = Some("d".repeat(73));
    assert_eq!(
        field_of(validate(&req(list(vec![Section { title: None, rows: row }])))),
        "interactive.sections[0].rows[0].description"
    );
    let untitled = vec![
        Section {
            title: None,
            rows: rows(1),
        },
        Section {
            title: Some("B".into()),
            rows: vec![Row {
                id: "z".into(),
                title: "Z".into(),
                description: None,
            }],
        },
    ];
    assert_eq!(
        field_of(validate(&req(list(untitled)))),
        "interactive.sections[0].title"
    );
}

#[test]
fn interactive_body_header_and_footer_limits_apply() {
    let with = |header: Option<String>, body: String, footer: Option<String>| {
        req(OutboundContent::Interactive(Interactive::Buttons {
            header,
            body,
            footer,
            buttons: buttons(1),
        }))
    };
    assert!(validate(&with(Some("h".repeat(60)), "b".repeat(1024), Some("f".repeat(60)))).is_ok());
    assert_eq!(
        field_of(validate(&with(None, "b".repeat(1025), None))),
        "interactive.body"
    );
    assert_eq!(
        field_of(validate(&with(Some("h".repeat(61)), "b".into(), None))),
        "interactive.header"
    );
    assert_eq!(
        field_of(validate(&with(None, "b".into(), Some("f".repeat(61))))),
        "interactive.footer"
    );
}

#[test]
fn biz_opaque_callback_data_is_limited_to_512_characters() {
    let mut r = req(text("x"));
    r.biz_opaque_callback_data = Some("a".repeat(512));
    assert!(validate(&r).is_ok());
    r.biz_opaque_callback_data = Some("a".repeat(513));
    assert_eq!(field_of(validate(&r)), "biz_opaque_callback_data");
}

#[test]
fn media_needs_exactly_one_of_link_and_id_and_only_allowed_extras() {
    let media = |link: Option<&str>, id: Option<&str>, kind, caption: Option<&str>, filename: Option<&str>| {
        req(OutboundContent::Media {
            kind,
            link: link.map(Into::into),
            id: id.map(Into::into),
            caption: caption.map(Into::into),
            filename: filename.map(Into::into),
        })
    };
    assert!(validate(&media(
        Some("https://x.example/a.jpg"),
        None,
        MediaKind::Image,
        Some("c"),
        None
    ))
    .is_ok());
    assert_eq!(
        validate(&media(None, None, MediaKind::Image, None, None)),
        Err(ContentError::MediaSource { kind: MediaKind::Image })
    );
    assert!(matches!(
        validate(&media(Some("https://a"), Some("1"), MediaKind::Video, None, None)),
        Err(ContentError::MediaSource { .. })
    ));
    assert_eq!(
        field_of(validate(&media(
            Some("ftp://x/a.ogg"),
            None,
            MediaKind::Audio,
            None,
            None
        ))),
        "audio.link"
    );
    assert_eq!(
        field_of(validate(&media(None, Some("1"), MediaKind::Audio, Some("c"), None))),
        "audio.caption"
    );
    assert_eq!(
        field_of(validate(&media(None, Some("1"), MediaKind::Image, None, Some("a.jpg")))),
        "image.filename"
    );
    assert_eq!(
        field_of(validate(&media(
            None,
            Some("1"),
            MediaKind::Image,
            Some(&"c".repeat(1025)),
            None
        ))),
        "image.caption"
    );
}

#[test]
fn recipient_must_be_an_e164_number() {
    for to in ["+5511900000001", "5511900000001"] {
        assert!(
            validate(&SendRequest {
                to: to.into(),
                ..req(text("x"))
            })
            .is_ok(),
            "{to}"
        );
    }
    for to in ["", "+", "011900000001", "+55 11 90000-0001", "+1234567890123456", "abc"] {
        assert_eq!(
            field_of(validate(&SendRequest {
                to: to.into(),
                ..req(text("x"))
            })),
            "to",
            "{to}"
        );
    }
}

#[test]
fn location_coordinates_must_be_on_earth() {
    let at = |latitude, longitude| {
        req(OutboundContent::Location {
            latitude,
            longitude,
            name: None,
            address: None,
        })
    };
    assert!(validate(&at(-90.0, 180.0)).is_ok());
    assert_eq!(field_of(validate(&at(91.0, 0.0))), "location.latitude");
    assert_eq!(field_of(validate(&at(0.0, f64::NAN))), "location.longitude");
}

#[test]
fn reactions_need_the_target_message_and_templates_a_name_and_language() {
    let reaction = OutboundContent::Reaction {
        message_id: "".into(),
        emoji: "👍".into(),
    };
    assert_eq!(field_of(validate(&req(reaction))), "reaction.message_id");
    let template = OutboundContent::Template {
        name: "t".into(),
        language: "".into(),
        components: vec![],
    };
    assert_eq!(field_of(validate(&req(template))), "template.language");
}

#[test]
fn outbound_content_round_trips_through_json_for_queues() {
    let content = list(vec![Section {
        title: None,
        rows: rows(2),
    }]);
    let text = serde_json::to_string(&content).unwrap();
    assert_eq!(serde_json::from_str::<OutboundContent>(&text).unwrap(), content);
    let parsed: OutboundContent = serde_json::from_value(json!({ "type": "text", "body": "oi" })).unwrap();
    assert_eq!(
        parsed,
        OutboundContent::Text {
            body: "oi".into(),
            preview_url: false
        }
    );
}
