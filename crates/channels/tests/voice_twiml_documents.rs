//! TwiML documents: the exact markup of each verb the hub writes, escaping, and reading them
//! back (with this crate's reader and with quick-xml itself).

use quick_xml::events::Event;
use quick_xml::Reader;
use recado_channels::voice::twiml::{Dial, DocumentError, Gather, Method, Prompt, Redirect, Response, Say, Verb};

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Every element name, attribute (`@name=value`) and text of `xml` as quick-xml reads it,
/// the pieces of one text (character data, entity and character references) joined; panics
/// when it is not well-formed.
fn read_with_quick_xml(xml: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut text = String::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        match &event {
            Event::Text(t) => text.push_str(&t.xml10_content().unwrap()),
            Event::GeneralRef(r) => match r.resolve_char_ref().unwrap() {
                Some(c) => text.push(c),
                None => {
                    let name = r.decode().unwrap();
                    text.push_str(quick_xml::escape::resolve_xml_entity(&name).expect("a predefined entity"));
                }
            },
            _ => {
                if !text.trim().is_empty() {
                    out.push(std::mem::take(&mut text));
                }
                text.clear();
            }
        }
        match event {
            Event::Start(e) | Event::Empty(e) => {
                out.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                for a in e.attributes() {
                    let a = a.expect("a well-formed attribute");
                    out.push(format!(
                        "@{}={}",
                        String::from_utf8_lossy(a.key.as_ref()),
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap()
                    ));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[test]
fn the_menu_gather_carries_the_hubs_attributes_around_its_prompt() {
    let document = Response::new().gather(
        Gather::one_key("https://hub.example.com/voice/key/vc_01?attempt=1&play=1", 5)
            .play("https://hub.example.com/media/tts/ab12.wav"),
    );
    assert_eq!(
        document.to_xml(),
        format!(
            "{DECL}<Response><Gather input=\"dtmf\" numDigits=\"1\" timeout=\"5\" finishOnKey=\"\" \
             actionOnEmptyResult=\"true\" action=\"https://hub.example.com/voice/key/vc_01?attempt=1&amp;play=1\" \
             method=\"POST\"><Play>https://hub.example.com/media/tts/ab12.wav</Play></Gather></Response>"
        )
    );
}

#[test]
fn text_and_attribute_values_are_escaped() {
    let document = Response::new().say(
        Say::new(r#"Tom & Jerry <b>"quoted"</b> it's"#)
            .language("pt-BR")
            .voice(r#"a"b<c>&d'e"#),
    );
    assert_eq!(
        document.to_xml(),
        format!(
            "{DECL}<Response><Say language=\"pt-BR\" voice=\"a&quot;b&lt;c&gt;&amp;d&apos;e\">\
             Tom &amp; Jerry &lt;b&gt;&quot;quoted&quot;&lt;/b&gt; it&apos;s</Say></Response>"
        )
    );
    assert_eq!(
        read_with_quick_xml(&document.to_xml()),
        [
            "Response",
            "Say",
            "@language=pt-BR",
            r#"@voice=a"b<c>&d'e"#,
            r#"Tom & Jerry <b>"quoted"</b> it's"#,
        ]
    );
}

#[test]
fn an_escaped_document_reads_back_to_the_same_texts() {
    let text = r#"Tom & Jerry <b>"quoted"</b> it's"#;
    let voice = "a\"b<c>&d'e\tf\ng";
    let document = Response::new().say(Say::new(text).voice(voice));
    let read = Response::parse(&document.to_xml()).expect("reads back");
    assert_eq!(read.verbs, vec![Verb::Say(Say::new(text).voice(voice))]);
}

#[test]
fn characters_xml_cannot_carry_are_dropped() {
    let document = Response::new().say(Say::new("a\u{0}b\u{7}c\u{1b}d\u{FFFE}e"));
    let xml = document.to_xml();
    assert!(xml.contains("<Say>abcde</Say>"), "{xml}");
    read_with_quick_xml(&xml);
}

#[test]
fn a_transfer_writes_dial_with_caller_id_action_and_timeout() {
    let document = Response::new()
        .play("https://hub.example.com/media/tts/transfer.wav")
        .dial(
            Dial::new("+34911222333")
                .caller_id("+34910000000")
                .action("https://hub.example.com/voice/dial/vc_01")
                .timeout(20),
        );
    assert_eq!(
        document.to_xml(),
        format!(
            "{DECL}<Response><Play>https://hub.example.com/media/tts/transfer.wav</Play>\
             <Dial callerId=\"+34910000000\" action=\"https://hub.example.com/voice/dial/vc_01\" method=\"POST\" \
             timeout=\"20\">+34911222333</Dial></Response>"
        )
    );
}

#[test]
fn redirect_pause_and_hangup_are_written_as_the_provider_reads_them() {
    let document = Response::new()
        .pause(2)
        .redirect("https://hub.example.com/voice/twiml/vc_01?play=2")
        .hangup();
    assert_eq!(
        document.to_xml(),
        format!(
            "{DECL}<Response><Pause length=\"2\"/><Redirect method=\"POST\">\
             https://hub.example.com/voice/twiml/vc_01?play=2</Redirect><Hangup/></Response>"
        )
    );
}

#[test]
fn an_empty_document_is_an_empty_response() {
    assert_eq!(Response::new().to_xml(), format!("{DECL}<Response/>"));
    assert_eq!(Response::parse(&Response::new().to_xml()), Ok(Response::new()));
}

#[test]
fn documents_round_trip_through_the_reader() {
    let documents = [
        Response::new().gather(
            Gather::one_key("https://hub.example.com/voice/key/vc_01?a=1&play=3", 7)
                .play("https://hub.example.com/media/tts/menu.wav")
                .say(Say::new("Olá, tecle 1 ou 2 — obrigado").language("pt-BR"))
                .pause(1),
        ),
        Response::new()
            .play("https://cdn.example.com/a b/øre.mp3?x=1&y=2")
            .say(Say::new("Ainda está aí?"))
            .redirect("https://hub.example.com/voice/twiml/vc_01?play=2"),
        Response::new()
            .dial(Dial::new("+34911222333").caller_id("+34910000000").timeout(30))
            .hangup(),
        Response::new().pause(3).hangup(),
    ];
    for document in documents {
        let xml = document.to_xml();
        read_with_quick_xml(&xml);
        assert_eq!(Response::parse(&xml).as_ref(), Ok(&document), "{xml}");
    }
}

#[test]
fn a_hand_written_document_with_indentation_and_a_number_element_reads() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- a transfer -->
<Response>
    <Say voice="alice" language="es-ES">
        Le transferimos
    </Say>
    <Dial action="/voice/dial/vc_01" method="GET" timeout="15">
        <Number>+34911222333</Number>
    </Dial>
    <Gather numDigits="1"><Play>https://x.example/m.wav</Play></Gather>
    <Hangup/>
</Response>"#;
    let document = Response::parse(xml).expect("reads");
    assert_eq!(
        document.verbs,
        vec![
            Verb::Say(Say::new("Le transferimos").language("es-ES").voice("alice")),
            Verb::Dial(Dial {
                number: "+34911222333".into(),
                caller_id: None,
                action: Some("/voice/dial/vc_01".into()),
                method: Some(Method::Get),
                timeout_s: Some(15),
            }),
            Verb::Gather(Gather {
                input: "dtmf".into(),
                num_digits: Some(1),
                timeout_s: None,
                finish_on_key: None,
                action_on_empty_result: None,
                action: None,
                method: None,
                prompts: vec![Prompt::Play {
                    url: "https://x.example/m.wav".into()
                }],
            }),
            Verb::Hangup,
        ]
    );
}

#[test]
fn reading_refuses_what_the_hub_never_writes() {
    let cases = [
        ("<Reponse><Hangup/></Reponse>", DocumentError::Root("Reponse".into())),
        (
            "<Response><Record/></Response>",
            DocumentError::UnknownVerb("Record".into()),
        ),
        (
            "<Response><Gather numDigit=\"1\"/></Response>",
            DocumentError::UnknownAttribute {
                verb: "Gather".into(),
                attribute: "numDigit".into(),
            },
        ),
        (
            "<Response><Gather><Dial>+1555</Dial></Gather></Response>",
            DocumentError::Nesting {
                verb: "Dial".into(),
                parent: "Gather".into(),
            },
        ),
        (
            "<Response><Gather timeout=\"soon\"/></Response>",
            DocumentError::BadValue {
                verb: "Gather".into(),
                attribute: "timeout".into(),
                value: "soon".into(),
            },
        ),
        (
            "<Response><Play> </Play></Response>",
            DocumentError::Empty("Play".into()),
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(Response::parse(xml), Err(expected), "{xml}");
    }
    for broken in [
        "<Response><Play>x</Response>",
        "<Response>",
        "",
        "<Response/><Response/>",
    ] {
        assert!(
            matches!(Response::parse(broken), Err(DocumentError::Xml(_))),
            "{broken}: {:?}",
            Response::parse(broken)
        );
    }
}

#[test]
fn a_redirect_by_get_keeps_its_method() {
    let document = Response {
        verbs: vec![Verb::Redirect(Redirect {
            url: "https://hub.example.com/x".into(),
            method: Some(Method::Get),
        })],
    };
    assert!(document.to_xml().contains(r#"<Redirect method="GET">"#));
    assert_eq!(Response::parse(&document.to_xml()), Ok(document));
}
