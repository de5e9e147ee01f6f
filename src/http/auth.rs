//! API key check for `/partner/*` routes: keys from the environment or the
//! config file first, then keys stored in `api_keys`.
//!
//! Stored keys are looked up by hash on every request that no configured
//! key matches, with no cache in between. A key created, rotated out or
//! revoked by `partner-api keys` therefore takes effect on the next request,
//! at the cost of one indexed read on the pool for such requests.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::key_usage::KeyUsage;
use crate::config::EnvKey;
use crate::store::{self, Pool, StoreError, keys};

pub const API_KEY_HEADER: &str = "x-api-key";

/// The identity of a request's key, as stored with its rows: `env:<VARIABLE>` for keys
/// from the environment or the config file, `key:<name>` for stored keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

/// Checks presented keys against the configured and the stored ones.
#[derive(Clone)]
pub struct Authenticator {
    /// The caller name and key hash of each configured key.
    env_keys: Vec<(String, [u8; 32])>,
    /// Read connections for the stored-key look-up.
    pool: Pool,
    /// Last use of stored keys, waiting to be written.
    usage: Arc<KeyUsage>,
}

impl Authenticator {
    pub fn new(env_keys: &[EnvKey], pool: Pool) -> Authenticator {
        Authenticator {
            env_keys: env_keys
                .iter()
                .map(|key| (format!("env:{}", key.variable), keys::hash_key(&key.value)))
                .collect(),
            pool,
            usage: Arc::new(KeyUsage::default()),
        }
    }

    /// Accepts one more key, stored with rows as `caller`.
    pub fn add_key(&mut self, caller: &str, key: &str) {
        self.env_keys
            .push((caller.to_string(), keys::hash_key(key)));
    }

    pub fn usage(&self) -> Arc<KeyUsage> {
        self.usage.clone()
    }

    /// Identifies the caller from the `x-api-key` header value.
    ///
    /// Only hashes of the presented key are compared. Configured keys are
    /// compared in constant time, all of them, so the time taken does not
    /// tell which one came close. Stored keys are found through the index
    /// on their hash, which reveals nothing about any key's text.
    pub async fn check(&self, header: Option<&http::HeaderValue>) -> Result<Caller, ApiError> {
        let Some(header) = header else {
            return Err(ApiError::unauthorized("missing x-api-key header"));
        };
        let presented = match header.to_str() {
            Ok("") => return Err(ApiError::unauthorized("x-api-key header is empty")),
            Ok(text) => keys::hash_key(text),
            Err(_) => return Err(ApiError::unauthorized("invalid x-api-key")),
        };

        if let Some(caller) = self.match_configured(&presented) {
            return Ok(caller);
        }

        let pool = self.pool.clone();
        let now = store::now();
        let used_at = now.clone();
        let found = tokio::task::spawn_blocking(move || {
            let conn = pool.get().map_err(StoreError::from)?;
            keys::find_usable(&conn, &presented, &now).map_err(StoreError::from)
        })
        .await
        .map_err(|err| ApiError::internal("key look-up task failed", &err))??;

        match found {
            Some((id, name)) => {
                self.usage.record(id, used_at);
                Ok(Caller(format!("key:{name}")))
            }
            None => Err(ApiError::unauthorized("invalid x-api-key")),
        }
    }

    fn match_configured(&self, presented: &[u8; 32]) -> Option<Caller> {
        let mut matched = None;
        for (caller, hash) in &self.env_keys {
            if bool::from(presented.ct_eq(hash)) && matched.is_none() {
                matched = Some(caller);
            }
        }
        matched.map(|caller| Caller(caller.clone()))
    }
}
