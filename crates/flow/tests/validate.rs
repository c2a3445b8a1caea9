mod common;

use common::{definition, example_json};
use recado_core::consent::Channel;
use recado_flow::validate::{validate, AllowAll, Invalid, References, TemplateShape};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A workspace with one SMS account (sender RECADO), one WhatsApp account
/// with the template `promo` (pt_BR, one body parameter) and segment sg_1.
struct Workspace;

impl References for Workspace {
    fn channel(&self, channel: Channel, channel_id: Option<&str>) -> Result<(), String> {
        match (channel, channel_id) {
            (Channel::Sms, None | Some("ch_sms")) | (Channel::Whatsapp, None | Some("ch_wa")) => Ok(()),
            _ => Err("no such channel".into()),
        }
    }
    fn sender(&self, _: Option<&str>, from: &str) -> Result<(), String> {
        if from == "RECADO" {
            Ok(())
        } else {
            Err(format!("`{from}` is not a sender of this channel"))
        }
    }
    fn template(&self, _: Option<&str>, name: &str, language: &str) -> Result<Option<TemplateShape>, String> {
        if (name, language) == ("promo", "pt_BR") {
            Ok(Some(TemplateShape {
                parameters: BTreeMap::from([("body".to_string(), 1)]),
            }))
        } else {
            Err("template not approved".into())
        }
    }
    fn segment(&self, id: &str) -> Result<(), String> {
        if id == "sg_1" {
            Ok(())
        } else {
            Err(format!("no segment `{id}`"))
        }
    }
}

fn check(json: Value) -> Result<(), Invalid> {
    validate(&definition(json), &Workspace)
}

/// The example with one change; the error it must produce.
fn problem(change: impl FnOnce(&mut Value)) -> Invalid {
    let mut json = example_json();
    change(&mut json);
    check(json).expect_err("should be invalid")
}

fn assert_problem(invalid: Invalid, field: &str, words: &str) {
    assert_eq!(invalid.field, field, "{invalid}");
    assert!(invalid.message.contains(words), "{invalid}");
}

#[test]
fn the_api_example_is_valid() {
    assert_eq!(check(example_json()), Ok(()));
}

#[test]
fn at_least_one_trigger_is_needed() {
    assert_problem(
        problem(|j| j["triggers"] = json!([])),
        "triggers",
        "at least one trigger",
    );
}

#[test]
fn an_event_trigger_names_a_known_event() {
    assert_problem(
        problem(|j| j["triggers"][1] = json!({"type": "event", "event": "EMAIL_OPENED"})),
        "triggers[1]",
        "unknown event",
    );
}

#[test]
fn an_event_trigger_filter_cannot_use_of() {
    assert_problem(
        problem(|j| j["triggers"][1]["where"] = json!({"event": "SMS_CLICKED", "of": "n1", "op": "is_known"})),
        "triggers[1]",
        "cannot use `of`",
    );
}

#[test]
fn a_segment_trigger_names_an_existing_segment() {
    assert_problem(
        problem(|j| j["triggers"][2]["segment_id"] = json!("sg_9")),
        "triggers[2]",
        "no segment",
    );
}

#[test]
fn a_schedule_time_is_hh_mm() {
    assert_problem(
        problem(|j| j["triggers"][3]["at"] = json!("8am")),
        "triggers[3]",
        "HH:MM",
    );
}

#[test]
fn schedule_days_are_week_day_names() {
    assert_problem(
        problem(|j| j["triggers"][3]["days"] = json!(["mon", "funday"])),
        "triggers[3]",
        "not a week day",
    );
}

#[test]
fn schedule_days_are_not_repeated() {
    assert_problem(
        problem(|j| j["triggers"][3]["days"] = json!(["mon", "mon"])),
        "triggers[3]",
        "twice",
    );
}

#[test]
fn a_webhook_trigger_matches_on_something() {
    assert_problem(
        problem(|j| j["triggers"][4]["match"] = json!([])),
        "triggers[4]",
        "at least one",
    );
}

#[test]
fn an_exit_condition_event_names_a_send_node() {
    assert_problem(
        problem(|j| j["settings"]["exit_when"] = json!({"event": "SMS_CLICKED", "of": "n3", "op": "is_known"})),
        "settings.exit_when",
        "not a send node",
    );
}

#[test]
fn start_names_an_existing_node() {
    assert_problem(problem(|j| j["start"] = json!("n0")), "start", "not a node");
}

#[test]
fn every_target_names_an_existing_node() {
    assert_problem(
        problem(|j| j["nodes"]["n3"]["next"] = json!("n99")),
        "n3",
        "`next` names `n99`",
    );
    assert_problem(
        problem(|j| j["nodes"]["n2"]["on"]["timeout"] = json!("n99")),
        "n2",
        "`on.timeout`",
    );
    assert_problem(problem(|j| j["nodes"]["n4"]["else"] = json!("n99")), "n4", "`else`");
}

#[test]
fn max_visits_is_at_least_one() {
    assert_problem(
        problem(|j| j["nodes"]["n3"]["max_visits"] = json!(0)),
        "n3",
        "at least 1",
    );
}

