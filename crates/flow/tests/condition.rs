mod common;

use common::{at, Contact, ContactEvent, DAY};
use recado_core::consent::{Channel, SubscriptionStatus};
use recado_flow::condition::{Condition, ConditionError, EventScope, Leaf, PropertyOp, MAX_DEPTH};
use serde_json::{json, Value};

fn parse(value: Value) -> Condition {
    Condition::parse(&value).unwrap_or_else(|e| panic!("{value} should parse: {e}"))
}

fn error(value: Value) -> ConditionError {
    Condition::parse(&value).expect_err("should not parse")
}

fn holds(condition: Value, contact: &Contact) -> bool {
    parse(condition).matches(contact, at("2026-06-01T12:00:00Z"))
}

fn property(op: &str, value: Value, contact_value: Option<&str>) -> bool {
    let mut contact = Contact::default();
    if let Some(v) = contact_value {
        contact = contact.with("p", v);
    }
    let mut condition = json!({"property": "p", "op": op});
    if !value.is_null() {
        condition["value"] = value;
    }
    holds(condition, &contact)
}

// ---- parsing -------------------------------------------------------------------

#[test]
fn a_condition_serializes_back_to_the_json_it_came_from() {
    let original = json!({"all": [
        {"property": "country", "op": "eq", "value": "BR"},
        {"property": "age", "op": "gt", "value": 17},
        {"property": "vip", "op": "neq", "value": true},
        {"property": "email", "op": "is_known"},
        {"property": "signup", "op": "after", "value": "-P7D"},
        {"property": "birthday", "op": "before", "value": "2000-01-01T00:00:00Z"},
        {"any": [
            {"subscription": "sms", "op": "eq", "value": "subscribed"},
            {"event": "SMS_CLICKED", "of": "n1", "op": "is_known"},
            {"event": "SMS_DELIVERED", "campaign": "BF", "op": "is_unknown", "sender": "RECADO",
             "message_id": "m1", "since": "-P30D", "until": "2026-12-01T00:00:00Z"},
            {"event": "WHATSAPP_READ", "op": "is_known"}
        ]}
    ]});
    let condition = parse(original.clone());
    assert_eq!(serde_json::to_value(&condition).unwrap(), original);
    let again: Condition = serde_json::from_value(original).unwrap();
    assert_eq!(again, condition);
}

#[test]
fn leaves_lists_every_leaf_depth_first() {
    let condition = parse(json!({"any": [
        {"property": "a", "op": "is_known"},
        {"all": [{"subscription": "sms", "op": "eq", "value": "subscribed"}]},
        {"event": "SMS_CLICKED", "of": "n1", "op": "is_known"}
    ]}));
    let leaves = condition.leaves();
    assert_eq!(leaves.len(), 3);
    assert!(matches!(leaves[0], Leaf::Property(p) if p.property == "a" && p.op == PropertyOp::IsKnown));
    assert!(matches!(leaves[1], Leaf::Subscription(s) if s.channel == Channel::Sms && s.equal));
    assert!(matches!(leaves[2], Leaf::Event(e) if e.scope == EventScope::Send("n1".into())));
}

#[test]
fn an_unknown_op_is_refused_at_its_path() {
    let e = error(json!({"all": [
        {"property": "a", "op": "eq", "value": "x"},
        {"property": "b", "op": "equals", "value": "x"}
    ]}));
    assert_eq!(e.field, "all[1].op");
    assert!(e.message.contains("unknown op `equals`"), "{}", e.message);
}

#[test]
fn gt_with_a_text_value_is_refused_at_the_value() {
    let e = error(json!({"any": [{"property": "age", "op": "gt", "value": "18"}]}));
    assert_eq!(e.field, "any[0].value");
    assert!(e.message.contains("number"), "{}", e.message);
}

#[test]
fn before_with_a_value_that_is_no_date_is_refused() {
    let e = error(json!({"property": "d", "op": "before", "value": "yesterday"}));
    assert_eq!(e.field, "value");
    assert!(e.message.contains("RFC 3339"), "{}", e.message);
}

#[test]
fn an_unknown_key_in_a_leaf_is_refused() {
    let e = error(json!({"property": "a", "op": "eq", "value": "x", "case": "exact"}));
    assert_eq!(e.field, "case");
}

#[test]
fn a_group_with_another_key_is_refused() {
    let e = error(json!({"all": [{"property": "a", "op": "is_known"}], "note": "x"}));
    assert_eq!(e.field, "note");
}

#[test]
fn an_object_that_is_neither_group_nor_leaf_is_refused_at_its_first_key() {
    let e = error(json!({"all": [{"propety": "a", "op": "is_known"}]}));
    assert_eq!(e.field, "all[0].op");
}

#[test]
fn an_empty_group_is_refused() {
    let e = error(json!({"all": [{"any": []}]}));
    assert_eq!(e.field, "all[0].any");
    assert!(e.message.contains("at least one"), "{}", e.message);
}

