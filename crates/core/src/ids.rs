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
    Segment,
    Workflow,
    Run,
    Campaign,
    Broadcast,
    WebhookEndpoint,
    WebhookDelivery,
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
            IdKind::Segment => "sg",
            IdKind::Workflow => "wf",
            IdKind::Run => "run",
            IdKind::Campaign => "cmp",
            IdKind::Broadcast => "bc",
            IdKind::WebhookEndpoint => "whk",
            IdKind::WebhookDelivery => "dlv",
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

/// Declares a typed id: a `String` underneath (the stored TEXT), but a
/// `ContactId` cannot be passed where a `MessageId` is expected. It reads as
/// a `&str` wherever one is asked for, and is stored and serialised as its
/// text (with the `sqlx` feature, the store binds and reads it directly).
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
        #[cfg_attr(feature = "sqlx", sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            /// A new id of this kind.
            pub fn generate() -> Self {
                $name(new_id($kind))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == &other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }
    };
}

typed_id!(
    /// A contact (`ct_…`).
    ContactId,
    IdKind::Contact
);
typed_id!(
    /// A message, either direction (`msg_…`).
    MessageId,
    IdKind::Message
);
typed_id!(
    /// A conversation thread (`thr_…`).
    ThreadId,
    IdKind::Thread
);
