use super::*;
use serde_json::json;

fn tts(text: &str) -> Value {
    json!({"kind": "tts", "language": "pt-BR", "text": text})
}

fn ivr() -> Value {
    json!({
        "caller_id": "+34910000000",
        "country": "ES",
        "narration": tts("Olá {{contact.firstname}}. Tecle 1, 2 ou 9."),
        "keys": {
            "1": {"action": "transfer", "to": "+34911222333"},
            "2": {"action": "send_sms", "text": "O seu código: {{contact.code}}", "sender": "RECADO"},
            "3": {"action": "play", "narration": tts("Horário: 9h às 18h.")},
            "9": {"action": "unsubscribe", "narration": tts("Não voltará a receber chamadas.")}
        },
        "wrong_key": {"narration": tts("Opção inválida.")},
        "no_input": {"timeout_s": 5, "narration": tts("Ainda está aí?")},
        "max_menu_plays": 3,
        "retry": {"on": ["busy", "no_answer"], "max_attempts": 3, "delay_s": 600},
        "call_window": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "21:00"}
    })
}

fn with(mut value: Value, pointer: &str, new: Value) -> Value {
    *value.pointer_mut(pointer).unwrap() = new;
    value
}

fn field_of(value: &Value) -> String {
    IvrDefinition::parse(value).unwrap_err().field
}

#[test]
fn a_complete_ivr_definition_is_accepted_and_serializes_back_as_written() {
    let parsed = IvrDefinition::parse(&ivr()).unwrap();
    assert_eq!(parsed.keys.len(), 4);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), ivr());
}

#[test]
fn a_voice_message_is_a_narration_and_optional_dialling() {
    let message = VoiceMessage::parse(&json!({"narration": tts("Seu pedido chegou.")})).unwrap();
    assert_eq!(message.dialling, Dialling::default());
    let audio = json!({"narration": {"kind": "audio", "url": "https://example.com/a.wav"}});
    assert!(VoiceMessage::parse(&audio).is_ok());
}

#[test]
fn an_unknown_field_is_refused_by_its_name() {
    let mut value = ivr();
    value["ring_for"] = json!(30);
    assert_eq!(field_of(&value), "ring_for");
    let mut key = ivr();
    key["keys"]["3"]["colour"] = json!("red");
    assert_eq!(field_of(&key), "keys.3");
}

#[test]
fn a_speech_language_must_be_one_the_engine_speaks() {
    let value = with(ivr(), "/narration/language", json!("tlh"));
    assert_eq!(field_of(&value), "narration.language");
}

#[test]
fn a_narration_has_text_of_at_most_a_thousand_characters() {
    assert_eq!(field_of(&with(ivr(), "/narration/text", json!("  "))), "narration.text");
    let long = "a".repeat(MAX_NARRATION_CHARS + 1);
    assert_eq!(field_of(&with(ivr(), "/narration/text", json!(long))), "narration.text");
    let most = "a".repeat(MAX_NARRATION_CHARS);
    assert!(IvrDefinition::parse(&with(ivr(), "/narration/text", json!(most))).is_ok());
}

#[test]
fn an_audio_narration_needs_an_http_url() {
    let audio = json!({"kind": "audio", "url": "file:///etc/passwd"});
    assert_eq!(
        field_of(&with(ivr(), "/keys/3/narration", audio)),
        "keys.3.narration.url"
    );
}

#[test]
fn menu_keys_are_the_digits_zero_to_nine() {
    let mut value = ivr();
    value["keys"]["#"] = json!({"action": "play", "narration": tts("x")});
    assert_eq!(field_of(&value), "keys.#");
    let mut value = ivr();
    value["keys"]["10"] = json!({"action": "play", "narration": tts("x")});
    assert_eq!(field_of(&value), "keys.10");
}

#[test]
fn an_ivr_call_gives_at_least_one_key_an_action() {
    assert_eq!(field_of(&with(ivr(), "/keys", json!({}))), "keys");
}

#[test]
fn a_transfer_goes_to_an_e164_number() {
    assert_eq!(field_of(&with(ivr(), "/keys/1/to", json!("911222333"))), "keys.1.to");
    let mut value = ivr();
    value["keys"]["1"] = json!({"action": "transfer"});
    assert_eq!(field_of(&value), "keys.1.to");
}

#[test]
fn a_play_key_needs_its_narration() {
    let mut value = ivr();
    value["keys"]["3"] = json!({"action": "play"});
    assert_eq!(field_of(&value), "keys.3.narration");
}

