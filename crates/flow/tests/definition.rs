mod common;

use common::{definition, example_json};
use recado_core::consent::{Channel, LegalBasis, SubscriptionStatus};
use recado_flow::definition::{ContactMatch, Definition, NodeKind, Reenrolment, SendAction, TimezoneSource, Trigger};
use serde_json::{json, Value};

fn node_error(node: Value) -> recado_flow::Invalid {
    let mut def = example_json();
    def["nodes"]["n1"] = node;
    Definition::parse(&def).expect_err("should not parse")
}

#[test]
fn the_api_example_parses_and_serializes_back_unchanged() {
    let json = example_json();
    let def = definition(json.clone());
    assert_eq!(serde_json::to_value(&def).unwrap(), json);
    let via_serde: Definition = serde_json::from_value(json).unwrap();
    assert_eq!(via_serde, def);
}

#[test]
fn every_trigger_kind_parses() {
    let def = definition(example_json());
    assert!(matches!(def.triggers[0], Trigger::Manual(_)));
    assert!(matches!(&def.triggers[1], Trigger::Event(t) if t.event == "SMS_CLICKED" && t.filter.is_some()));
    assert!(matches!(&def.triggers[2], Trigger::Segment(t) if t.segment_id == "sg_1"));
    assert!(matches!(&def.triggers[3], Trigger::Schedule(t) if t.at == "08:00" && t.days.len() == 5));
    assert!(
        matches!(&def.triggers[4], Trigger::Webhook(t) if t.match_on == [ContactMatch::Phone, ContactMatch::Email] && t.create_contact)
    );
}

#[test]
fn settings_default_to_never_no_exit_and_the_workspace_time_zone() {
    let mut json = example_json();
    json.as_object_mut().unwrap().remove("settings");
    let def = definition(json);
    assert_eq!(def.settings.reenrolment, Reenrolment::Never);
    assert_eq!(def.settings.exit_when, None);
    assert_eq!(def.settings.timezone, TimezoneSource::Workspace);
}

#[test]
fn a_send_sms_node_splits_into_its_message_and_routing() {
    let def = definition(example_json());
    let NodeKind::Send(send) = &def.nodes["n1"].kind else {
        panic!("n1 is a send")
    };
    let SendAction::Sms(sms) = &send.action else {
        panic!("an SMS")
    };
    assert_eq!((sms.from.as_str(), sms.campaign.as_deref()), ("RECADO", Some("BF")));
    assert!(sms.shorten_urls);
    assert_eq!(sms.policy.as_deref(), Some("auto"));
    assert_eq!(send.routing.next.as_str(), "n2");
    assert_eq!(send.routing.on_failure.as_ref().map(|n| n.as_str()), Some("n5"));
    assert!(!send.routing.defer_on_limit);
    assert_eq!(send.action.channel(), Channel::Sms);
}

#[test]
fn shorten_urls_and_defer_on_limit_default_to_false() {
    let def = definition(example_json());
    let NodeKind::Send(send) = &def.nodes["n6"].kind else {
        panic!("n6 is a send")
    };
    assert!(!send.routing.defer_on_limit);
    let mut json = example_json();
    json["nodes"]["n1"].as_object_mut().unwrap().remove("shorten_urls");
    let def = definition(json);
    let NodeKind::Send(send) = &def.nodes["n1"].kind else {
        panic!()
    };
    let SendAction::Sms(sms) = &send.action else { panic!() };
    assert!(!sms.shorten_urls);
}

#[test]
fn a_whatsapp_template_node_passes_parameters_through() {
    let def = definition(example_json());
    let NodeKind::Send(send) = &def.nodes["n5"].kind else {
        panic!()
    };
    let SendAction::WhatsappTemplate(t) = &send.action else {
        panic!()
    };
    assert_eq!(t.template.parameters, json!({"body": ["Ana"]}));
    assert!(send.routing.defer_on_limit);
    assert_eq!(send.action.action_type(), "send_whatsapp_template");
    assert_eq!(send.action.channel(), Channel::Whatsapp);
}

#[test]
fn a_whatsapp_text_node_parses() {
    let def = definition(example_json());
    let NodeKind::Send(send) = &def.nodes["n6"].kind else {
        panic!()
    };
    assert!(matches!(&send.action, SendAction::WhatsappText(t) if t.text == "Oi"));
}

#[test]
fn set_property_and_set_subscription_nodes_parse() {
    let def = definition(example_json());
    assert!(matches!(&def.nodes["n7"].kind, NodeKind::SetProperty(p) if p.value.as_deref() == Some("nurtured")));
    let NodeKind::SetSubscription(s) = &def.nodes["n8"].kind else {
        panic!()
    };
    assert_eq!(
        (s.channel, s.status, s.legal_basis),
        (Channel::Sms, SubscriptionStatus::Subscribed, Some(LegalBasis::Consent))
    );
}