#[test]
fn a_send_channel_must_exist() {
    assert_problem(
        problem(|j| j["nodes"]["n6"]["channel_id"] = json!("ch_gone")),
        "n6",
        "`channel_id`: no such channel",
    );
}

#[test]
fn an_sms_sender_must_be_allowed_on_the_channel() {
    assert_problem(problem(|j| j["nodes"]["n1"]["from"] = json!("OTHER")), "n1", "`from`");
}

#[test]
fn a_send_text_must_not_be_empty() {
    assert_problem(
        problem(|j| j["nodes"]["n1"]["text"] = json!("  ")),
        "n1",
        "`text` must not be empty",
    );
    assert_problem(
        problem(|j| j["nodes"]["n6"]["text"] = json!("")),
        "n6",
        "`text` must not be empty",
    );
}

#[test]
fn an_sms_policy_is_transliterate_or_auto() {
    assert_problem(
        problem(|j| j["nodes"]["n1"]["policy"] = json!("ucs2")),
        "n1",
        "`policy`",
    );
}

#[test]
fn a_template_must_be_approved() {
    assert_problem(
        problem(|j| j["nodes"]["n5"]["template"]["language"] = json!("en")),
        "n5",
        "template not approved",
    );
}

#[test]
fn template_parameters_fill_each_component_exactly() {
    assert_problem(
        problem(|j| j["nodes"]["n5"]["template"]["parameters"] = json!({"body": ["Ana", "extra"]})),
        "n5",
        "takes 1 `body` parameters, not 2",
    );
    assert_problem(
        problem(|j| j["nodes"]["n5"]["template"]["parameters"] = json!({"body": ["Ana"], "header": ["x"]})),
        "n5",
        "no `header` parameters",
    );
}

#[test]
fn template_parameters_as_a_list_fill_the_body() {
    let mut json = example_json();
    json["nodes"]["n5"]["template"]["parameters"] = json!(["Ana"]);
    assert_eq!(check(json), Ok(()));
}

#[test]
fn set_property_names_a_valid_property() {
    assert_problem(
        problem(|j| j["nodes"]["n7"]["property"] = json!("Stage!")),
        "n7",
        "not a property name",
    );
}

#[test]
fn set_subscription_sets_subscribed_or_unsubscribed() {
    assert_problem(
        problem(|j| j["nodes"]["n8"]["status"] = json!("not_specified")),
        "n8",
        "subscribed or unsubscribed",
    );
}

#[test]
fn subscribing_needs_a_legal_basis_and_an_explanation() {
    assert_problem(
        problem(|j| {
            j["nodes"]["n8"].as_object_mut().unwrap().remove("explanation");
        }),
        "n8",
        "legal_basis",
    );
}

#[test]
fn a_delay_has_exactly_one_of_duration_until_time_and_until_date() {
    assert_problem(
        problem(|j| j["nodes"]["n3"]["until_time"] = json!("10:00")),
        "n3",
        "exactly one",
    );
    assert_problem(
        problem(|j| {
            j["nodes"]["n3"].as_object_mut().unwrap().remove("duration");
        }),
        "n3",
        "exactly one",
    );
}

#[test]
fn a_delay_duration_is_an_iso_duration() {
    assert_problem(
        problem(|j| j["nodes"]["n3"]["duration"] = json!("1 day")),
        "n3",
        "`duration`",
    );
}

#[test]
fn a_delay_duration_is_not_negative() {
    assert_problem(
        problem(|j| j["nodes"]["n3"]["duration"] = json!("-P1D")),
        "n3",
        "negative",
    );
}

#[test]
fn a_delay_until_time_is_hh_mm() {
    assert_problem(
        problem(|j| j["nodes"]["n3"] = json!({"type": "delay", "until_time": "25:00", "next": "n4"})),
        "n3",
        "`until_time`",
    );
}

#[test]
fn a_delay_until_date_is_rfc_3339_and_may_be_past() {
    assert_problem(
        problem(|j| j["nodes"]["n3"] = json!({"type": "delay", "until_date": "24/12/2026", "next": "n4"})),
        "n3",
        "`until_date`",
    );
    let mut json = example_json();
    json["nodes"]["n3"] = json!({"type": "delay", "until_date": "2001-01-01T00:00:00Z", "next": "n4"});
    assert_eq!(check(json), Ok(()));
}

#[test]
fn a_wait_names_a_send_node() {
    assert_problem(
        problem(|j| j["nodes"]["n2"]["of"] = json!("n3")),
        "n2",
        "not a send node",
    );
}

#[test]
fn a_wait_is_reachable_from_the_send_it_waits_on() {
    // n6 is only reached after n2, so n2 cannot wait on it.
    assert_problem(
        problem(|j| {
            j["nodes"]["n2"]["of"] = json!("n6");
            j["nodes"]["n2"]["events"] = json!(["WHATSAPP_READ"]);
            j["nodes"]["n2"]["on"] = json!({"WHATSAPP_READ": "n3", "timeout": "n6"});
        }),
        "n2",
        "cannot follow `n6`",
    );
}

