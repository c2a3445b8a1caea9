//! `POST /api/v1/sms/analyze` and `recado sms analyze`: encoding, parts,
//! replacements and limits of an SMS before it is sent.

use crate::common::{spawn_app, Reply, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;

const FIELDS: [&str; 10] = [
    "encoding",
    "segments",
    "units",
    "units_per_segment",
    "remaining_in_segment",
    "text",
    "replaced",
    "ucs2_chars",
    "national_language",
    "exceeds_max_segments",
];

const PROMO: &str = "Promoção válida até amanhã";

async fn analyze(app: &TestApp, body: Value) -> Reply {
    app.post("/api/v1/sms/analyze", body).await
}

fn assert_contract_fields(v: &Value) {
    let keys: BTreeSet<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    for field in FIELDS {
        assert!(keys.contains(field), "missing `{field}`: {v}");
    }
    assert!(["GSM-7", "UCS-2"].contains(&v["encoding"].as_str().unwrap()), "{v}");
    for n in ["segments", "units", "units_per_segment", "remaining_in_segment"] {
        assert!(v[n].is_u64(), "{n}: {v}");
    }
    assert!(
        v["text"].is_string() && v["replaced"].is_array() && v["ucs2_chars"].is_array(),
        "{v}"
    );
    assert!(v["exceeds_max_segments"].is_boolean(), "{v}");
    assert!(
        v["national_language"].is_null() || v["national_language"].is_string(),
        "{v}"
    );
    for r in v["replaced"].as_array().unwrap() {
        assert!(r["from"].is_string() && r["to"].is_string(), "{r}");
    }
}

#[tokio::test]
async fn analysis_returns_every_field_of_the_contract() {
    let app = spawn_app().await;
    let r = analyze(&app, json!({"text": "Olá {Ana} 😀"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_contract_fields(&r.body);
    let r = analyze(
        &app,
        json!({"text": "Hello", "policy": "transliterate", "national_language": null, "max_segments": 5}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_contract_fields(&r.body);
    assert_eq!(
        r.body,
        json!({"encoding": "GSM-7", "segments": 1, "units": 5, "units_per_segment": 160, "remaining_in_segment": 155,
               "text": "Hello", "replaced": [], "ucs2_chars": [], "national_language": null, "exceeds_max_segments": false})
    );
    // Analysis needs a token like the rest of the API.
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/sms/analyze"))
                .json(&json!({"text": "Hello"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
}

#[tokio::test]
async fn gsm_160_characters_are_one_segment_and_161_are_two() {
    let app = spawn_app().await;
    let r = analyze(&app, json!({"text": "a".repeat(160)})).await;
    assert_eq!(
        (
            &r.body["encoding"],
            &r.body["segments"],
            &r.body["units"],
            &r.body["units_per_segment"],
            &r.body["remaining_in_segment"]
        ),
        (&json!("GSM-7"), &json!(1), &json!(160), &json!(160), &json!(0)),
        "{}",
        r.body
    );
    let r = analyze(&app, json!({"text": "a".repeat(161)})).await;
    assert_eq!(
        (
            &r.body["segments"],
            &r.body["units"],
            &r.body["units_per_segment"],
            &r.body["remaining_in_segment"]
        ),
        (&json!(2), &json!(161), &json!(153), &json!(2 * 153 - 161)),
        "{}",
        r.body
    );
    // Extension characters cost two septets.
    let r = analyze(&app, json!({"text": format!("{}€", "a".repeat(158))})).await;
    assert_eq!(
        (&r.body["segments"], &r.body["units"]),
        (&json!(1), &json!(160)),
        "{}",
        r.body
    );
    let r = analyze(&app, json!({"text": format!("{}€", "a".repeat(159))})).await;
    assert_eq!(
        (&r.body["segments"], &r.body["units"]),
        (&json!(2), &json!(161)),
        "{}",
        r.body
    );
    // UCS-2: 70 units in one part, 67 per part after that.
    let r = analyze(&app, json!({"text": "ж".repeat(70)})).await;
    assert_eq!(
        (&r.body["encoding"], &r.body["segments"], &r.body["units"]),
        (&json!("UCS-2"), &json!(1), &json!(70))
    );
    let r = analyze(&app, json!({"text": "ж".repeat(71)})).await;
    assert_eq!(
        (&r.body["segments"], &r.body["units_per_segment"]),
        (&json!(2), &json!(67)),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn portuguese_text_is_transliterated_by_default_ucs2_with_auto_and_gsm_with_the_portuguese_tables() {
    let app = spawn_app().await;
    for body in [
        json!({"text": PROMO}),
        json!({"text": PROMO, "policy": "transliterate"}),
    ] {
        let r = analyze(&app, body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["encoding"], "GSM-7", "{}", r.body);
        // é is in the GSM default alphabet; ç becomes Ç, ã and á become a.
        assert_eq!(r.body["text"], "PromoÇao valida até amanha", "{}", r.body);
        assert_eq!(
            r.body["replaced"],
            json!([{"from": "ç", "to": "Ç"}, {"from": "ã", "to": "a"}, {"from": "á", "to": "a"}]),
            "{}",
            r.body
        );
        assert_eq!(
            (&r.body["ucs2_chars"], &r.body["national_language"]),
            (&json!([]), &Value::Null)
        );
        assert_eq!((&r.body["units"], &r.body["segments"]), (&json!(26), &json!(1)));
    }

    let r = analyze(&app, json!({"text": PROMO, "policy": "auto"})).await;
    assert_eq!(r.body["encoding"], "UCS-2", "{}", r.body);
    assert_eq!(r.body["text"], PROMO);
    assert_eq!(r.body["replaced"], json!([]));
    assert_eq!(r.body["ucs2_chars"], json!(["ç", "ã", "á"]), "{}", r.body);
    assert_eq!(
        (&r.body["units"], &r.body["units_per_segment"], &r.body["segments"]),
        (&json!(26), &json!(70), &json!(1))
    );

    for policy in ["auto", "transliterate"] {
        let r = analyze(
            &app,
            json!({"text": PROMO, "policy": policy, "national_language": "pt"}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            (&r.body["encoding"], &r.body["national_language"], &r.body["text"]),
            (&json!("GSM-7"), &json!("pt"), &json!(PROMO)),
            "{policy}: {}",
            r.body
        );
        assert_eq!(
            (&r.body["replaced"], &r.body["ucs2_chars"]),
            (&json!([]), &json!([])),
            "{}",
            r.body
        );
        assert_eq!(r.body["segments"], 1);
    }
}

#[tokio::test]
async fn empty_text_is_422_empty_text() {
    let app = spawn_app().await;
    let r = analyze(&app, json!({"text": ""})).await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "empty_text", "text"),
        "{}",
        r.body
    );
    let r = analyze(&app, json!({"policy": "auto"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
}

#[tokio::test]
async fn six_segments_exceed_a_limit_of_five() {
    let app = spawn_app().await;
    let six = "a".repeat(153 * 5 + 1);
    let r = analyze(&app, json!({"text": six, "max_segments": 5})).await;
    assert_eq!(
        (&r.body["segments"], &r.body["exceeds_max_segments"]),
        (&json!(6), &json!(true)),
        "{}",
        r.body
    );
    let r = analyze(&app, json!({"text": six})).await;
    assert_eq!(
        r.body["exceeds_max_segments"], true,
        "the default limit is 5: {}",
        r.body
    );
    let r = analyze(&app, json!({"text": six, "max_segments": 6})).await;
    assert_eq!(r.body["exceeds_max_segments"], false, "{}", r.body);
    let five = "a".repeat(153 * 5);
    let r = analyze(&app, json!({"text": five, "max_segments": 5})).await;
    assert_eq!(
        (&r.body["segments"], &r.body["exceeds_max_segments"]),
        (&json!(5), &json!(false)),
        "{}",
        r.body
    );
    for bad in [json!(0), json!(-1), json!(1000)] {
        let r = analyze(&app, json!({"text": "hi", "max_segments": bad})).await;
        assert_eq!((r.status, r.field()), (422, "max_segments"), "{}", r.body);
    }
}

#[tokio::test]
async fn unknown_policy_or_national_language_is_422() {
    let app = spawn_app().await;
    for (field, value) in [("policy", "cheapest"), ("policy", "AUTO"), ("national_language", "fr")] {
        let r = analyze(&app, json!({"text": "hi", field: value})).await;
        assert_eq!((r.status, r.field()), (422, field), "{}", r.body);
        assert!(!r.code().is_empty());
    }
}

fn cli_analyze(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_recado"))
        .args(["sms", "analyze"])
        .args(args)
        .env_remove("RECADO_CONFIG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the recado binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON on stdout ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn cli_prints_the_same_json_as_the_api() {
    let app = spawn_app().await;
    let long = "a".repeat(161);
    let cases: [(Vec<&str>, Value); 5] = [
        (vec![PROMO], json!({"text": PROMO})),
        (
            vec![PROMO, "--policy", "auto"],
            json!({"text": PROMO, "policy": "auto"}),
        ),
        (
            vec![PROMO, "--national-language", "pt"],
            json!({"text": PROMO, "national_language": "pt"}),
        ),
        (
            vec![long.as_str(), "--max-segments", "1"],
            json!({"text": long, "max_segments": 1}),
        ),
        (vec!["Olá 😀 {x}"], json!({"text": "Olá 😀 {x}"})),
    ];
    for (args, body) in cases {
        let printed = cli_analyze(&args);
        assert_contract_fields(&printed);
        let r = analyze(&app, body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(printed, r.body, "{args:?}");
    }
    // Bad input fails with the same error code.
    let out = Command::new(env!("CARGO_BIN_EXE_recado"))
        .args(["sms", "analyze", ""])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty_text"));
}
