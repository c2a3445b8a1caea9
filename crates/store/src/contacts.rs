//! Contacts and their phone index.

use crate::{on_reader, on_writer, Result, Store, StoreError};
use recado_core::ids::ContactId;
use std::collections::BTreeMap;

/// A contact as stored: properties as given by users (trimmed strings) and the
/// E.164 form of each phone property.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub id: ContactId,
    pub workspace_id: String,
    pub properties: BTreeMap<String, String>,
    pub phones: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the service layer hands over for a write: everything already checked.
#[derive(Clone, Debug)]
pub struct ContactWrite<'a> {
    pub workspace_id: &'a str,
    pub id: &'a str,
    pub properties: &'a BTreeMap<String, String>,
    pub phones: &'a BTreeMap<String, String>,
    pub now: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    id: String,
    workspace_id: String,
    properties: String,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct PhoneRow {
    contact_id: String,
    property: String,
    e164: String,
}

/// How a contact list is narrowed.
#[derive(Clone, Debug, Default)]
pub struct ContactQuery {
    /// Lower-case text matched against names, e-mail and other property values.
    pub text: Option<String>,
    /// Digit strings matched against the end of every phone property's E.164
    /// form, so any written form of a number finds it.
    pub phone_suffixes: Vec<String>,
    /// Return contacts whose id sorts before this one (newest first).
    pub before_id: Option<String>,
    pub limit: i64,
}

/// The text that contact search matches: every property value, lower case.
pub(crate) fn search_text(properties: &BTreeMap<String, String>, phones: &BTreeMap<String, String>) -> String {
    let mut text = String::new();
    for value in properties.values().chain(phones.values()) {
        text.push_str(&value.to_lowercase());
        text.push('\n');
    }
    text
}

pub(crate) const CONTACT_COLUMNS: &str = "id, workspace_id, properties, created_at, updated_at";

