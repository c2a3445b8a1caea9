use recado_channels::whatsapp::{parse_webhook, WebhookItem, WebhookParseError};
use serde_json::json;

use crate::{delivery, message, only_message};

fn field_error(path: &str) -> WebhookParseError {
    WebhookParseError::Field { path: path.into() }
}

#[test]
fn invalid_json_is_a_parse_error() {
    assert!(matches!(
        parse_webhook(b"{\"object\": "),
        Err(WebhookParseError::Json(_))
    ));
    assert!(matches!(parse_webhook(b""), Err(WebhookParseError::Json(_))));
}

#[test]
fn a_body_that_is_not_a_whatsapp_business_account_notification_is_refused() {
    for body in [
        json!([]),
        json!({ "entry": [] }),
        json!({ "object": "page", "entry": [] }),
        json!({ "object": "whatsapp_business_account" }),
    ] {
        let err = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap_err();
        assert!(matches!(err, WebhookParseError::Envelope(_)), "{body}: {err:?}");
    }
}

#[test]
fn an_empty_entry_list_is_valid_and_yields_nothing() {
    assert_eq!(
        parse_webhook(br#"{"object":"whatsapp_business_account","entry":[]}"#).unwrap(),
        vec![]
    );
}

#[test]
fn entries_and_changes_without_their_ids_report_the_path() {
    let no_id = json!({ "object": "whatsapp_business_account", "entry": [{ "changes": [] }] });
    assert_eq!(
        parse_webhook(&serde_json::to_vec(&no_id).unwrap()),
        Err(field_error("entry[0].id"))
    );
    let no_field =
        json!({ "object": "whatsapp_business_account", "entry": [{ "id": "1", "changes": [{ "value": {} }] }] });
    assert_eq!(
        parse_webhook(&serde_json::to_vec(&no_field).unwrap()),
        Err(field_error("entry[0].changes[0].field"))
    );
}

#[test]
fn a_message_without_id_sender_or_timestamp_is_refused_with_its_path() {
    let mut msg = message("text", json!({ "body": "x" }));
    msg.as_object_mut().unwrap().remove("id");
    assert_eq!(
        parse_webhook(&delivery(msg)),
        Err(field_error("entry[0].changes[0].value.messages[0].id"))
    );
    let mut msg = message("text", json!({ "body": "x" }));
    msg["timestamp"] = json!("yesterday");
    assert_eq!(
        parse_webhook(&delivery(msg)),
        Err(field_error("entry[0].changes[0].value.messages[0].timestamp"))
    );
}

#[test]
fn messages_without_metadata_phone_number_id_are_refused() {
    let body = json!({ "object": "whatsapp_business_account", "entry": [{ "id": "1", "changes": [{ "field": "messages",
        "value": { "messages": [message("text", json!({ "body": "x" }))] } }] }] });
    assert_eq!(
        parse_webhook(&serde_json::to_vec(&body).unwrap()),
        Err(field_error("entry[0].changes[0].value.metadata.phone_number_id"))
    );
}

#[test]
fn fields_the_hub_does_not_handle_are_ignored_not_refused() {
    let body = json!({ "object": "whatsapp_business_account", "entry": [{ "id": "1", "changes": [
        { "field": "account_update", "value": { "event": "VERIFIED_ACCOUNT" } },
        { "field": "smb_message_echoes", "value": { "message_echoes": [] } }
    ] }] });
    let items = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(
        items,
        vec![
            WebhookItem::Ignored {
                field: "account_update".into()
            },
            WebhookItem::Ignored {
                field: "smb_message_echoes".into()
            }
        ]
    );
}

#[test]
fn numeric_timestamps_are_accepted_as_well_as_strings() {
    let mut msg = message("text", json!({ "body": "x" }));
    msg["timestamp"] = json!(1_750_000_000);
    assert_eq!(only_message(&delivery(msg)).timestamp, 1_750_000_000);
}
