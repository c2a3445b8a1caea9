//! Contacts: properties, E.164 phone numbers, search, CSV import, erasure.

pub mod import;
pub mod routes;

pub use routes::routes;

use recado_store::contacts::Contact;
use serde::Serialize;
use std::collections::BTreeMap;

/// The E.164 form of each phone property (`null` when unset).
#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct PhonesView {
    pub phone: Option<String>,
    pub mobilephone: Option<String>,
    pub whatsapp_phone: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct ContactView {
    pub id: String,
    pub properties: BTreeMap<String, String>,
    pub phones: PhonesView,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Contact> for ContactView {
    fn from(c: Contact) -> Self {
        let mut phones = c.phones;
        ContactView {
            phones: PhonesView {
                phone: phones.remove("phone"),
                mobilephone: phones.remove("mobilephone"),
                whatsapp_phone: phones.remove("whatsapp_phone"),
            },
            id: c.id.into(),
            properties: c.properties,
            created_at: recado_core::clock::to_rfc3339(c.created_at),
            updated_at: recado_core::clock::to_rfc3339(c.updated_at),
        }
    }
}
