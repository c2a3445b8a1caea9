use super::*;

fn not_delivered(code: &str) -> DeliveryState {
    DeliveryState::NotDelivered {
        code: Some(code.into()),
    }
}

#[test]
fn the_standard_text_form() {
    let r = parse_receipt_text(
        "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:Hello there",
    )
    .unwrap();
    assert_eq!(r.id.as_deref(), Some("0123456789"));
    assert_eq!(r.sub.as_deref(), Some("001"));
    assert_eq!(r.dlvrd.as_deref(), Some("001"));
    assert_eq!(r.submit_date.as_deref(), Some("2401011200"));
    assert_eq!(r.done_date.as_deref(), Some("2401011201"));
    assert_eq!(r.stat.as_deref(), Some("DELIVRD"));
    assert_eq!(r.err.as_deref(), Some("000"));
    assert_eq!(r.text.as_deref(), Some("Hello there"));
    assert_eq!(state_from_stat("DELIVRD", r.err.as_deref()), DeliveryState::Delivered);
}

#[test]
fn field_names_in_any_case_with_underscores_or_spaces() {
    let r = parse_receipt_text(
        "ID:ab12CD Sub:1 Dlvrd:0 Submit_Date:2401011200 Done_Date:2401011300 STAT:UNDELIV ERR:034 Text:x",
    )
    .unwrap();
    assert_eq!(r.id.as_deref(), Some("ab12CD"), "values keep their case");
    assert_eq!(r.submit_date.as_deref(), Some("2401011200"));
    assert_eq!(r.done_date.as_deref(), Some("2401011300"));
    assert_eq!(r.stat.as_deref(), Some("UNDELIV"));
    assert_eq!(state_from_stat("undeliv", Some("034")), not_delivered("034"));
}

#[test]
fn spaces_after_the_colon_and_missing_fields() {
    let r = parse_receipt_text("id: 77 stat: EXPIRED").unwrap();
    assert_eq!(r.id.as_deref(), Some("77"));
    assert_eq!(r.stat.as_deref(), Some("EXPIRED"));
    assert_eq!(r.err, None);
    assert_eq!(r.text, None);
    assert_eq!(state_from_stat("EXPIRED", None), not_delivered("EXPIRED"));
}

#[test]
fn the_quoted_text_cannot_fake_fields() {
    let r = parse_receipt_text("id:9 sub:001 dlvrd:000 stat:UNDELIV err:001 text:stat:DELIVRD id:1").unwrap();
    assert_eq!(r.id.as_deref(), Some("9"));
    assert_eq!(r.stat.as_deref(), Some("UNDELIV"));
    assert_eq!(r.text.as_deref(), Some("stat:DELIVRD id:1"));
    // A field name inside another word is not a field.
    let r = parse_receipt_text("msgid:5 id:6 stat:DELIVRD").unwrap();
    assert_eq!(r.id.as_deref(), Some("6"));
}

#[test]
fn text_that_is_not_a_receipt() {
    assert_eq!(parse_receipt_text("STOP"), None);
    assert_eq!(parse_receipt_text(""), None);
    assert_eq!(parse_receipt_text("my id is 5"), None);
}

#[test]
fn stat_words() {
    for word in ["DELIVRD", "delivrd", "Delivered"] {
        assert_eq!(state_from_stat(word, None), DeliveryState::Delivered, "{word}");
    }
    for word in ["ACCEPTD", "ENROUTE", "enroute", "BUFFRED", "SCHEDULED", "WHATEVER"] {
        assert_eq!(state_from_stat(word, None), DeliveryState::Accepted, "{word}");
    }
    for word in ["UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN", "rejectd"] {
        assert!(
            matches!(state_from_stat(word, Some("000")), DeliveryState::NotDelivered { .. }),
            "{word}"
        );
    }
    // A zero error code is no error: the stat word is the code.
    assert_eq!(state_from_stat("REJECTD", Some("000")), not_delivered("REJECTD"));
    assert_eq!(state_from_stat("REJECTD", Some("0x0B")), not_delivered("0x0B"));
}

#[test]
fn message_state_tlv_values() {
    assert_eq!(state_from_message_state(2, None), DeliveryState::Delivered);
    assert_eq!(state_from_message_state(1, None), DeliveryState::Accepted);
    assert_eq!(state_from_message_state(6, None), DeliveryState::Accepted);
    assert_eq!(state_from_message_state(3, None), not_delivered("EXPIRED"));
    assert_eq!(state_from_message_state(5, Some("3:34")), not_delivered("3:34"));
    assert_eq!(state_from_message_state(8, None), not_delivered("REJECTD"));
}

mod deliver_sm {
    use super::super::*;
    use rusmpp::tlvs::MessageDeliveryRequestTlvValue as Tlv;
    use rusmpp::types::{COctetString, OctetString};
    use rusmpp::values::{EsmClass, MessageState};

    fn deliver(esm_class: u8, text: &str, tlvs: Vec<Tlv>) -> DeliverSm {
        let mut builder = DeliverSm::builder()
            .esm_class(EsmClass::from(esm_class))
            .short_message(OctetString::from_vec(text.as_bytes().to_vec()).unwrap());
        for tlv in tlvs {
            builder = builder.push_tlv(tlv);
        }
        builder.build()
    }

    #[test]
    fn text_form_receipt() {
        let r = receipt_from(&deliver(
            0x04,
            "id:A1 sub:001 dlvrd:000 stat:UNDELIV err:011 text:",
            vec![],
        ))
        .unwrap();
        assert_eq!(r.message_id, "A1");
        assert_eq!(
            r.state,
            DeliveryState::NotDelivered {
                code: Some("011".into())
            }
        );
        assert_eq!(r.error.as_deref(), Some("011"));
    }

    #[test]
    fn tlvs_win_over_the_text() {
        let tlvs = vec![
            Tlv::ReceiptedMessageId(COctetString::from_string("B2".into()).unwrap()),
            Tlv::MessageState(MessageState::Delivered),
        ];
        let r = receipt_from(&deliver(0x04, "id:other stat:UNDELIV", tlvs)).unwrap();
        assert_eq!((r.message_id.as_str(), r.state), ("B2", DeliveryState::Delivered));
    }

    #[test]
    fn a_message_from_a_handset_is_not_a_receipt() {
        assert_eq!(receipt_from(&deliver(0x00, "id:1 stat:DELIVRD", vec![])), None);
        // An intermediate notification is one, and claims no final state.
        let r = receipt_from(&deliver(0x20, "id:C3 stat:ENROUTE", vec![])).unwrap();
        assert_eq!(r.state, DeliveryState::Accepted);
        // A receipt without any id cannot be matched.
        assert_eq!(receipt_from(&deliver(0x04, "stat:DELIVRD", vec![])), None);
    }
}
