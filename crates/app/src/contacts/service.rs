//! Contact rules at the edge of the store: property checks, phone
//! normalisation with the contact's own hints, matching for imports.

use crate::error::AppError;
use recado_core::clock::Clock;
use recado_core::ids::{new_id, IdKind};
use recado_store::contacts::{Contact, ContactWrite};
use recado_store::Store;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub use recado_core::properties::{merge, PropertyChanges};

/// Checks names and values of a `properties` object.
pub fn check_properties(input: &Map<String, Value>) -> Result<PropertyChanges, AppError> {
    recado_core::properties::check_properties(input).map_err(AppError::from)
}

/// The E.164 form of every phone property, read with the contact's
/// `mobile_prefix`, then `country`, then the workspace's default country.
pub fn phones_of(
    props: &BTreeMap<String, String>,
    default_country: Option<&str>,
) -> Result<BTreeMap<String, String>, AppError> {
    recado_core::properties::phones_of(props, default_country).map_err(AppError::from)
}

pub struct Contacts<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub workspace_id: &'a str,
    pub default_country: Option<&'a str>,
}

impl Contacts<'_> {
    pub async fn create(&self, changes: PropertyChanges) -> Result<Contact, AppError> {
        let props = merge(BTreeMap::new(), changes);
        let phones = phones_of(&props, self.default_country)?;
        let id = new_id(IdKind::Contact);
        let now = self.clock.now_ms();
        self.store
            .insert_contact(&ContactWrite {
                workspace_id: self.workspace_id,
                id: &id,
                properties: &props,
                phones: &phones,
                now,
            })
            .await?;
        Ok(Contact {
            id: id.into(),
            workspace_id: self.workspace_id.to_string(),
            properties: props,
            phones,
            created_at: now,
            updated_at: now,
        })
    }

    /// The contact with `e164` in any phone property, or a new one made of
    /// `changes` (which must give that number in a phone property). Creating
    /// and finding are one step in the store, so concurrent first messages
    /// from a new number meet one contact. Returns whether it was created.
    pub async fn find_or_create_by_phone(
        &self,
        e164: &str,
        changes: PropertyChanges,
    ) -> Result<(Contact, bool), AppError> {
        // Most numbers are known: a read answers without queueing for the
        // writer. Only an unknown number takes the locked find-or-insert.
        if let Some(found) = self.store.contact_by_phone(self.workspace_id, e164).await? {
            return Ok((found, false));
        }
        let props = merge(BTreeMap::new(), changes);
        let phones = phones_of(&props, self.default_country)?;
        let id = new_id(IdKind::Contact);
        let now = self.clock.now_ms();
        let write = ContactWrite {
            workspace_id: self.workspace_id,
            id: &id,
            properties: &props,
            phones: &phones,
            now,
        };
        let (found, created) = self.store.find_or_insert_contact_by_phone(&write, e164).await?;
        if created {
            return Ok((
                Contact {
                    id: id.into(),
                    workspace_id: self.workspace_id.to_string(),
                    properties: props,
                    phones,
                    created_at: now,
                    updated_at: now,
                },
                true,
            ));
        }
        Ok((self.get(&found).await?, false))
    }

    pub async fn update(&self, existing: Contact, changes: PropertyChanges) -> Result<Contact, AppError> {
        let props = merge(existing.properties, changes);
        let phones = phones_of(&props, self.default_country)?;
        let now = self.clock.now_ms();
        self.store
            .update_contact(&ContactWrite {
                workspace_id: self.workspace_id,
                id: &existing.id,
                properties: &props,
                phones: &phones,
                now,
            })
            .await
            .map_err(|e| match e {
                recado_store::StoreError::NotFound => AppError::not_found("contact"),
                other => other.into(),
            })?;
        // Runs of workflows with an exit condition re-check it at once, even
        // in the middle of a delay.
        self.store.wake_runs_awaiting(&existing.id, "EXIT", now).await?;
        Ok(Contact {
            id: existing.id,
            workspace_id: existing.workspace_id,
            properties: props,
            phones,
            created_at: existing.created_at,
            updated_at: now,
        })
    }

    pub async fn get(&self, id: &str) -> Result<Contact, AppError> {
        self.store.contact(self.workspace_id, id).await.map_err(|e| match e {
            recado_store::StoreError::NotFound => AppError::not_found("contact"),
            other => other.into(),
        })
    }

    /// The contact an import row or inbound message refers to: by e-mail first,
    /// then by any of its phone numbers.
    pub async fn find_match(
        &self,
        email: Option<&str>,
        phones: &BTreeMap<String, String>,
    ) -> Result<Option<Contact>, AppError> {
        if let Some(email) = email {
            if let Some(c) = self.store.contact_by_email(self.workspace_id, email).await? {
                return Ok(Some(c));
            }
        }
        for e164 in phones.values() {
            if let Some(c) = self.store.contact_by_phone(self.workspace_id, e164).await? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

/// Digit strings a phone-like search may end with: `+55 11 91234-5678`,
/// `11 91234-5678`, `0048 512…` and `07400 …` all find their E.164 number.
pub fn phone_search_suffixes(q: &str) -> Option<Vec<String>> {
    let phone_like = q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if !phone_like || digits.len() < 6 {
        return None;
    }
    let mut out = vec![digits.clone()];
    if let Some(rest) = digits.strip_prefix("00") {
        out.push(rest.to_string());
    } else if let Some(rest) = digits.strip_prefix('0') {
        out.push(rest.to_string());
    }
    Some(out)
}

/// The contact rules of a workspace.
pub fn contacts_for<'a>(state: &'a crate::AppState, ws: &'a recado_store::workspaces::Workspace) -> Contacts<'a> {
    Contacts {
        store: &state.store,
        clock: state.clock.as_ref(),
        workspace_id: &ws.id,
        default_country: ws.default_country.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn phone_properties_use_the_contacts_own_country() {
        let phones = phones_of(&props(&[("phone", "11 91234-5678"), ("country", "BR")]), None).unwrap();
        assert_eq!(phones["phone"], "+5511912345678");
    }

    #[test]
    fn mobile_prefix_applies_to_national_numbers() {
        let phones = phones_of(&props(&[("mobilephone", "612345678"), ("mobile_prefix", "+34")]), None).unwrap();
        assert_eq!(phones["mobilephone"], "+34612345678");
    }

    #[test]
    fn an_impossible_number_names_its_property() {
        let err = phones_of(&props(&[("whatsapp_phone", "12"), ("country", "BR")]), None).unwrap_err();
        assert_eq!(
            (err.code, err.field.as_deref()),
            ("invalid_phone", Some("whatsapp_phone"))
        );
    }

    #[test]
    fn property_names_and_values_are_checked() {
        let bad = json!({"First Name": "x"});
        assert_eq!(
            check_properties(bad.as_object().unwrap()).unwrap_err().code,
            "invalid_property"
        );
        let bad = json!({"tags": ["a"]});
        assert_eq!(
            check_properties(bad.as_object().unwrap()).unwrap_err().field.as_deref(),
            Some("tags")
        );
        let ok = json!({"firstname": "Ana", "lastname": null});
        let changes = check_properties(ok.as_object().unwrap()).unwrap();
        assert_eq!(changes["lastname"], None);
    }

    #[test]
    fn null_clears_a_property_on_merge() {
        let merged = merge(
            props(&[("firstname", "Ana"), ("city", "Rio")]),
            [("city".to_string(), None)].into_iter().collect(),
        );
        assert_eq!(merged, props(&[("firstname", "Ana")]));
    }

    #[test]
    fn phone_searches_accept_every_written_form() {
        assert_eq!(
            phone_search_suffixes("+55 (11) 91234-5678"),
            Some(vec!["5511912345678".to_string()])
        );
        assert_eq!(
            phone_search_suffixes("0048 512 345 678"),
            Some(vec!["0048512345678".to_string(), "48512345678".to_string()])
        );
        assert_eq!(phone_search_suffixes("ana"), None);
        assert_eq!(phone_search_suffixes("123"), None);
    }
}
