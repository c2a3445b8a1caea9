use recado_channels::whatsapp::webhook::AccountErrors;
use recado_channels::whatsapp::{parse_webhook, ProviderError, ProviderStatus, TemplateStatusUpdate, WebhookItem};
use serde_json::{json, Value};

use crate::{PHONE_ID, WABA};

fn statuses(statuses: Value) -> Vec<u8> {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA, "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": PHONE_ID },
            "statuses": statuses
        } }] }]
    });
    serde_json::to_vec(&body).unwrap()
}

#[test]
fn sent_status_echoes_biz_opaque_callback_data_for_reconciliation() {
    let body = statuses(json!([{
        "id": "wamid.SENT1", "status": "sent", "timestamp": "1750000100", "recipient_id": "5511900000001",
        "biz_opaque_callback_data": "01JMSGID",
        "conversation": { "id": "c0ffee", "expiration_timestamp": "1750086500", "origin": { "type": "utility" } },
        "pricing": { "billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility" }
    }]));
    let items = parse_webhook(&body).unwrap();
    let [WebhookItem::Status(s)] = items.as_slice() else {
        panic!("{items:?}")
    };
    assert_eq!(s.phone_number_id, PHONE_ID);
    assert_eq!(s.message_id, "wamid.SENT1");
    assert_eq!(s.status, ProviderStatus::Sent);
    assert_eq!(s.timestamp, 1_750_000_100);
    assert_eq!(s.recipient_id, "5511900000001");
    assert_eq!(s.biz_opaque_callback_data.as_deref(), Some("01JMSGID"));
    assert!(s.errors.is_empty());
    assert_eq!(s.raw["pricing"]["category"], "utility");
}

#[test]
fn failed_status_carries_its_errors_with_details() {
    let body = statuses(json!([{
        "id": "wamid.F", "status": "failed", "timestamp": "1750000200", "recipient_id": "5511900000001",
        "errors": [{ "code": 131050, "title": "Unable to deliver the message.", "message": "Unable to deliver the message.",
            "error_data": { "details": "User stopped marketing messages" }, "href": "https://developers.example/errors" }]
    }]));
    let items = parse_webhook(&body).unwrap();
    let [WebhookItem::Status(s)] = items.as_slice() else {
        panic!("{items:?}")
    };
    assert_eq!(s.status, ProviderStatus::Failed);
    let expected = ProviderError {
        code: 131050,
        title: "Unable to deliver the message.".into(),
        message: "Unable to deliver the message.".into(),
        details: Some("User stopped marketing messages".into()),
    };
    assert_eq!(s.errors, vec![expected]);
}

#[test]
fn every_known_status_value_parses_and_unknown_ones_are_ignored() {
    let list: Vec<Value> = ["sent", "delivered", "read", "failed", "played", "deleted"]
        .iter()
        .map(|st| json!({ "id": "wamid.X", "status": st, "timestamp": "1", "recipient_id": "1" }))
        .collect();
    let items = parse_webhook(&statuses(Value::Array(list))).unwrap();
    let parsed: Vec<Option<ProviderStatus>> = items
        .iter()
        .map(|i| match i {
            WebhookItem::Status(s) => Some(s.status),
            _ => None,
        })
        .collect();
    use ProviderStatus::*;
    assert_eq!(
        parsed,
        vec![
            Some(Sent),
            Some(Delivered),
            Some(Read),
            Some(Failed),
            Some(Played),
            None
        ]
    );
    assert_eq!(
        items[5],
        WebhookItem::Ignored {
            field: "messages".into()
        }
    );
}

#[test]
fn status_without_phone_number_falls_back_to_business_scoped_user_id() {
    let body =
        statuses(json!([{ "id": "wamid.B", "status": "read", "timestamp": "9", "recipient_user_id": "US.1349" }]));
    let items = parse_webhook(&body).unwrap();
    let [WebhookItem::Status(s)] = items.as_slice() else {
        panic!("{items:?}")
    };
    assert_eq!(s.recipient_id, "US.1349");
}

#[test]
fn template_status_update_is_routed_on_its_field() {
    let body =
        br#"{"entry":[{"id":"419561257915477","time":1751000000,"changes":[{"field":"message_template_status_update",
        "value":{"event":"APPROVED","message_template_id":1234,"message_template_name":"order_update",
        "message_template_language":"en_US","reason":"NONE","message_template_category":"UTILITY"}}]}],
        "object":"whatsapp_business_account"}"#;
    let items = parse_webhook(body).unwrap();
    let expected = TemplateStatusUpdate {
        waba_id: WABA.into(),
        template_id: "1234".into(),
        name: "order_update".into(),
        language: "en_US".into(),
        event: "APPROVED".into(),
        reason: Some("NONE".into()),
        category: Some("UTILITY".into()),
    };
    assert_eq!(items, vec![WebhookItem::TemplateStatus(expected)]);
}

