use std::collections::BTreeMap;

use recado_channels::whatsapp::templates::{
    build_components, Template, TemplateParamError, TemplateParams, TemplateVariables,
};
use serde_json::{json, Value};

fn template(category: &str, components: Value) -> Template {
    serde_json::from_value(json!({
        "id": 920070352646140u64, "name": "t", "language": "pt_BR", "category": category, "status": "APPROVED",
        "components": components
    }))
    .unwrap()
}

fn order_update() -> Template {
    template(
        "UTILITY",
        json!([
            { "type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}" },
            { "type": "BODY", "text": "Olá {{1}}, o pedido {{2}} chega {{3}}. Obrigado, {{1}}!" },
            { "type": "FOOTER", "text": "Loja" },
            { "type": "BUTTONS", "buttons": [
                { "type": "QUICK_REPLY", "text": "Falar com atendente" },
                { "type": "URL", "text": "Rastrear", "url": "https://x.example/t/{{1}}" },
                { "type": "PHONE_NUMBER", "text": "Ligar", "phone_number": "+551130000000" }
            ] }
        ]),
    )
}

fn params(header: &[&str], body: &[&str], buttons: &[(usize, &[&str])]) -> TemplateParams {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    TemplateParams {
        header: strings(header),
        body: strings(body),
        buttons: buttons.iter().map(|(i, v)| (*i, strings(v))).collect(),
    }
}

#[test]
fn template_list_item_deserialises_with_numeric_or_string_id() {
    let t = order_update();
    assert_eq!(
        (t.id.as_str(), t.category.as_str(), t.is_approved()),
        ("920070352646140", "UTILITY", true)
    );
}

#[test]
fn variables_are_counted_per_component_with_repeated_placeholders_once() {
    let vars = order_update().variables();
    assert_eq!((vars.header, vars.body, vars.buttons.clone()), (1, 3, vec![(1, 1)]));
    assert_eq!(vars.header_format.as_deref(), Some("TEXT"));
    assert_eq!(vars.button_sub_types, BTreeMap::from([(1, "url".to_string())]));
}

#[test]
fn named_placeholders_are_counted_and_sent_with_their_names() {
    let t = template(
        "MARKETING",
        json!([{ "type": "BODY", "text": "Oi {{first_name}}, use {{ code }} até {{first_name}}" }]),
    );
    let vars = t.variables();
    assert_eq!(
        (vars.body, vars.body_names.clone()),
        (2, vec!["first_name".to_string(), "code".to_string()])
    );
    let components = build_components(&vars, &params(&[], &["Ana", "PROMO10"], &[])).unwrap();
    assert_eq!(
        components,
        vec![json!({ "type": "body", "parameters": [
            { "type": "text", "text": "Ana", "parameter_name": "first_name" },
            { "type": "text", "text": "PROMO10", "parameter_name": "code" }
        ] })]
    );
}

#[test]
fn components_are_built_for_header_body_and_url_button() {
    let components = build_components(
        &order_update().variables(),
        &params(&["#45"], &["Ana", "#45", "amanhã"], &[(1, &["abc"])]),
    )
    .unwrap();
    assert_eq!(
        components,
        vec![
            json!({ "type": "header", "parameters": [{ "type": "text", "text": "#45" }] }),
            json!({ "type": "body", "parameters": [
                { "type": "text", "text": "Ana" }, { "type": "text", "text": "#45" }, { "type": "text", "text": "amanhã" }
            ] }),
            json!({ "type": "button", "sub_type": "url", "index": "1", "parameters": [{ "type": "text", "text": "abc" }] }),
        ]
    );
}

#[test]
fn missing_or_extra_parameters_are_refused_naming_the_component() {
    let vars = order_update().variables();
    let cases = [
        (params(&[], &["a", "b", "c"], &[(1, &["x"])]), "header", 1, 0),
        (params(&["h"], &["a", "b"], &[(1, &["x"])]), "body", 3, 2),
        (params(&["h"], &["a", "b", "c", "d"], &[(1, &["x"])]), "body", 3, 4),
        (params(&["h"], &["a", "b", "c"], &[]), "button 1", 1, 0),
        (
            params(&["h"], &["a", "b", "c"], &[(1, &["x"]), (0, &["payload"])]),
            "button 0",
            0,
            1,
        ),
    ];
    for (p, component, expected, given) in cases {
        let err = build_components(&vars, &p).unwrap_err();
        assert_eq!(
            err,
            TemplateParamError::Count {
                component: component.into(),
                expected,
                given
            }
        );
        assert_eq!(err.component(), component);
    }
}

