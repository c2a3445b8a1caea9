//! `recado serve --demo`: a few contacts with consent in an empty workspace so
//! a newcomer can try the hub offline at once.

use crate::app::AppState;
use crate::bootstrap::DEFAULT_WORKSPACE;
use crate::consent::service::change;
use crate::contacts::service::{check_properties, Contacts};
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, LegalBasis, SubscriptionStatus};
use recado_store::contacts::ContactQuery;

const DEMO_CONTACTS: &[(&str, &str, &str, &str)] = &[
    ("Ana", "Souza", "BR", "+55 11 91234-5678"),
    ("Lucía", "García", "ES", "+34 612 345 678"),
    ("João", "Silva", "PT", "+351 912 345 678"),
    ("Zofia", "Nowak", "PL", "+48 512 345 678"),
    ("Carlos", "Pereira", "BR", "+55 21 98765-4321"),
];

/// Adds the demo contacts when the default workspace has none.
pub async fn fill_if_empty(state: &AppState) -> anyhow::Result<()> {
    let Some(ws) = state.store.workspace_by_name(DEFAULT_WORKSPACE).await? else {
        return Ok(());
    };
    if !state
        .store
        .list_contacts(
            &ws.id,
            &ContactQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let contacts = Contacts {
        store: &state.store,
        clock: state.clock.as_ref(),
        workspace_id: &ws.id,
        default_country: ws.default_country.as_deref(),
    };
    for (i, (first, last, country, phone)) in DEMO_CONTACTS.iter().enumerate() {
        let props = serde_json::json!({
            "firstname": first, "lastname": last, "country": country,
            "mobilephone": phone, "whatsapp_phone": phone,
            "email": format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()),
        });
        let changes = check_properties(props.as_object().expect("object")).map_err(|e| anyhow::anyhow!(e.message))?;
        let contact = contacts.create(changes).await.map_err(|e| anyhow::anyhow!(e.message))?;
        // The last contact has opted out, so refusals can be tried too.
        let status = if i == DEMO_CONTACTS.len() - 1 {
            SubscriptionStatus::Unsubscribed
        } else {
            SubscriptionStatus::Subscribed
        };
        for channel in Channel::ALL {
            let request = ChangeRequest {
                channel,
                status,
                legal_basis: Some(LegalBasis::Consent),
                explanation: Some("demo data".into()),
                source: ConsentSource::Manual,
            };
            change(&state.store, &contact, &request, "system", state.clock.now_ms())
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
        }
    }
    println!("demo data added: {} contacts with consent", DEMO_CONTACTS.len());
    Ok(())
}