#[test]
fn rejected_template_keeps_the_reason() {
    let body = json!({ "object": "whatsapp_business_account", "entry": [{ "id": WABA, "changes": [{
        "field": "message_template_status_update",
        "value": { "event": "REJECTED", "message_template_id": "77", "message_template_name": "promo",
                   "message_template_language": "pt_BR", "reason": "INCORRECT_CATEGORY" } }] }] });
    let items = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap();
    let [WebhookItem::TemplateStatus(t)] = items.as_slice() else {
        panic!("{items:?}")
    };
    assert_eq!(
        (t.event.as_str(), t.reason.as_deref(), t.category.as_deref()),
        ("REJECTED", Some("INCORRECT_CATEGORY"), None)
    );
}

#[test]
fn out_of_band_value_errors_become_an_errors_item() {
    let body = json!({ "object": "whatsapp_business_account", "entry": [{ "id": WABA, "changes": [{
        "field": "messages",
        "value": { "messaging_product": "whatsapp",
                   "metadata": { "display_phone_number": "15550001111", "phone_number_id": PHONE_ID },
                   "errors": [{ "code": 131031, "title": "Business Account locked", "message": "Business Account locked",
                                "error_data": { "details": "Account restricted" } }] } }] }] });
    let items = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap();
    let expected = AccountErrors {
        waba_id: WABA.into(),
        phone_number_id: Some(PHONE_ID.into()),
        errors: vec![ProviderError {
            code: 131031,
            title: "Business Account locked".into(),
            message: "Business Account locked".into(),
            details: Some("Account restricted".into()),
        }],
    };
    assert_eq!(items, vec![WebhookItem::Errors(expected)]);
}

#[test]
fn batch_with_several_entries_changes_and_messages_keeps_body_order() {
    let msg = |id: &str, body: &str| json!({ "from": "5511900000001", "id": id, "timestamp": "1750000000", "type": "text", "text": { "body": body } });
    let value = |messages: Value, statuses: Value| {
        json!({ "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550001111", "phone_number_id": PHONE_ID },
                "contacts": [{ "profile": { "name": "Ana" }, "wa_id": "5511900000001" }],
                "messages": messages, "statuses": statuses })
    };
    let body = json!({ "object": "whatsapp_business_account", "entry": [
        { "id": "W1", "changes": [
            { "field": "messages", "value": value(json!([msg("wamid.1", "um"), msg("wamid.2", "dois")]), json!([])) },
            { "field": "phone_number_quality_update", "value": { "event": "FLAGGED" } }
        ] },
        { "id": "W2", "changes": [
            { "field": "messages", "value": value(json!([msg("wamid.3", "três")]),
              json!([{ "id": "wamid.S", "status": "delivered", "timestamp": "2", "recipient_id": "1" }])) }
        ] }
    ] });
    let items = parse_webhook(&serde_json::to_vec(&body).unwrap()).unwrap();
    let summary: Vec<String> = items
        .iter()
        .map(|i| match i {
            WebhookItem::Message(m) => format!("{}:{}", m.waba_id, m.id),
            WebhookItem::Status(s) => format!("status:{}", s.message_id),
            WebhookItem::Ignored { field } => format!("ignored:{field}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "W1:wamid.1",
            "W1:wamid.2",
            "ignored:phone_number_quality_update",
            "W2:wamid.3",
            "status:wamid.S"
        ]
    );
}

#[test]
fn marketing_preference_changes_are_routed_from_user_preferences() {
    use recado_channels::whatsapp::UserPreferenceUpdate;
    let items = parse_webhook(&recado_channels::whatsapp::testkit::user_preference(
        PHONE_ID,
        "5511900000001",
        "stop",
        1_739_321_024,
    ))
    .unwrap();
    let expected = UserPreferenceUpdate {
        waba_id: recado_channels::whatsapp::testkit::TEST_WABA_ID.into(),
        phone_number_id: PHONE_ID.into(),
        wa_id: "5511900000001".into(),
        category: "marketing_messages".into(),
        value: "stop".into(),
        detail: Some("User requested to stop marketing messages".into()),
        timestamp: 1_739_321_024,
    };
    assert_eq!(items, vec![WebhookItem::UserPreference(expected)]);
}
