//! Encryption of secrets at rest (webhook signing secrets) with XChaCha20-Poly1305 under the
//! configured 32-byte key. Each value gets a random 192-bit nonce, stored in front of the
//! ciphertext; the whole is base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::config::SecretKey;

const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    pub fn new(key: &SecretKey) -> Self {
        Self { cipher: XChaCha20Poly1305::new((&key.0).into()) }
    }

    pub fn seal(&self, plaintext: &str) -> anyhow::Result<String> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(STANDARD.encode(out))
    }

    /// Fails for a value sealed under another key, or altered.
    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        let bytes = STANDARD.decode(sealed)?;
        anyhow::ensure!(bytes.len() > NONCE_LEN, "sealed value too short");
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext =
            self.cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| {
                anyhow::anyhow!("cannot decrypt: wrong ROSTER_SECRET_KEY or altered value")
            })?;
        Ok(String::from_utf8(plaintext)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_the_wrong_key() {
        let a = SecretBox::new(&SecretKey([1; 32]));
        let b = SecretBox::new(&SecretKey([2; 32]));
        let sealed = a.seal("whsec_secret").expect("seal");
        assert_ne!(sealed, a.seal("whsec_secret").expect("seal"), "nonces differ");
        assert_eq!(a.open(&sealed).expect("open"), "whsec_secret");
        assert!(b.open(&sealed).is_err());
        assert!(a.open("AAAA").is_err());
    }
}
