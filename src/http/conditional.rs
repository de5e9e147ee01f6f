//! Content negotiation and conditional requests for cacheable responses:
//! which coding the client accepts, and whether its copy is current.

use std::time::SystemTime;

use headers::{ETag, HeaderMapExt, IfModifiedSince, IfNoneMatch};
use http::{HeaderMap, header};

/// Tells whether `Accept-Encoding` allows gzip: `gzip` or `x-gzip` (or
/// `*` when gzip is not named) with a q-value above zero. Without the
/// header, the response stays uncoded, as most clients that omit it cannot
/// decode gzip.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut wildcard = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|parameter| {
                    let (name, value) = parameter.split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("q")
                        .then(|| value.trim().parse::<f32>().ok())
                        .flatten()
                })
                .next_back()
                .unwrap_or(1.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(quality),
                "*" => wildcard = Some(quality),
                _ => {}
            }
        }
    }
    gzip.or(wildcard).is_some_and(|quality| quality > 0.0)
}

/// Tells whether a GET or HEAD gets `304 Not Modified`, by the rules of
/// RFC 9110 section 13.2.2. `If-None-Match` decides when present, with weak
/// comparison and `*` matching anything. Only without it does
/// `If-Modified-Since` count, at whole-second precision. An `If-None-Match` that does not parse
/// matches nothing, and an unparsable date is ignored.
pub fn is_not_modified(headers: &HeaderMap, etag: &str, last_modified: SystemTime) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        let Some(if_none_match) = headers.typed_get::<IfNoneMatch>() else {
            return false;
        };
        let Ok(etag) = etag.parse::<ETag>() else {
            return false;
        };
        return !if_none_match.precondition_passes(&etag);
    }
    match headers.typed_get::<IfModifiedSince>() {
        Some(since) => !since.is_modified(last_modified),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn accept_encoding_table() {
        for (value, expected) in [
            ("gzip", true),
            ("gzip, deflate, br", true),
            ("br;q=1.0, gzip;q=0.8, *;q=0.1", true),
            ("GZIP", true),
            ("x-gzip", true),
            ("*", true),
            ("gzip;q=0", false),
            ("gzip; q=0.000", false),
            ("*;q=0", false),
            ("gzip;q=0, *", false),
            ("*;q=0, gzip", true),
            ("identity", false),
            ("deflate, br", false),
            ("", false),
            ("gzip;q=bogus", true),
        ] {
            let map = headers(&[(header::ACCEPT_ENCODING, value)]);
            assert_eq!(accepts_gzip(&map), expected, "Accept-Encoding: {value}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn accept_encoding_spread_over_lines() {
        let map = headers(&[
            (header::ACCEPT_ENCODING, "br"),
            (header::ACCEPT_ENCODING, "gzip"),
        ]);
        assert!(accepts_gzip(&map));
    }

    const TAG: &str = "\"0123abcd\"";

    fn modified() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    #[test]
    fn if_none_match_table() {
        for (value, expected) in [
            ("\"0123abcd\"", true),
            ("W/\"0123abcd\"", true),
            ("\"other\", \"0123abcd\"", true),
            ("*", true),
            ("\"other\"", false),
            ("0123abcd", false),
            ("", false),
        ] {
            let map = headers(&[(header::IF_NONE_MATCH, value)]);
            assert_eq!(
                is_not_modified(&map, TAG, modified()),
                expected,
                "If-None-Match: {value}"
            );
        }
    }

    #[test]
    fn if_modified_since_table() {
        let at = httpdate::fmt_http_date(modified());
        let before = httpdate::fmt_http_date(modified() - Duration::from_secs(1));
        let after = httpdate::fmt_http_date(modified() + Duration::from_secs(60));
        for (value, expected) in [
            (at.as_str(), true),
            (after.as_str(), true),
            (before.as_str(), false),
            ("not a date", false),
        ] {
            let map = headers(&[(header::IF_MODIFIED_SINCE, value)]);
            assert_eq!(
                is_not_modified(&map, TAG, modified()),
                expected,
                "If-Modified-Since: {value}"
            );
        }
        let within_second = modified() + Duration::from_millis(400);
        let map = headers(&[(header::IF_MODIFIED_SINCE, at.as_str())]);
        assert!(is_not_modified(&map, TAG, within_second));
    }

    #[test]
    fn if_none_match_overrides_if_modified_since() {
        let at = httpdate::fmt_http_date(modified());
        let map = headers(&[
            (header::IF_NONE_MATCH, "\"other\""),
            (header::IF_MODIFIED_SINCE, at.as_str()),
        ]);
        assert!(!is_not_modified(&map, TAG, modified()));
    }
}
