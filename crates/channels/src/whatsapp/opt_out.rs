//! Which quick-reply button of a marketing template is the "stop promotions" opt-out.
//!
//! Meta lets marketing templates carry an opt-out quick reply ("Stop promotions" in English,
//! localised in other languages). A contact who taps it sends back a `button` message whose
//! text (and, when the send set no payload, payload) is the button's label, and Meta stops
//! delivering that business's marketing messages (later sends fail with 131050).
//!
//! Detection, from the template definition only:
//! 1. only templates of category `MARKETING`;
//! 2. a button of type `MARKETING_OPT_OUT` is the opt-out;
//! 3. otherwise the first `QUICK_REPLY` whose label, lower-cased and without accents, is a
//!    known opt-out phrase (English, Portuguese, Spanish, French, German, Polish), or pairs a
//!    stop verb with a promotions noun ("Parar promoções", "Werbung stoppen", …).
//!
//! A tap matches when the tapped text or payload equals that label after the same folding.

use serde::Serialize;
use serde_json::Value;

use super::templates::Template;

/// The opt-out button of a template: its index among the template's buttons and its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptOutButton {
    pub index: usize,
    pub text: String,
}

/// Whole labels that mean "unsubscribe me from promotions".
const PHRASES: &[&str] = &[
    // en
    "stop",
    "stop promotions",
    "unsubscribe",
    "opt out",
    "opt-out",
    // pt
    "parar",
    "parar promocoes",
    "descadastrar",
    "cancelar inscricao",
    "nao quero receber",
    "sair da lista",
    // es
    "detener promociones",
    "dar de baja",
    "darme de baja",
    "darse de baja",
    "cancelar suscripcion",
    "no recibir promociones",
    // fr
    "arreter les promotions",
    "arreter",
    "se desabonner",
    "desabonner",
    "se desinscrire",
    "desinscription",
    // de
    "werbung stoppen",
    "abmelden",
    "abbestellen",
    "keine werbung",
    // pl
    "zatrzymaj promocje",
    "wypisz sie",
    "wypisz mnie",
    "rezygnuje",
    "rezygnacja",
];

/// Verbs of stopping; combined with a noun below they make an opt-out label.
const STOP_WORDS: &[&str] = &[
    "stop",
    "parar",
    "pare",
    "detener",
    "deten",
    "dejar",
    "cancelar",
    "arreter",
    "stopper",
    "stoppen",
    "beenden",
    "zatrzymaj",
    "wstrzymaj",
    "wylacz",
    "nie",
    "nao",
    "no",
    "keine",
    "kein",
];

/// Word prefixes meaning promotions or marketing messages.
const PROMO_PREFIXES: &[&str] = &[
    "promo",
    "marketing",
    "ofert",
    "offre",
    "angebot",
    "werbung",
    "publicit",
    "reklam",
    "newsletter",
];

/// The template's marketing opt-out button, if it has one.
pub fn marketing_opt_out_button(template: &Template) -> Option<OptOutButton> {
    if !template.category.eq_ignore_ascii_case("MARKETING") {
        return None;
    }
    let buttons: Vec<&Value> = template
        .components
        .as_array()?
        .iter()
        .filter(|c| c["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("BUTTONS")))
        .flat_map(|c| c["buttons"].as_array().into_iter().flatten())
        .collect();
    let label = |b: &Value| b["text"].as_str().unwrap_or("").to_string();
    let kind = |b: &Value| b["type"].as_str().unwrap_or("").to_ascii_uppercase();
    if let Some(index) = buttons.iter().position(|b| kind(b) == "MARKETING_OPT_OUT") {
        return Some(OptOutButton {
            index,
            text: label(buttons[index]),
        });
    }
    buttons
        .iter()
        .position(|b| kind(b) == "QUICK_REPLY" && is_opt_out_label(&label(b)))
        .map(|index| OptOutButton {
            index,
            text: label(buttons[index]),
        })
}

/// True when a tapped button (its text or payload) is the template's marketing opt-out.
pub fn is_marketing_opt_out(template: &Template, button_text_or_payload: &str) -> bool {
    let given = fold(button_text_or_payload);
    !given.is_empty() && marketing_opt_out_button(template).is_some_and(|b| fold(&b.text) == given)
}

fn is_opt_out_label(label: &str) -> bool {
    let folded = fold(label);
    if PHRASES.contains(&folded.as_str()) {
        return true;
    }
    let words: Vec<&str> = folded.split(' ').collect();
    let stop = words.iter().any(|w| STOP_WORDS.contains(w));
    let promo = words.iter().any(|w| PROMO_PREFIXES.iter().any(|p| w.starts_with(p)));
    stop && promo
}

/// Lower case, Latin accents removed, punctuation dropped, spaces collapsed.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let base = match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' | 'ą' => "a",
            'ç' | 'ć' | 'č' => "c",
            'é' | 'è' | 'ê' | 'ë' | 'ę' | 'ě' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'ú' | 'ù' | 'û' | 'ü' => "u",
            'ñ' | 'ń' => "n",
            'ł' => "l",
            'ś' | 'š' => "s",
            'ź' | 'ż' | 'ž' => "z",
            'ý' | 'ÿ' => "y",
            'ß' => "ss",
            c if c.is_alphanumeric() || c == '-' => {
                out.push(c);
                continue;
            }
            _ => " ",
        };
        out.push_str(base);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn fold_removes_accents_case_and_punctuation() {
        assert_eq!(fold("  Parar   Promoções! "), "parar promocoes");
        assert_eq!(fold("Arrêter les promotions"), "arreter les promotions");
        assert_eq!(fold("Wypisz się"), "wypisz sie");
    }
}
