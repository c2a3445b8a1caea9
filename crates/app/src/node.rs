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
        })
    }
}

impl Node {
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
    fn two_processes_cannot_run_as_one_node() {
        let dir = std::env::temp_dir().join(new_id(IdKind::Node));
        let _running = Node::claim(&dir).unwrap();
        let err = Node::claim(&dir).unwrap_err().to_string();
        assert!(err.contains("another recado process"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
