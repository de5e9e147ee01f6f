//! Standard Webhooks signatures: `webhook-signature` is `v1,` followed by
//! the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`,
//! keyed with the base64-decoded part of a `whsec_` secret.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The prefix of a Standard Webhooks signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The shortest key that Standard Webhooks 1.0.0 allows: 24 bytes, 192
/// bits.
pub const MIN_KEY_BYTES: usize = 24;

/// A decoded signing key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct SigningSecret {
    key: Vec<u8>,
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningSecret({} bytes)", self.key.len())
    }
}

impl SigningSecret {
    /// Parses `whsec_<base64>`. The error never repeats the secret, because
    /// it ends up in logs and terminals.
    pub fn parse(text: &str) -> Result<SigningSecret, String> {
        let Some(encoded) = text.strip_prefix(SECRET_PREFIX) else {
            return Err(format!(
                "expected `{SECRET_PREFIX}` followed by base64, such as the output of \
                 `echo {SECRET_PREFIX}$(openssl rand -base64 32)`"
            ));
        };
        // The decoder's error names the offending character, so it stays out.
        let key = STANDARD
            .decode(encoded.trim())
            .map_err(|_| format!("the part after `{SECRET_PREFIX}` is not valid base64"))?;
        if key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the key after `{SECRET_PREFIX}` decodes to {} bytes, fewer than the {MIN_KEY_BYTES} \
                 that Standard Webhooks requires; create one with \
                 `echo {SECRET_PREFIX}$(openssl rand -base64 32)`",
                key.len()
            ));
        }
        Ok(SigningSecret { key })
    }

    /// Computes the `webhook-signature` header value for one attempt.
    pub fn sign(&self, webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(webhook_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_openssl() {
        // Computed independently with:
        //   printf '%s' 'evt_1.1700000000.{"a":1}' |
        //     openssl dgst -sha256 -mac HMAC -binary \
        //       -macopt hexkey:$(printf 'test-signing-key-of-32-bytes-len' | xxd -p | tr -d '\n') |
        //     base64
        let key = "test-signing-key-of-32-bytes-len";
        let secret =
            SigningSecret::parse(&format!("whsec_{}", STANDARD.encode(key))).expect("valid secret");
        assert_eq!(
            secret.sign("evt_1", 1_700_000_000, br#"{"a":1}"#),
            "v1,LLcthPpLBCsVccJvv1WaOko3rJN58SJR+StSpOdT2cs="
        );
    }

    #[test]
    fn secret_without_prefix_is_rejected() {
        let err = SigningSecret::parse("c2VjcmV0").unwrap_err();
        assert!(err.contains("whsec_"), "{err}");
        assert!(
            !err.contains("c2VjcmV0"),
            "the error repeats the secret: {err}"
        );
    }

    #[test]
    fn secret_with_bad_base64_is_rejected() {
        let err = SigningSecret::parse("whsec_not*base64").unwrap_err();
        assert!(err.contains("not valid base64"), "{err}");
        assert!(
            !err.contains("not*base64"),
            "the error repeats the secret: {err}"
        );
    }

    #[test]
    fn short_key_is_rejected() {
        assert!(SigningSecret::parse("whsec_").is_err());
        let err = SigningSecret::parse("whsec_c2hvcnQ=").unwrap_err();
        assert!(err.contains("decodes to 5 bytes"), "{err}");
        assert!(err.contains("fewer than the 24"), "{err}");
        assert!(
            !err.contains("c2hvcnQ"),
            "the error repeats the secret: {err}"
        );

        let just_short = format!("whsec_{}", STANDARD.encode([7u8; 23]));
        assert!(SigningSecret::parse(&just_short).is_err());
        let minimum = format!("whsec_{}", STANDARD.encode([7u8; 24]));
        assert!(SigningSecret::parse(&minimum).is_ok());
    }

    #[test]
    fn debug_hides_the_key() {
        let secret =
            SigningSecret::parse(&format!("whsec_{}", STANDARD.encode([7u8; 32]))).unwrap();
        assert_eq!(format!("{secret:?}"), "SigningSecret(32 bytes)");
    }
}