#[test]
fn groups_nest_at_most_ten_deep() {
    let mut deepest_allowed = json!({"property": "a", "op": "is_known"});
    for _ in 0..MAX_DEPTH {
        deepest_allowed = json!({"all": [deepest_allowed]});
    }
    assert!(Condition::parse(&deepest_allowed).is_ok());
    let too_deep = json!({"all": [deepest_allowed]});
    let e = error(too_deep);
    assert!(
        e.field.ends_with("all") && e.field.matches('[').count() == MAX_DEPTH,
        "{}",
        e.field
    );
}

#[test]
fn an_unknown_channel_is_refused() {
    let e = error(json!({"subscription": "email", "op": "eq", "value": "subscribed"}));
    assert_eq!(e.field, "subscription");
}

#[test]
fn an_unknown_subscription_status_is_refused() {
    let e = error(json!({"subscription": "sms", "op": "eq", "value": "yes"}));
    assert_eq!(e.field, "value");
}

#[test]
fn a_subscription_takes_only_eq_or_neq() {
    let e = error(json!({"subscription": "sms", "op": "is_known", "value": "subscribed"}));
    assert_eq!(e.field, "op");
}

#[test]
fn an_unknown_event_name_is_refused() {
    let e = error(json!({"event": "SMS_OPENED", "of": "n1", "op": "is_known"}));
    assert_eq!(e.field, "event");
}

#[test]
fn an_event_takes_only_is_known_or_is_unknown() {
    let e = error(json!({"event": "SMS_CLICKED", "of": "n1", "op": "eq", "value": "x"}));
    assert_eq!(e.field, "op");
}

#[test]
fn an_event_names_of_or_campaign_not_both() {
    let e = error(json!({"event": "SMS_CLICKED", "of": "n1", "campaign": "BF", "op": "is_known"}));
    assert_eq!(e.field, "campaign");
}

#[test]
fn sender_narrows_only_campaign_events() {
    let e = error(json!({"event": "SMS_CLICKED", "of": "n1", "sender": "X", "op": "is_known"}));
    assert_eq!(e.field, "sender");
}

#[test]
fn is_known_takes_no_value() {
    let e = error(json!({"property": "a", "op": "is_known", "value": "x"}));
    assert_eq!(e.field, "value");
}

#[test]
fn a_property_name_must_follow_the_property_rule() {
    let e = error(json!({"property": "First Name", "op": "is_known"}));
    assert_eq!(e.field, "property");
}

#[test]
fn a_condition_that_is_not_an_object_is_refused_at_its_place() {
    let e = error(json!({"any": ["country = BR"]}));
    assert_eq!(e.field, "any[0]");
}

#[test]
fn a_deserialize_error_names_the_path() {
    let e = serde_json::from_value::<Condition>(json!({"all": [{"property": "a", "op": "nope"}]})).unwrap_err();
    assert!(e.to_string().contains("all[0].op"), "{e}");
}

// ---- semantics ------------------------------------------------------------------

#[test]
fn eq_compares_property_text_ignoring_case() {
    assert!(property("eq", json!("BR"), Some("br")));
    assert!(property("eq", json!("São Paulo"), Some("SÃO PAULO")));
    assert!(!property("eq", json!("BR"), Some("PT")));
}

#[test]
fn eq_is_false_for_an_unknown_property() {
    assert!(!property("eq", json!("BR"), None));
    assert!(!property("eq", json!(""), Some("")));
}

#[test]
fn eq_with_a_number_compares_numerically() {
    assert!(property("eq", json!(30), Some("30.0")));
    assert!(!property("eq", json!(30), Some("thirty")));
}

#[test]
fn eq_with_a_boolean_compares_with_true_or_false_text() {
    assert!(property("eq", json!(true), Some("TRUE")));
    assert!(!property("eq", json!(true), Some("false")));
}

#[test]
fn neq_is_the_negation_of_eq_and_holds_for_an_unknown_property() {
    assert!(property("neq", json!("BR"), Some("PT")));
    assert!(!property("neq", json!("BR"), Some("br")));
    assert!(property("neq", json!("BR"), None));
}

#[test]
fn is_known_needs_a_present_non_empty_property() {
    assert!(property("is_known", Value::Null, Some("x")));
    assert!(!property("is_known", Value::Null, Some("")));
    assert!(!property("is_known", Value::Null, None));
}

#[test]
fn is_unknown_holds_for_a_missing_or_empty_property() {
    assert!(property("is_unknown", Value::Null, None));
    assert!(property("is_unknown", Value::Null, Some("")));
    assert!(!property("is_unknown", Value::Null, Some("x")));
}

#[test]
fn contains_is_a_case_insensitive_substring_test() {
    assert!(property("contains", json!("gmail"), Some("Ana@GMail.com")));
    assert!(!property("contains", json!("gmail"), Some("ana@example.com")));
    assert!(!property("contains", json!("gmail"), None));
}