#[test]
fn a_wait_has_at_least_one_event() {
    assert_problem(
        problem(|j| {
            j["nodes"]["n2"]["events"] = json!([]);
            j["nodes"]["n2"]["on"] = json!({"timeout": "n6"});
        }),
        "n2",
        "at least one event",
    );
}

#[test]
fn wait_events_belong_to_the_channel_of_the_send() {
    assert_problem(
        problem(|j| {
            j["nodes"]["n2"]["events"] = json!(["WHATSAPP_READ"]);
            j["nodes"]["n2"]["on"] = json!({"WHATSAPP_READ": "n3", "timeout": "n6"});
        }),
        "n2",
        "not an event of `n1`, a sms send",
    );
}

#[test]
fn wait_events_are_not_repeated() {
    assert_problem(
        problem(|j| j["nodes"]["n2"]["events"] = json!(["SMS_DELIVERED", "SMS_NOT_DELIVERED", "SMS_DELIVERED"])),
        "n2",
        "twice",
    );
}

#[test]
fn a_wait_has_a_timeout() {
    assert_problem(
        problem(|j| {
            j["nodes"]["n2"].as_object_mut().unwrap().remove("timeout");
        }),
        "n2",
        "needs a `timeout`",
    );
}

#[test]
fn a_wait_timeout_is_a_positive_duration() {
    assert_problem(
        problem(|j| j["nodes"]["n2"]["timeout"] = json!("24h")),
        "n2",
        "`timeout`",
    );
    assert_problem(
        problem(|j| j["nodes"]["n2"]["timeout"] = json!("PT0S")),
        "n2",
        "longer than zero",
    );
}

#[test]
fn a_wait_has_a_timeout_target() {
    assert_problem(
        problem(|j| {
            j["nodes"]["n2"]["on"].as_object_mut().unwrap().remove("timeout");
        }),
        "n2",
        "`timeout` target",
    );
}

#[test]
fn a_wait_target_names_an_awaited_event() {
    assert_problem(
        problem(|j| j["nodes"]["n2"]["on"]["SMS_CLICKED"] = json!("n3")),
        "n2",
        "`on.SMS_CLICKED`",
    );
}

#[test]
fn every_awaited_event_has_a_target() {
    assert_problem(
        problem(|j| {
            j["nodes"]["n2"]["on"]
                .as_object_mut()
                .unwrap()
                .remove("SMS_NOT_DELIVERED");
        }),
        "n2",
        "target for `SMS_NOT_DELIVERED`",
    );
}

#[test]
fn a_branch_event_names_a_send_node() {
    assert_problem(
        problem(|j| j["nodes"]["n4"]["condition"] = json!({"event": "SMS_CLICKED", "of": "n7", "op": "is_known"})),
        "n4",
        "not a send node",
    );
}

#[test]
fn a_branch_event_belongs_to_the_channel_of_its_send() {
    assert_problem(
        problem(|j| j["nodes"]["n4"]["condition"] = json!({"event": "WHATSAPP_READ", "of": "n1", "op": "is_known"})),
        "n4",
        "not an event of `n1`",
    );
}

#[test]
fn every_node_is_reachable_from_start() {
    assert_problem(
        problem(|j| j["nodes"]["n10"] = json!({"type": "end"})),
        "n10",
        "cannot be reached",
    );
}

#[test]
fn a_cycle_without_max_visits_is_an_unbounded_loop() {
    assert_problem(
        problem(|j| {
            j["nodes"]["n7"]["next"] = json!("n10");
            j["nodes"]["n10"] = json!({"type": "branch", "then": "n4", "else": "n8",
                "condition": {"property": "stage", "op": "is_unknown"}});
        }),
        "n4",
        "unbounded loop n4 → n7 → n10 → n4",
    );
}

#[test]
fn a_cycle_through_a_node_with_max_visits_is_allowed() {
    let mut json = example_json();
    json["nodes"]["n7"]["next"] = json!("n10");
    json["nodes"]["n10"] = json!({"type": "branch", "then": "n4", "else": "n8",
        "condition": {"property": "stage", "op": "is_unknown"}});
    json["nodes"]["n10"]["max_visits"] = json!(3);
    assert_eq!(check(json), Ok(()));
}

#[test]
fn the_first_problem_is_reported_in_a_fixed_order() {
    // Problems at start, n3 and n7: start comes first, then nodes in id order.
    let mut json = example_json();
    json["nodes"]["n7"]["property"] = json!("Bad Name");
    json["nodes"]["n3"]["duration"] = json!("soon");
    assert_eq!(check(json.clone()).unwrap_err().field, "n3");
    json["start"] = json!("nope");
    assert_eq!(check(json).unwrap_err().field, "start");
}

#[test]
fn allow_all_accepts_any_reference() {
    let mut json = example_json();
    json["nodes"]["n1"]["from"] = json!("ANYONE");
    json["nodes"]["n5"]["template"]["parameters"] = json!({"body": [1, 2, 3]});
    assert_eq!(validate(&definition(json), &AllowAll), Ok(()));
}
