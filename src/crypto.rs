//! Encryption of secrets at rest (webhook signing secrets) with XChaCha20-Poly1305 under the
//! configured 32-byte key. Each value gets a random 192-bit nonce, stored in front of the
//! ciphertext; the whole is base64.
//!
//! While the key is being rotated, a second key is accepted for opening (never for sealing):
//! values sealed under it stay readable until `roster reseal` has sealed them all again under
//! the current key. The cipher authenticates, so a value opens only under its own key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::config::SecretKey;

const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    accepted: Option<XChaCha20Poly1305>,
}

/// What sealing a stored value again under the current key gives.
#[derive(Debug, PartialEq, Eq)]
pub enum Resealed {
    /// It is under the current key already.
    Current,
    /// It was under the accepted key; here it is under the current one.
    Again(String),
    /// Neither key opens it.
    Unreadable,
}

impl SecretBox {
    pub fn new(key: &SecretKey) -> Self {
        Self::with_accepted(key, None)
    }

    /// Sealing with `key`, opening with `key` or `accepted`.
    pub fn with_accepted(key: &SecretKey, accepted: Option<&SecretKey>) -> Self {
        let cipher = |key: &SecretKey| XChaCha20Poly1305::new((&key.0).into());
        Self { cipher: cipher(key), accepted: accepted.map(cipher) }
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

    /// Fails for a value sealed under neither key, or altered.
    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        let (nonce, ciphertext) = split(sealed)?;
        let opened =
            self.cipher.decrypt(&nonce, &ciphertext[..]).or_else(|_| match &self.accepted {
                Some(accepted) => accepted.decrypt(&nonce, &ciphertext[..]),
                None => Err(chacha20poly1305::aead::Error),
            });
        let plaintext = opened.map_err(|_| {
            anyhow::anyhow!("cannot decrypt: wrong ROSTER_SECRET_KEY or altered value")
        })?;
        Ok(String::from_utf8(plaintext)?)
    }

    /// `sealed` under the current key, if it is not already.
    pub fn reseal(&self, sealed: &str) -> Resealed {
        let Ok((nonce, ciphertext)) = split(sealed) else { return Resealed::Unreadable };
        if self.cipher.decrypt(&nonce, &ciphertext[..]).is_ok() {
            return Resealed::Current;
        }
        let opened = self.accepted.as_ref().and_then(|a| a.decrypt(&nonce, &ciphertext[..]).ok());
        let again = opened
            .and_then(|plaintext| String::from_utf8(plaintext).ok())
            .and_then(|plaintext| self.seal(&plaintext).ok());
        again.map_or(Resealed::Unreadable, Resealed::Again)
    }
}

fn split(sealed: &str) -> anyhow::Result<(XNonce, Vec<u8>)> {
    let mut bytes = STANDARD.decode(sealed)?;
    anyhow::ensure!(bytes.len() > NONCE_LEN, "sealed value too short");
    let ciphertext = bytes.split_off(NONCE_LEN);
    Ok((*XNonce::from_slice(&bytes), ciphertext))
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

    #[test]
    fn an_accepted_key_opens_and_reseals_but_never_seals() {
        let (old, new) = (SecretKey([1; 32]), SecretKey([2; 32]));
        let sealed_old = SecretBox::new(&old).seal("whsec_secret").expect("seal");
        let rotating = SecretBox::with_accepted(&new, Some(&old));
        assert_eq!(rotating.open(&sealed_old).expect("open"), "whsec_secret");
        let sealed_new = rotating.seal("whsec_secret").expect("seal");
        assert!(SecretBox::new(&old).open(&sealed_new).is_err(), "sealed under the new key");

        let Resealed::Again(again) = rotating.reseal(&sealed_old) else { panic!("resealed") };
        assert_eq!(SecretBox::new(&new).open(&again).expect("open"), "whsec_secret");
        assert_eq!(rotating.reseal(&again), Resealed::Current);
        let stranger = SecretBox::new(&SecretKey([3; 32])).seal("x").expect("seal");
        assert_eq!(rotating.reseal(&stranger), Resealed::Unreadable);
        assert_eq!(rotating.reseal("not base64!"), Resealed::Unreadable);
    }
}