#[test]
fn an_sms_key_needs_its_text() {
    let mut value = ivr();
    value["keys"]["2"] = json!({"action": "send_sms", "text": " "});
    assert_eq!(field_of(&value), "keys.2.text");
}

#[test]
fn a_field_of_another_action_is_refused_on_a_key() {
    let mut value = ivr();
    value["keys"]["9"]["to"] = json!("+34911222333");
    assert_eq!(field_of(&value), "keys.9.to");
    let mut value = ivr();
    value["keys"]["1"]["then"] = json!("menu");
    assert_eq!(field_of(&value), "keys.1.then");
}

#[test]
fn a_menu_has_one_unsubscribe_key_at_most() {
    let mut value = ivr();
    value["keys"]["0"] = json!({"action": "unsubscribe"});
    assert_eq!(field_of(&value), "keys.9");
}

#[test]
fn the_caller_id_is_an_e164_number() {
    assert_eq!(field_of(&with(ivr(), "/caller_id", json!("RECADO"))), "caller_id");
}

#[test]
fn the_country_is_an_iso_code_with_a_calling_code() {
    assert_eq!(field_of(&with(ivr(), "/country", json!("es"))), "country");
    assert_eq!(field_of(&with(ivr(), "/country", json!("XX"))), "country");
}

#[test]
fn silence_waits_between_one_and_sixty_seconds() {
    assert_eq!(
        field_of(&with(ivr(), "/no_input/timeout_s", json!(0))),
        "no_input.timeout_s"
    );
    assert_eq!(
        field_of(&with(ivr(), "/no_input/timeout_s", json!(61))),
        "no_input.timeout_s"
    );
}

#[test]
fn a_menu_plays_between_one_and_ten_times() {
    assert_eq!(field_of(&with(ivr(), "/max_menu_plays", json!(0))), "max_menu_plays");
    assert_eq!(field_of(&with(ivr(), "/max_menu_plays", json!(11))), "max_menu_plays");
    let mut value = ivr();
    value.as_object_mut().unwrap().remove("max_menu_plays");
    assert_eq!(IvrDefinition::parse(&value).unwrap().max_menu_plays, 3);
}

#[test]
fn retries_name_their_outcomes_attempts_and_delay() {
    assert_eq!(field_of(&with(ivr(), "/retry/on", json!([]))), "retry.on");
    assert_eq!(field_of(&with(ivr(), "/retry/on", json!(["rejected"]))), "retry");
    assert_eq!(
        field_of(&with(ivr(), "/retry/max_attempts", json!(0))),
        "retry.max_attempts"
    );
    assert_eq!(field_of(&with(ivr(), "/retry/delay_s", json!(5))), "retry.delay_s");
}

#[test]
fn a_call_window_names_each_day_once_and_ends_after_it_starts() {
    assert_eq!(
        field_of(&with(ivr(), "/call_window/days", json!([]))),
        "call_window.days"
    );
    assert_eq!(
        field_of(&with(ivr(), "/call_window/days", json!(["mon", "mon"]))),
        "call_window.days"
    );
    assert_eq!(
        field_of(&with(ivr(), "/call_window/from", json!("9h"))),
        "call_window.from"
    );
    assert_eq!(
        field_of(&with(ivr(), "/call_window/to", json!("08:00"))),
        "call_window.to"
    );
}

#[test]
fn a_play_key_returns_to_the_menu_and_an_sms_key_hangs_up_unless_told() {
    let parsed = IvrDefinition::parse(&ivr()).unwrap();
    let menu = parsed.menu();
    let key = |d| Key::digit(d).unwrap();
    assert_eq!(menu.action(key(3)), Some(KeyAction::Play { then: Then::Menu }));
    assert_eq!(menu.action(key(2)), Some(KeyAction::SendSms { then: Then::Hangup }));
    assert_eq!(menu.unsubscribe_key(), Some(key(9)));
    assert_eq!(menu.max_plays, 3);
}

#[test]
fn the_retries_asked_for_become_the_calls_settings() {
    let settings = IvrDefinition::parse(&ivr()).unwrap().call_settings();
    assert_eq!(settings.max_attempts, 3);
    assert_eq!(
        settings.retry_delays,
        vec![(Retryable::Busy, 600_000), (Retryable::NoAnswer, 600_000)]
    );
}

#[test]
fn a_spoken_narration_names_its_espeak_voice() {
    let female = json!({"kind": "tts", "language": "pt-BR", "voice": "female", "text": "Olá"});
    let narration: Narration = serde_json::from_value(female).unwrap();
    assert_eq!(narration.espeak_voice().as_deref(), Some("pt-br+f3"));
}
