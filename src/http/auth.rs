//! API key check for `/partner/*` routes.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::config::EnvKey;

pub const API_KEY_HEADER: &str = "x-api-key";

/// Who made a request, as stored with its rows: `env:<VARIABLE>` for keys
/// from the environment or the config file, `key:<name>` for stored keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

/// SHA-256 of a presented or configured key.
pub fn hash_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Checks presented keys against the configured ones.
#[derive(Clone)]
pub struct Authenticator {
    /// The caller name and key hash of each configured key.
    env_keys: Vec<(String, [u8; 32])>,
}

impl Authenticator {
    pub fn new(env_keys: &[EnvKey]) -> Authenticator {
        Authenticator {
            env_keys: env_keys
                .iter()
                .map(|key| (format!("env:{}", key.variable), hash_key(&key.value)))
                .collect(),
        }
    }

    /// Accepts one more key, stored with rows as `caller`.
    pub fn add_key(&mut self, caller: &str, key: &str) {
        self.env_keys.push((caller.to_string(), hash_key(key)));
    }

    /// Identifies the caller from the `x-api-key` header value. Hashes are
    /// compared in constant time, and every configured key is compared, so
    /// the time taken does not tell which key came close.
    pub fn check(&self, header: Option<&http::HeaderValue>) -> Result<Caller, ApiError> {
        let Some(header) = header else {
            return Err(ApiError::unauthorized("missing x-api-key header"));
        };
        let presented = match header.to_str() {
            Ok(text) if !text.is_empty() => hash_key(text),
            _ => return Err(ApiError::unauthorized("invalid x-api-key")),
        };

        let mut matched = None;
        for (caller, hash) in &self.env_keys {
            if bool::from(presented.ct_eq(hash)) && matched.is_none() {
                matched = Some(caller);
            }
        }
        match matched {
            Some(caller) => Ok(Caller(caller.clone())),
            None => Err(ApiError::unauthorized("invalid x-api-key")),
        }
    }
}
