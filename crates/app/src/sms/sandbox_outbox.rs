//! The SMS sandbox's side of each send: one JSON line per submission,
//! appended to `{data_dir}/sandbox/sms.jsonl` before the hub records the send
//! as sent — what a real provider would have received even if the hub dies
//! the next instant. Developers read it like a mail catcher; crash tests count
//! it to prove that no send reached the "provider" twice.

use recado_store::messages::MessageRecord;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the sandbox writes its submissions under the hub's data directory.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox").join("sms.jsonl")
}

/// Appends one submission. The line goes out in a single `write` on a file
/// opened for appending, so concurrent workers never interleave lines and a
/// killed process leaves only whole lines behind.
pub fn record(data_dir: &Path, message: &MessageRecord, at_ms: i64) -> std::io::Result<()> {
    let file = path(data_dir);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::json!({
        "at_ms": at_ms,
        "channel_id": message.channel_id,
        "message_id": message.id.as_str(),
        "from": message.sender,
        "to": message.recipient,
        "text": message.text,
    })
    .to_string();
    line.push('\n');
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(file)?;
    out.write_all(line.as_bytes())
}
