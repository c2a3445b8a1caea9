use recado_channels::whatsapp::templates::{is_marketing_opt_out, marketing_opt_out_button, OptOutButton, Template};
use serde_json::{json, Value};

fn template(category: &str, buttons: Value) -> Template {
    serde_json::from_value(json!({
        "id": "1", "name": "promo", "language": "pt_BR", "category": category, "status": "APPROVED",
        "components": [
            { "type": "BODY", "text": "Ofertas da semana" },
            { "type": "BUTTONS", "buttons": buttons }
        ]
    }))
    .unwrap()
}

#[test]
fn meta_stop_promotions_quick_reply_is_the_opt_out_of_a_marketing_template() {
    let t = template(
        "MARKETING",
        json!([
            { "type": "URL", "text": "Ver ofertas", "url": "https://x.example" },
            { "type": "QUICK_REPLY", "text": "Stop promotions" }
        ]),
    );
    assert_eq!(
        marketing_opt_out_button(&t),
        Some(OptOutButton {
            index: 1,
            text: "Stop promotions".into()
        })
    );
    assert!(is_marketing_opt_out(&t, "Stop promotions"));
    assert!(is_marketing_opt_out(&t, "  stop PROMOTIONS "));
    assert!(!is_marketing_opt_out(&t, "Ver ofertas"));
    assert!(!is_marketing_opt_out(&t, ""));
}

#[test]
fn localised_opt_out_labels_are_recognised() {
    for label in [
        "Parar promoções",
        "Não quero promoções",
        "Detener promociones",
        "Darme de baja",
        "Arrêter les promotions",
        "Se désabonner",
        "Werbung stoppen",
        "Abbestellen",
        "Zatrzymaj promocje",
        "Wypisz się",
    ] {
        let t = template(
            "MARKETING",
            json!([{ "type": "QUICK_REPLY", "text": "Quero saber mais" }, { "type": "QUICK_REPLY", "text": label }]),
        );
        assert_eq!(marketing_opt_out_button(&t).map(|b| b.index), Some(1), "{label}");
        assert!(is_marketing_opt_out(&t, label), "{label}");
    }
}

#[test]
fn explicit_marketing_opt_out_button_type_wins_over_label_guessing() {
    let t = template(
        "MARKETING",
        json!([
            { "type": "QUICK_REPLY", "text": "Stop" },
            { "type": "MARKETING_OPT_OUT", "text": "Não receber mais" }
        ]),
    );
    assert_eq!(marketing_opt_out_button(&t).map(|b| b.index), Some(1));
    assert!(is_marketing_opt_out(&t, "Não receber mais"));
    assert!(!is_marketing_opt_out(&t, "Stop"));
}

#[test]
fn ordinary_quick_replies_and_non_marketing_templates_have_no_opt_out() {
    let ordinary = template(
        "MARKETING",
        json!([{ "type": "QUICK_REPLY", "text": "Quero promoções" }, { "type": "QUICK_REPLY", "text": "Falar com vendedor" }]),
    );
    assert_eq!(marketing_opt_out_button(&ordinary), None);
    let utility = template("UTILITY", json!([{ "type": "QUICK_REPLY", "text": "Stop promotions" }]));
    assert_eq!(marketing_opt_out_button(&utility), None);
    assert!(!is_marketing_opt_out(&utility, "Stop promotions"));
}