#[test]
fn gt_and_lt_parse_the_property_as_a_number() {
    assert!(property("gt", json!(17), Some("18")));
    assert!(!property("gt", json!(18), Some("18")));
    assert!(property("lt", json!(2.5), Some(" 2.4 ")));
    assert!(!property("lt", json!(2.5), Some("3")));
}

#[test]
fn gt_and_lt_are_false_for_a_property_that_is_not_a_number() {
    assert!(!property("gt", json!(0), Some("many")));
    assert!(!property("lt", json!(0), Some("-many")));
    assert!(!property("gt", json!(0), Some("NaN")));
}

#[test]
fn before_and_after_compare_rfc_3339_and_plain_days() {
    // Evaluated at 2026-06-01T12:00:00Z.
    assert!(property("before", json!("2026-01-01T00:00:00Z"), Some("2025-12-31")));
    assert!(!property(
        "before",
        json!("2026-01-01T00:00:00Z"),
        Some("2026-01-01T00:00:00Z")
    ));
    assert!(property(
        "after",
        json!("2026-01-01T00:00:00Z"),
        Some("2026-01-01T00:00:01+00:00")
    ));
}

#[test]
fn a_duration_value_is_relative_to_now() {
    // Signed up three days before 2026-06-01T12:00Z: within the last week.
    assert!(property("after", json!("-P7D"), Some("2026-05-29T12:00:00Z")));
    assert!(!property("after", json!("-P1D"), Some("2026-05-29T12:00:00Z")));
    assert!(property("before", json!("-P1D"), Some("2026-05-29")));
}

#[test]
fn before_and_after_are_false_for_a_property_that_is_not_a_date() {
    assert!(!property("before", json!("2030-01-01T00:00:00Z"), Some("someday")));
    assert!(!property("after", json!("2000-01-01T00:00:00Z"), None));
}

#[test]
fn a_subscription_without_a_status_counts_as_not_specified() {
    let contact = Contact::default();
    assert!(holds(
        json!({"subscription": "sms", "op": "eq", "value": "not_specified"}),
        &contact
    ));
    assert!(holds(
        json!({"subscription": "sms", "op": "neq", "value": "subscribed"}),
        &contact
    ));
}

#[test]
fn a_subscription_compares_the_channel_status() {
    let contact = Contact::default().subscribed(Channel::Whatsapp, SubscriptionStatus::Subscribed);
    assert!(holds(
        json!({"subscription": "whatsapp", "op": "eq", "value": "subscribed"}),
        &contact
    ));
    assert!(!holds(
        json!({"subscription": "sms", "op": "eq", "value": "subscribed"}),
        &contact
    ));
}

fn clicked(at_ms: i64) -> Contact {
    Contact {
        events: vec![ContactEvent {
            event: "SMS_CLICKED",
            campaign: "BF",
            sender: "RECADO",
            message_id: "m1",
            at: at_ms,
        }],
        ..Contact::default()
    }
}

#[test]
fn an_event_is_known_once_it_happened_in_the_campaign() {
    let contact = clicked(at("2026-05-30T00:00:00Z"));
    assert!(holds(
        json!({"event": "SMS_CLICKED", "campaign": "BF", "op": "is_known"}),
        &contact
    ));
    assert!(!holds(
        json!({"event": "SMS_CLICKED", "campaign": "XMAS", "op": "is_known"}),
        &contact
    ));
    assert!(holds(
        json!({"event": "SMS_CLICKED", "campaign": "XMAS", "op": "is_unknown"}),
        &contact
    ));
}

#[test]
fn since_and_until_bound_the_event_time_inclusively() {
    let now = at("2026-06-01T12:00:00Z");
    let contact = clicked(now - 3 * DAY);
    assert!(holds(
        json!({"event": "SMS_CLICKED", "op": "is_known", "since": "-P3D"}),
        &contact
    ));
    assert!(!holds(
        json!({"event": "SMS_CLICKED", "op": "is_known", "since": "-P2D"}),
        &contact
    ));
    assert!(holds(
        json!({"event": "SMS_CLICKED", "op": "is_known", "until": "-P3D"}),
        &contact
    ));
    assert!(!holds(
        json!({"event": "SMS_CLICKED", "op": "is_known", "until": "-P4D"}),
        &contact
    ));
}

#[test]
fn all_needs_every_condition_and_any_needs_one() {
    let contact = Contact::default().with("country", "BR").with("language", "pt");
    let br = json!({"property": "country", "op": "eq", "value": "BR"});
    let es = json!({"property": "language", "op": "eq", "value": "es"});
    assert!(!holds(json!({"all": [br.clone(), es.clone()]}), &contact));
    assert!(holds(json!({"any": [br, es]}), &contact));
}