#[test]
fn empty_values_and_line_breaks_in_text_parameters_are_refused() {
    let vars = order_update().variables();
    let err = build_components(&vars, &params(&["h"], &["a", " ", "c"], &[(1, &["x"])])).unwrap_err();
    assert_eq!(
        err,
        TemplateParamError::Empty {
            component: "body".into(),
            position: 2
        }
    );
    let err = build_components(&vars, &params(&["h"], &["a\nb", "b", "c"], &[(1, &["x"])])).unwrap_err();
    assert!(matches!(err, TemplateParamError::Format { position: 1, .. }), "{err}");
    let err = build_components(&vars, &params(&["h"], &["a     b", "b", "c"], &[(1, &["x"])])).unwrap_err();
    assert!(matches!(err, TemplateParamError::Format { .. }), "{err}");
}

#[test]
fn media_header_takes_one_link_or_media_id() {
    let t = template(
        "MARKETING",
        json!([{ "type": "HEADER", "format": "VIDEO" }, { "type": "BODY", "text": "Veja" }]),
    );
    let vars = t.variables();
    assert_eq!((vars.header, vars.body), (1, 0));
    let by_link = build_components(&vars, &params(&["https://cdn.example/v.mp4"], &[], &[])).unwrap();
    assert_eq!(
        by_link,
        vec![
            json!({ "type": "header", "parameters": [{ "type": "video", "video": { "link": "https://cdn.example/v.mp4" } }] })
        ]
    );
    let by_id = build_components(&vars, &params(&["123456"], &[], &[])).unwrap();
    assert_eq!(by_id[0]["parameters"][0]["video"], json!({ "id": "123456" }));
}

#[test]
fn location_header_is_reported_as_not_fillable() {
    let vars = template("UTILITY", json!([{ "type": "HEADER", "format": "LOCATION" }])).variables();
    assert_eq!(
        build_components(&vars, &params(&["x"], &[], &[])),
        Err(TemplateParamError::UnsupportedHeader {
            format: "LOCATION".into()
        })
    );
}

#[test]
fn copy_code_and_otp_buttons_take_one_parameter_each() {
    let t = template(
        "AUTHENTICATION",
        json!([
            { "type": "BODY", "text": "*{{1}}* é o seu código." },
            { "type": "BUTTONS", "buttons": [{ "type": "OTP", "otp_type": "COPY_CODE", "text": "Copiar código" }] }
        ]),
    );
    let components = build_components(&t.variables(), &params(&[], &["482913"], &[(0, &["482913"])])).unwrap();
    assert_eq!(
        components[1],
        json!({ "type": "button", "sub_type": "url", "index": "0", "parameters": [{ "type": "text", "text": "482913" }] })
    );
    let coupon = template(
        "MARKETING",
        json!([{ "type": "BUTTONS", "buttons": [{ "type": "COPY_CODE", "example": "SAVE10" }] }]),
    );
    let components = build_components(&coupon.variables(), &params(&[], &[], &[(0, &["SAVE10"])])).unwrap();
    assert_eq!(
        components[0]["parameters"][0],
        json!({ "type": "coupon_code", "coupon_code": "SAVE10" })
    );
}

#[test]
fn template_without_variables_needs_no_parameters() {
    let vars = template(
        "UTILITY",
        json!([{ "type": "BODY", "text": "Sem variáveis { não } {{}}" }]),
    )
    .variables();
    assert_eq!(
        vars,
        TemplateVariables {
            header_format: None,
            ..Default::default()
        }
    );
    assert_eq!(build_components(&vars, &TemplateParams::default()), Ok(vec![]));
}

#[test]
fn parameters_deserialise_from_the_api_shape_with_string_button_keys() {
    let p: TemplateParams = serde_json::from_value(json!({ "body": ["Ana"], "buttons": { "1": ["abc"] } })).unwrap();
    assert_eq!(p, params(&[], &["Ana"], &[(1, &["abc"])]));
    assert!(
        serde_json::from_value::<TemplateParams>(json!({ "footer": ["x"] })).is_err(),
        "unknown parts are refused"
    );
}
