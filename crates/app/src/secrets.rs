//! Provider secrets (access tokens, app secrets, API keys) are encrypted at
//! rest with ChaCha20-Poly1305. The key comes from `RECADO_SECRET_KEY`
//! (base64, 32 bytes; required when several nodes share PostgreSQL) or from
//! `secret.key` in the data directory, created on first start.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::path::Path;

const PREFIX: &str = "v1:";

pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    /// Key for signed links (unsubscribe tokens), derived from the same
    /// secret so one key file covers both.
    signing_key: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("RECADO_SECRET_KEY must be 32 bytes in base64")]
    BadKey,
    #[error("stored secrets cannot be decrypted with this key")]
    Undecryptable,
    #[error("cannot read or write the key file: {0}")]
    Io(#[from] std::io::Error),
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> Self {
        use sha2::{Digest, Sha256};
        let signing_key: [u8; 32] = Sha256::new()
            .chain_update(b"recado link signing\0")
            .chain_update(key)
            .finalize()
            .into();
        SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            signing_key,
        }
    }

    /// The key signed public links are made with.
    pub fn signing_key(&self) -> &[u8; 32] {
        &self.signing_key
    }

    /// The key from the environment value, else from `data_dir/secret.key`
    /// (created with owner-only permissions when missing).
    pub fn load(env_key: Option<&str>, data_dir: &Path) -> Result<Self, SecretError> {
        if let Some(text) = env_key {
            let bytes = B64.decode(text.trim()).map_err(|_| SecretError::BadKey)?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
            return Ok(Self::from_key(&key));
        }
        let path = data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let bytes = B64.decode(text.trim()).map_err(|_| SecretError::BadKey)?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
            return Ok(Self::from_key(&key));
        }
        std::fs::create_dir_all(data_dir)?;
        let key = ChaCha20Poly1305::generate_key(&mut OsRng);
        write_private(&path, &B64.encode(key))?;
        Ok(Self::from_key(&key.into()))
    }

    pub fn seal(&self, secrets: &serde_json::Value) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, secrets.to_string().as_bytes())
            .expect("encryption of an in-memory buffer");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", B64.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<serde_json::Value, SecretError> {
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .ok_or(SecretError::Undecryptable)?;
        if raw.len() < 12 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, ciphertext) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Undecryptable)?;
        serde_json::from_slice(&plain).map_err(|_| SecretError::Undecryptable)
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_hide_the_plaintext() {
        let a = SecretBox::from_key(&[7u8; 32]);
        let b = SecretBox::from_key(&[8u8; 32]);
        let secret = serde_json::json!({"access_token": "EAAG-very-secret"});
        let sealed = a.seal(&secret);
        assert!(!sealed.contains("very-secret"));
        assert_eq!(a.open(&sealed).unwrap(), secret);
        assert!(b.open(&sealed).is_err());
        assert!(a.open("v1:garbage").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!(
            "recado-secret-{}",
            recado_core::ids::new_id(recado_core::ids::IdKind::Job)
        ));
        let first = SecretBox::load(None, &dir).unwrap();
        let sealed = first.seal(&serde_json::json!({"k": 1}));
        let second = SecretBox::load(None, &dir).unwrap();
        assert_eq!(second.open(&sealed).unwrap()["k"], 1);
        std::fs::remove_dir_all(dir).ok();
    }
}
