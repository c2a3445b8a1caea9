//! Prefixed, time-sortable identifiers (`ct_01J…`).
//!
//! A ULID sorts by creation time, so lists ordered by id are ordered by age
//! without an extra index; the prefix tells a reader what kind of record an id
//! names and stops one kind being passed where another is expected.

use std::sync::Mutex;
use ulid::{Generator, Ulid};

/// The kinds of records that get ids, with their prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    Workspace,
    User,
    Token,
    Contact,
    Message,
    Thread,
    Ticket,
    Channel,
    Job,
    Event,
    Node,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Workspace => "ws",
            IdKind::User => "usr",
            IdKind::Token => "tok",
            IdKind::Contact => "ct",
            IdKind::Message => "msg",
            IdKind::Thread => "thr",
            IdKind::Ticket => "tkt",
            IdKind::Channel => "ch",
            IdKind::Job => "job",
            IdKind::Event => "evt",
            IdKind::Node => "node",
        }
    }
}

/// A new id of the given kind, e.g. `ct_01jd3k…` (lower case, 26 ULID characters).
pub fn new_id(kind: IdKind) -> String {
    format!("{}_{}", kind.prefix(), next_ulid().to_string().to_ascii_lowercase())
}

/// ULIDs made in the same millisecond are ordered too (the generator bumps
/// the random part), so ids made one after another always sort in order.
fn next_ulid() -> Ulid {
    static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);
    let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
    let generator = guard.get_or_insert_with(Generator::new);
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

/// Whether `id` looks like an id of `kind` (prefix and ULID body). Used to answer
/// 404 early for ids that cannot exist.
pub fn is_id_of(kind: IdKind, id: &str) -> bool {
    match id.strip_prefix(kind.prefix()).and_then(|r| r.strip_prefix('_')) {
        Some(body) => body.len() == 26 && Ulid::from_string(&body.to_ascii_uppercase()).is_ok(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_kind_prefix_and_validate() {
        let id = new_id(IdKind::Contact);
        assert!(id.starts_with("ct_"));
        assert!(is_id_of(IdKind::Contact, &id));
        assert!(!is_id_of(IdKind::Message, &id));
        assert!(!is_id_of(IdKind::Contact, "ct_nothing"));
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let ids: Vec<String> = (0..1000).map(|_| new_id(IdKind::Contact)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "ids made within one millisecond keep their order");
    }
}
