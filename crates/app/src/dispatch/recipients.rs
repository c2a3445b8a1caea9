//! Recipient lookups of concurrent sends, answered together: the contact
//! with each number and its subscriptions are read for everything asked
//! meanwhile in three statements, instead of three per send. A send names
//! its number and waits for its answer as if it had read alone.

use recado_store::consent::SubscriptionRecord;
use recado_store::contacts::Contact;
use recado_store::Store;
use std::collections::{BTreeMap, HashMap};
use tokio::sync::{mpsc, oneshot};

/// A known recipient: the contact and its subscriptions.
pub type Recipient = (Contact, Vec<SubscriptionRecord>);

struct Lookup {
    workspace_id: String,
    number: String,
    reply: oneshot::Sender<Result<Option<Recipient>, String>>,
}

/// Most lookups answered together.
const MAX_BATCH: usize = 500;

#[derive(Clone)]
pub struct Recipients {
    tx: mpsc::Sender<Lookup>,
}

impl Recipients {
    pub fn start(store: Store) -> Recipients {
        let (tx, mut rx) = mpsc::channel::<Lookup>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut batch: Vec<Lookup> = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(l) => batch.push(l),
                        Err(_) => break,
                    }
                }
                let mut by_workspace: BTreeMap<String, Vec<Lookup>> = BTreeMap::new();
                for lookup in batch.drain(..) {
                    by_workspace
                        .entry(lookup.workspace_id.clone())
                        .or_default()
                        .push(lookup);
                }
                for (workspace_id, lookups) in by_workspace {
                    let numbers: Vec<&str> = lookups.iter().map(|l| l.number.as_str()).collect();
                    match find(&store, &workspace_id, &numbers).await {
                        Ok(found) => {
                            for lookup in lookups {
                                let answer = found.get(&lookup.number).cloned();
                                let _ = lookup.reply.send(Ok(answer));
                            }
                        }
                        Err(e) => {
                            let message = e.to_string();
                            for lookup in lookups {
                                let _ = lookup.reply.send(Err(message.clone()));
                            }
                        }
                    }
                }
            }
        });
        Recipients { tx }
    }

    /// The contact with `number` (E.164) in the workspace, and its
    /// subscriptions; None when no contact has it.
    pub async fn find(&self, workspace_id: &str, number: &str) -> crate::AppResult<Option<Recipient>> {
        let (reply, answer) = oneshot::channel();
        let lookup = Lookup {
            workspace_id: workspace_id.to_string(),
            number: number.to_string(),
            reply,
        };
        self.tx
            .send(lookup)
            .await
            .map_err(|_| crate::AppError::internal("recipient lookups stopped"))?;
        answer
            .await
            .map_err(|_| crate::AppError::internal("recipient lookup dropped"))?
            .map_err(crate::AppError::internal)
    }
}

async fn find(
    store: &Store,
    workspace_id: &str,
    numbers: &[&str],
) -> Result<HashMap<String, Recipient>, recado_store::StoreError> {
    let contacts = store.contacts_by_phones(workspace_id, numbers).await?;
    let ids: Vec<&str> = contacts.iter().map(|(_, c)| c.id.as_str()).collect();
    let mut subscriptions: HashMap<String, Vec<SubscriptionRecord>> = HashMap::new();
    for (contact_id, record) in store.subscriptions_of_contacts(workspace_id, &ids).await? {
        subscriptions.entry(contact_id).or_default().push(record);
    }
    Ok(contacts
        .into_iter()
        .map(|(number, contact)| {
            let subs = subscriptions.get(contact.id.as_str()).cloned().unwrap_or_default();
            (number, (contact, subs))
        })
        .collect())
}
