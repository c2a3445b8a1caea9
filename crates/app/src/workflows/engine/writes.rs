//! What a batch of runs writes besides each run's own row, many rows per
//! statement at the end of the batch.

use super::*;

/// What a batch writes besides each run's own row: queued sends, send
/// records and log lines, many rows per statement at the end of the batch.
#[derive(Default)]
pub(super) struct BatchWrites {
    /// Each run's state to write back, all in a few statements.
    pub(super) runs: Vec<OwnedRunUpdate>,
    pub(super) outbound: Vec<OutboundRow>,
    pub(super) sends: Vec<SendRecord>,
    pub(super) lines: Vec<RunLog>,
    /// Sends written one by one (refusals, WhatsApp conversations).
    pub(super) written: Vec<Written>,
}

pub(super) struct SendRecord {
    pub(super) key: String,
    pub(super) workspace_id: String,
    pub(super) workflow_id: String,
    pub(super) version: i64,
    pub(super) run_id: String,
    pub(super) node_id: String,
    pub(super) message_id: String,
}

pub(super) struct RunLog {
    pub(super) run_id: String,
    pub(super) workspace_id: String,
    pub(super) workflow_id: String,
    pub(super) version: i64,
    pub(super) contact_id: String,
    pub(super) line: OwnedLog,
}

pub(super) struct OwnedRunUpdate {
    pub(super) id: String,
    pub(super) status: RunStatus,
    pub(super) node_id: String,
    pub(super) wake_at: Option<i64>,
    pub(super) awaits: Option<String>,
    pub(super) state: String,
    pub(super) ended_at: Option<i64>,
    pub(super) end_reason: Option<String>,
}

impl BatchWrites {
    /// Writes back every run of the batch. A run whose lease another worker
    /// took over is not written, and the whole batch is rolled back.
    pub(super) async fn write_runs(&mut self, tx: &mut WriteTx, owner: &str, now: i64) -> AppResult<()> {
        let updates: Vec<RunUpdate> = self
            .runs
            .iter()
            .map(|u| RunUpdate {
                id: &u.id,
                owner,
                status: u.status,
                node_id: &u.node_id,
                wake_at: u.wake_at,
                awaits: u.awaits.clone(),
                state: &u.state,
                ended_at: u.ended_at,
                end_reason: u.end_reason.as_deref(),
                now,
            })
            .collect();
        let written = tx.update_runs(owner, &updates).await?;
        if written != updates.len() as u64 {
            return Err(AppError::internal(format!(
                "{} of {} runs were taken over by another worker; the batch is rolled back",
                updates.len() as u64 - written,
                updates.len()
            )));
        }
        Ok(())
    }

    pub(super) async fn write(&mut self, tx: &mut WriteTx, now: i64) -> AppResult<()> {
        tx.queue_outbound_many(&mut self.outbound, now).await?;
        let sends: Vec<WorkflowSend> = self
            .sends
            .iter()
            .map(|s| WorkflowSend {
                idempotency_key: &s.key,
                workspace_id: &s.workspace_id,
                workflow_id: &s.workflow_id,
                version: s.version,
                run_id: &s.run_id,
                node_id: &s.node_id,
                message_id: &s.message_id,
                at: now,
            })
            .collect();
        tx.record_workflow_sends(&sends).await?;
        let logs: Vec<StepLog> = self
            .lines
            .iter()
            .map(|l| StepLog {
                run_id: &l.run_id,
                step: l.line.step,
                workspace_id: &l.workspace_id,
                workflow_id: &l.workflow_id,
                version: l.version,
                contact_id: &l.contact_id,
                node_id: &l.line.node,
                action_type: &l.line.action_type,
                outcome: l.line.outcome,
                reason: l.line.reason.as_deref(),
                message_id: l.line.message_id.as_deref(),
                at: now,
            })
            .collect();
        tx.log_steps(&logs).await?;
        Ok(())
    }
}

#[derive(Clone)]
pub(super) struct OwnedLog {
    pub(super) step: i64,
    pub(super) node: String,
    pub(super) action_type: String,
    pub(super) outcome: Outcome,
    pub(super) reason: Option<String>,
    pub(super) message_id: Option<String>,
}