#[test]
fn set_property_with_null_clears_the_property() {
    let mut json = example_json();
    json["nodes"]["n7"]["value"] = Value::Null;
    let def = definition(json);
    assert!(matches!(&def.nodes["n7"].kind, NodeKind::SetProperty(p) if p.value.is_none()));
}

#[test]
fn delay_wait_branch_and_end_nodes_parse() {
    let def = definition(example_json());
    assert!(matches!(&def.nodes["n3"].kind, NodeKind::Delay(d) if d.duration.as_deref() == Some("P1D")));
    let NodeKind::WaitEvent(w) = &def.nodes["n2"].kind else {
        panic!()
    };
    assert_eq!(
        (w.of.as_str(), w.timeout.as_deref(), w.on.len()),
        ("n1", Some("PT24H"), 3)
    );
    assert!(matches!(&def.nodes["n4"].kind, NodeKind::Branch(b) if b.otherwise.as_str() == "n5"));
    assert!(matches!(def.nodes["n9"].kind, NodeKind::End));
}

#[test]
fn max_visits_is_read_on_any_node_and_written_back() {
    let mut json = example_json();
    json["nodes"]["n4"]["max_visits"] = json!(3);
    json["nodes"]["n9"]["max_visits"] = json!(1);
    let def = definition(json.clone());
    assert_eq!(def.nodes["n4"].max_visits, Some(3));
    assert_eq!(def.nodes["n9"].max_visits, Some(1));
    assert_eq!(serde_json::to_value(&def).unwrap(), json);
}

#[test]
fn an_unknown_node_type_is_refused_at_the_node() {
    let e = node_error(json!({"type": "send_fax", "next": "n2"}));
    assert_eq!(e.field, "n1");
    assert!(e.message.contains("unknown node type `send_fax`"), "{}", e.message);
}

#[test]
fn an_unknown_field_on_a_send_node_is_refused() {
    let e = node_error(json!({"type": "send_sms", "from": "X", "text": "t", "next": "n2", "sender": "Y"}));
    assert_eq!(e.field, "n1");
    assert!(e.message.contains("unknown field `sender`"), "{}", e.message);
}

#[test]
fn an_unknown_field_on_an_end_node_is_refused() {
    let mut json = example_json();
    json["nodes"]["n9"]["next"] = json!("n1");
    let e = Definition::parse(&json).unwrap_err();
    assert_eq!(e.field, "n9");
}

#[test]
fn a_send_node_without_next_is_refused() {
    let e = node_error(json!({"type": "send_sms", "from": "X", "text": "t"}));
    assert!(e.message.contains("missing field `next`"), "{}", e.message);
}

#[test]
fn an_unknown_channel_in_set_subscription_is_refused() {
    let e = node_error(json!({"type": "set_subscription", "channel": "fax", "status": "unsubscribed", "next": "n2"}));
    assert_eq!(e.field, "n1");
}

#[test]
fn an_unknown_trigger_type_is_refused_at_its_index() {
    let mut json = example_json();
    json["triggers"][2] = json!({"type": "cron", "expr": "* * * * *"});
    assert_eq!(Definition::parse(&json).unwrap_err().field, "triggers[2]");
}

#[test]
fn an_unknown_key_on_a_manual_trigger_is_refused() {
    let mut json = example_json();
    json["triggers"][0] = json!({"type": "manual", "segment_id": "sg"});
    assert_eq!(Definition::parse(&json).unwrap_err().field, "triggers[0]");
}

#[test]
fn an_invalid_exit_condition_is_refused_at_its_path_in_settings() {
    let mut json = example_json();
    json["settings"]["exit_when"] = json!({"any": [{"property": "x", "op": "big"}]});
    let e = Definition::parse(&json).unwrap_err();
    assert_eq!(e.field, "settings.exit_when.any[0].op");
}

#[test]
fn an_invalid_branch_condition_is_refused_at_the_node_with_its_path() {
    let mut json = example_json();
    json["nodes"]["n4"]["condition"] = json!({"all": [{"property": "x", "op": "gt", "value": "1"}]});
    let e = Definition::parse(&json).unwrap_err();
    assert_eq!(e.field, "n4");
    assert!(e.message.contains("all[0].value"), "{}", e.message);
}

#[test]
fn an_unknown_top_level_key_is_refused() {
    let mut json = example_json();
    json["schema"] = json!(1);
    assert_eq!(Definition::parse(&json).unwrap_err().field, "schema");
}

#[test]
fn a_definition_without_start_is_refused_at_start() {
    let mut json = example_json();
    json.as_object_mut().unwrap().remove("start");
    assert_eq!(Definition::parse(&json).unwrap_err().field, "start");
}

#[test]
fn a_send_action_serializes_with_its_type_and_without_routing() {
    let def = definition(example_json());
    let NodeKind::Send(send) = &def.nodes["n6"].kind else {
        panic!()
    };
    assert_eq!(
        serde_json::to_value(&send.action).unwrap(),
        json!({"type": "send_whatsapp_text", "text": "Oi"})
    );
}