/// Inserts a contact row, its phone index and its property values inside an
/// open transaction.
macro_rules! insert_contact_rows {
    ($tx:expr, $c:expr, $props:expr, $search:expr) => {{
        let c: &ContactWrite<'_> = $c;
        sqlx::query(
            "INSERT INTO contacts (id, workspace_id, properties, search_text, email, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(c.id)
        .bind(c.workspace_id)
        .bind($props)
        .bind($search)
        .bind(c.properties.get("email"))
        .bind(c.now)
        .execute(&mut **$tx)
        .await?;
        for (property, e164) in c.phones {
            sqlx::query(
                "INSERT INTO contact_phones (workspace_id, contact_id, property, e164) VALUES ($1, $2, $3, $4)",
            )
            .bind(c.workspace_id)
            .bind(c.id)
            .bind(property)
            .bind(e164)
            .execute(&mut **$tx)
            .await?;
        }
        insert_property_values!(&mut **$tx, c.workspace_id, c.id, c.properties);
        // Segment triggers learn of the new contact (no timeline entry).
        let event_id = recado_core::ids::new_id(recado_core::ids::IdKind::Event);
        $crate::workflows::queue_event_triggers!(
            &mut **$tx,
            c.workspace_id,
            c.id,
            "CONTACT_CREATED",
            c.now,
            &event_id,
            None
        )?;
    }};
}

impl Store {
    pub async fn insert_contact(&self, c: &ContactWrite<'_>) -> Result<()> {
        let props = serde_json::to_string(c.properties).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let search = search_text(c.properties, c.phones);
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            insert_contact_rows!(&mut tx, c, &props, &search);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Finds the contact that has `e164` in a phone property, or inserts `c`
    /// when none has: the look-up and the insert happen in one write
    /// transaction (serialised per number on PostgreSQL by an advisory lock,
    /// by the single writer on SQLite), so concurrent first messages from a new
    /// number meet one contact. Returns the contact's id and whether it is new.
    pub async fn find_or_insert_contact_by_phone(&self, c: &ContactWrite<'_>, e164: &str) -> Result<(String, bool)> {
        let props = serde_json::to_string(c.properties).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let search = search_text(c.properties, c.phones);
        let lock = self.dialect().advisory_xact_lock();
        let key = format!("contact-phone:{}:{e164}", c.workspace_id);
        let find = "SELECT c.id FROM contacts c WHERE c.workspace_id = $1 AND c.erased_at IS NULL AND c.id IN \
             (SELECT contact_id FROM contact_phones WHERE workspace_id = $1 AND e164 = $2) \
             ORDER BY c.updated_at DESC, c.id DESC LIMIT 1";
        Ok(on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(lock) = lock {
                sqlx::query(lock).bind(&key).execute(&mut *tx).await?;
            }
            let existing: Option<String> = sqlx::query_scalar(find)
                .bind(c.workspace_id)
                .bind(e164)
                .fetch_optional(&mut *tx)
                .await?;
            match existing {
                Some(id) => {
                    tx.commit().await?;
                    (id, false)
                }
                None => {
                    insert_contact_rows!(&mut tx, c, &props, &search);
                    tx.commit().await?;
                    (c.id.to_string(), true)
                }
            }
        }))
    }

    /// Replaces a contact's properties, phone index and property values.
    pub async fn update_contact(&self, c: &ContactWrite<'_>) -> Result<()> {
        let props = serde_json::to_string(c.properties).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let search = search_text(c.properties, c.phones);
        let email = c.properties.get("email");
        let updated = on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let before: Option<String> = sqlx::query_scalar(
                "SELECT properties FROM contacts WHERE workspace_id = $1 AND id = $2 AND erased_at IS NULL",
            )
            .bind(c.workspace_id)
            .bind(c.id)
            .fetch_optional(&mut *tx)
            .await?;
            let n = sqlx::query(
                "UPDATE contacts SET properties = $1, search_text = $2, email = $3, updated_at = $4 \
                 WHERE workspace_id = $5 AND id = $6 AND erased_at IS NULL",
            )
            .bind(&props)
            .bind(&search)
            .bind(email)
            .bind(c.now)
            .bind(c.workspace_id)
            .bind(c.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query("DELETE FROM contact_phones WHERE contact_id = $1")
                    .bind(c.id)
                    .execute(&mut *tx)
                    .await?;
                for (property, e164) in c.phones {
                    sqlx::query(
                        "INSERT INTO contact_phones (workspace_id, contact_id, property, e164) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(c.workspace_id)
                    .bind(c.id)
                    .bind(property)
                    .bind(e164)
                    .execute(&mut *tx)
                    .await?;
                }
                clear_property_values!(&mut *tx, c.id);
                insert_property_values!(&mut *tx, c.workspace_id, c.id, c.properties);
                let changed = changed_properties(before.as_deref(), c.properties);
                if !changed.is_empty() {
                    let event_id = recado_core::ids::new_id(recado_core::ids::IdKind::Event);
                    sqlx::query(
                        "INSERT INTO timeline_events (id, workspace_id, contact_id, type, at, message_id, campaign, sender, details) \
                         VALUES ($1, $2, $3, 'PROPERTY_CHANGED', $4, NULL, NULL, NULL, $5)",
                    )
                    .bind(&event_id)
                    .bind(c.workspace_id)
                    .bind(c.id)
                    .bind(c.now)
                    .bind(serde_json::json!({ "properties": changed }).to_string())
                    .execute(&mut *tx)
                    .await?;
                    crate::workflows::on_timeline_event!(
                        &mut *tx,
                        c.workspace_id,
                        c.id,
                        "PROPERTY_CHANGED",
                        c.now,
                        &event_id,
                        None
                    )?;
                }
            }
            tx.commit().await?;
            n
        });
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn contact(&self, workspace_id: &str, id: &str) -> Result<Contact> {
        let sql =
            format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = $1 AND id = $2 AND erased_at IS NULL");
        let row = on_reader!(self, |pool| sqlx::query_as::<_, ContactRow>(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)?;
        let mut found = self.attach_phones(vec![row]).await?;
        found.pop().ok_or(StoreError::NotFound)
    }

    /// The live contacts among `ids` (erased and unknown ones are absent),
    /// in a few statements whatever their number: engines that work on
    /// batches read their contacts at once.
    pub async fn contacts_by_ids(&self, workspace_id: &str, ids: &[&str]) -> Result<Vec<Contact>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let placeholders = (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = $1 AND id IN ({placeholders}) AND erased_at IS NULL"
            );
            let rows = on_reader!(self, |pool| {
                let mut query = sqlx::query_as::<_, ContactRow>(&sql).bind(workspace_id);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await?
            });
            out.extend(self.attach_phones(rows).await?);
        }
        Ok(out)
    }

    /// Newest first; filtered by text and/or phone.
    pub async fn list_contacts(&self, workspace_id: &str, q: &ContactQuery) -> Result<Vec<Contact>> {
        // One statement with optional filters: `$n IS NULL OR …` keeps the SQL
        // identical for both backends.
        let phone_filter = if q.phone_suffixes.is_empty() {
            String::new()
        } else {
            let alternatives: Vec<String> = (0..q.phone_suffixes.len())
                .map(|i| format!("p.e164 LIKE '%' || ${} ESCAPE '\\'", i + 5))
                .collect();
            format!(
                "AND EXISTS (SELECT 1 FROM contact_phones p WHERE p.contact_id = c.id AND p.workspace_id = $1 AND ({}))",
                alternatives.join(" OR ")
            )
        };
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE workspace_id = $1 AND erased_at IS NULL \
             AND ($2 IS NULL OR id < $2) \
             AND ($3 IS NULL OR search_text LIKE '%' || $3 || '%' ESCAPE '\\') \
             {phone_filter} ORDER BY id DESC LIMIT $4"
        );
        let text = q.text.as_ref().map(|t| escape_like(&t.to_lowercase()));
        let rows = on_reader!(self, |pool| {
            let mut query = sqlx::query_as::<_, ContactRow>(&sql)
                .bind(workspace_id)
                .bind(&q.before_id)
                .bind(&text)
                .bind(q.limit);
            for suffix in &q.phone_suffixes {
                query = query.bind(escape_like(suffix));
            }
            query.fetch_all(pool).await?
        });
        self.attach_phones(rows).await
    }

    /// The most recently updated contact with this number in any phone property.
    pub async fn contact_by_phone(&self, workspace_id: &str, e164: &str) -> Result<Option<Contact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c WHERE workspace_id = $1 AND erased_at IS NULL AND id IN \
             (SELECT contact_id FROM contact_phones WHERE workspace_id = $1 AND e164 = $2) ORDER BY updated_at DESC, id DESC LIMIT 1"
        );
        let row = on_reader!(self, |pool| sqlx::query_as::<_, ContactRow>(&sql)
            .bind(workspace_id)
            .bind(e164)
            .fetch_optional(pool)
            .await?);
        Ok(self.attach_phones(row.into_iter().collect()).await?.pop())
    }

    /// [`Store::contact_by_phone`] for many numbers at once: for each
    /// number, the most recently updated contact with it (numbers no contact
    /// has are absent). The numbers are looked up in the phone index first
    /// and the contacts then by id: a join lets PostgreSQL pick a scan of
    /// every contact while its statistics still describe an empty table.
    pub async fn contacts_by_phones(&self, workspace_id: &str, numbers: &[&str]) -> Result<Vec<(String, Contact)>> {
        let mut owners: Vec<(String, String)> = Vec::new();
        for chunk in numbers.chunks(500) {
            let placeholders = (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT e164, contact_id FROM contact_phones WHERE workspace_id = $1 AND e164 IN ({placeholders})"
            );
            let rows: Vec<(String, String)> = on_reader!(self, |pool| {
                let mut q = sqlx::query_as(&sql).bind(workspace_id);
                for n in chunk {
                    q = q.bind(*n);
                }
                q.fetch_all(pool).await?
            });
            owners.extend(rows);
        }
        let mut ids: Vec<&str> = owners.iter().map(|(_, id)| id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let contacts: std::collections::HashMap<String, Contact> = self
            .contacts_by_ids(workspace_id, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id.to_string(), c))
            .collect();
        let mut chosen: std::collections::HashMap<String, &Contact> = std::collections::HashMap::new();
        for (number, id) in &owners {
            let Some(contact) = contacts.get(id) else {
                continue;
            };
            let newer = match chosen.get(number) {
                Some(c) => (contact.updated_at, contact.id.as_str()) > (c.updated_at, c.id.as_str()),
                None => true,
            };
            if newer {
                chosen.insert(number.clone(), contact);
            }
        }
        Ok(chosen.into_iter().map(|(n, c)| (n, c.clone())).collect())
    }

    pub async fn contact_by_email(&self, workspace_id: &str, email: &str) -> Result<Option<Contact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = $1 AND email = $2 AND erased_at IS NULL ORDER BY id LIMIT 1"
        );
        let row = on_reader!(self, |pool| sqlx::query_as::<_, ContactRow>(&sql)
            .bind(workspace_id)
            .bind(email)
            .fetch_optional(pool)
            .await?);
        Ok(self.attach_phones(row.into_iter().collect()).await?.pop())
    }

    /// Erases a contact's personal data: properties (and their indexed
    /// values), phone numbers, consent history and timeline details go; the
    /// row stays as an anonymous tombstone so counts that refer to it remain
    /// right.
    pub async fn erase_contact(&self, workspace_id: &str, id: &str, now: i64) -> Result<()> {
        let erased = on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE contacts SET properties = '{}', search_text = '', email = NULL, updated_at = $1, erased_at = $1 \
                 WHERE workspace_id = $2 AND id = $3 AND erased_at IS NULL",
            )
            .bind(now)
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            for sql in [
                "DELETE FROM contact_phones WHERE workspace_id = $1 AND contact_id = $2",
                "DELETE FROM contact_property_values WHERE workspace_id = $1 AND contact_id = $2",
                "DELETE FROM subscription_history WHERE workspace_id = $1 AND contact_id = $2",
                "DELETE FROM subscriptions WHERE workspace_id = $1 AND contact_id = $2",
                "UPDATE timeline_events SET details = '{}', sender = NULL WHERE workspace_id = $1 AND contact_id = $2",
                // What ended calls played (narrations with the contact's
                // tokens filled); a call still running keeps its row to end.
                "DELETE FROM calls WHERE workspace_id = $1 AND contact_id = $2 AND phase = 'ended'",
            ] {
                sqlx::query(sql).bind(workspace_id).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n
        });
        if erased == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub(crate) async fn attach_phones(&self, rows: Vec<ContactRow>) -> Result<Vec<Contact>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let placeholders = (1..=ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT contact_id, property, e164 FROM contact_phones WHERE contact_id IN ({placeholders})");
        let phones = on_reader!(self, |pool| {
            let mut query = sqlx::query_as::<_, PhoneRow>(&sql);
            for id in &ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await?
        });
        let mut by_contact: std::collections::HashMap<&str, Vec<&PhoneRow>> = std::collections::HashMap::new();
        for p in &phones {
            by_contact.entry(p.contact_id.as_str()).or_default().push(p);
        }
        rows.into_iter()
            .map(|r| {
                let properties: BTreeMap<String, String> = serde_json::from_str(&r.properties)
                    .map_err(|e| StoreError::Corrupt(format!("contact {}: {e}", r.id)))?;
                let phones = by_contact
                    .remove(r.id.as_str())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| (p.property.clone(), p.e164.clone()))
                    .collect();
                Ok(Contact {
                    id: r.id.into(),
                    workspace_id: r.workspace_id,
                    properties,
                    phones,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                })
            })
            .collect()
    }
}

/// The names of the properties an update sets, changes or removes.
fn changed_properties(before: Option<&str>, after: &BTreeMap<String, String>) -> Vec<String> {
    let before: BTreeMap<String, String> = before.and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
    let mut names: Vec<String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    names.extend(before.keys().filter(|k| !after.contains_key(*k)).cloned());
    names.sort();
    names
}

/// LIKE treats `%` and `_` as wildcards; search text is literal.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
