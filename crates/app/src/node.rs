//! This process as a node of the hub: a name that survives restarts (kept
//! in the data directory), an instance id per run, and a lock on the data
//! directory so no two processes run as one node.
//!
//! The node's id is `{name}.{instance}`; worker names start with it, so
//! leases and idempotency keys say which process holds them. When a node
//! starts again after a crash, its earlier instances are counted as gone at
//! once ([`recado_store::Store::start_node`]): what they held goes back to
//! work within seconds instead of after their heartbeat ran out.

use recado_core::ids::{new_id, IdKind};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};

/// Where the node's name is kept, inside the data directory.
const NAME_FILE: &str = "node-name";
/// The file locked while a process runs as this node.
const LOCK_FILE: &str = "node.lock";

#[derive(Debug)]
pub struct Node {
    /// The node's name, the same on every run from this data directory.
    pub name: String,
    /// This run: `{name}.{instance}`.
    pub id: String,
    /// Held for the life of the process (released by the kernel if it dies).
    lock: File,
    /// When this node last returned expired leases to the queue.
    last_lease_sweep: AtomicI64,
}

impl Node {
    /// The node of `data_dir`, locked for this process. Fails when another
    /// running process holds the directory.
    pub fn claim(data_dir: &Path) -> anyhow::Result<Node> {
        std::fs::create_dir_all(data_dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(data_dir.join(LOCK_FILE))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => anyhow::bail!(
                "another recado process is running on the data directory {}: each node needs a directory of its own",
                data_dir.display()
            ),
            Err(TryLockError::Error(e)) => return Err(e.into()),
        }
        let name_path = data_dir.join(NAME_FILE);
        let name = match std::fs::read_to_string(&name_path) {
            Ok(name) if !name.trim().is_empty() => name.trim().to_string(),
            _ => {
                let name = new_id(IdKind::Node);
                std::fs::write(&name_path, format!("{name}\n"))?;
                name
            }
        };
        let instance = new_id(IdKind::Node);
        let instance = instance.trim_start_matches("node_");
        Ok(Node {
            id: format!("{name}.{instance}"),
            name,
            lock,
            last_lease_sweep: AtomicI64::new(i64::MIN),
        })
    }
}

impl Node {
    /// Whether this node's turn to return expired leases to the queue has
    /// come at `now` (at most once per `every_ms`, whichever worker asks
    /// first takes it). Every claim used to sweep: on PostgreSQL that one
    /// statement over all running jobs was the largest share of the
    /// database's time while calls were dialled, and a lease that ran out a
    /// moment before it is swept waits no longer than `every_ms`.
    pub fn lease_sweep_due(&self, now: i64, every_ms: i64) -> bool {
        let last = self.last_lease_sweep.load(Ordering::Acquire);
        // A clock set back (tests drive one) sweeps at once.
        let due = now < last || now.saturating_sub(last) >= every_ms;
        due && self
            .last_lease_sweep
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Lets another process run as this node (after a graceful stop, while
    /// this process may still be winding down).
    pub fn release(&self) {
        let _ = self.lock.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_keeps_its_name_across_runs_with_a_new_instance_each_time() {
        let dir = std::env::temp_dir().join(new_id(IdKind::Node));
        let first = Node::claim(&dir).unwrap();
        let (name, id) = (first.name.clone(), first.id.clone());
        drop(first);
        let second = Node::claim(&dir).unwrap();
        assert_eq!(second.name, name);
        assert_ne!(second.id, id);
        assert!(second.id.starts_with(&format!("{name}.")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn expired_leases_are_swept_once_per_interval_by_one_worker() {
        let dir = std::env::temp_dir().join(new_id(IdKind::Node));
        let node = Node::claim(&dir).unwrap();
        assert!(node.lease_sweep_due(10_000, 1_000), "the first claim sweeps");
        assert!(!node.lease_sweep_due(10_000, 1_000), "the same instant: already swept");
        assert!(!node.lease_sweep_due(10_999, 1_000));
        assert!(node.lease_sweep_due(11_000, 1_000));
        assert!(node.lease_sweep_due(5_000, 1_000), "a clock set back sweeps at once");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn two_processes_cannot_run_as_one_node() {
        let dir = std::env::temp_dir().join(new_id(IdKind::Node));
        let _running = Node::claim(&dir).unwrap();
        let err = Node::claim(&dir).unwrap_err().to_string();
        assert!(err.contains("another recado process"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
