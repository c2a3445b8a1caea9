//! Workflow definitions as the API receives them.
//!
//! The first input byte says how the workspace answers the validator (which channels,
//! senders, templates and segments exist, and the template's shape); the rest is the JSON
//! definition.
//!
//! - `Definition::parse` never panics, on any JSON;
//! - a parsed definition serializes, and parsing that gives the same definition back
//!   (parse → serialize → parse);
//! - `validate` never panics, whatever the workspace answers, and gives the same answer twice.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use recado_core::consent::Channel;
use recado_flow::validate::{validate, References, TemplateShape};
use recado_flow::Definition;

/// A workspace that answers from one byte of the input.
struct Answers(u8);

impl Answers {
    fn yes(&self, bit: u8) -> Result<(), String> {
        if self.0 & (1 << bit) != 0 {
            Ok(())
        } else {
            Err(format!("refused (bit {bit})"))
        }
    }
}

impl References for Answers {
    fn channel(&self, channel: Channel, channel_id: Option<&str>) -> Result<(), String> {
        let bit = match (channel, channel_id) {
            (Channel::Sms, _) => 0,
            (_, None) => 1,
            _ => 2,
        };
        self.yes(bit)
    }
    fn sender(&self, _: Option<&str>, from: &str) -> Result<(), String> {
        self.yes(if from.is_empty() { 0 } else { 3 })
    }
    fn template(&self, _: Option<&str>, _: &str, _: &str) -> Result<Option<TemplateShape>, String> {
        self.yes(4)?;
        if self.0 & (1 << 5) == 0 {
            return Ok(None);
        }
        let body = usize::from(self.0 >> 6);
        let mut parameters = BTreeMap::from([("body".to_string(), body)]);
        if body % 2 == 1 {
            parameters.insert("header".to_string(), 1);
        }
        Ok(Some(TemplateShape { parameters }))
    }
    fn segment(&self, _: &str) -> Result<(), String> {
        self.yes(7)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&answers, json)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
        return;
    };
    let Ok(def) = Definition::parse(&value) else {
        return;
    };
    let serialized = serde_json::to_value(&def).expect("a definition serializes");
    let again = Definition::parse(&serialized).expect("a serialized definition parses");
    assert_eq!(again, def, "parse → serialize → parse");

    let refs = Answers(answers);
    let first = validate(&def, &refs);
    assert_eq!(validate(&again, &refs), first);
});
