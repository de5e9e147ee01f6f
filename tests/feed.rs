//! The XML job feed against a real server: well-formed XML for hostile
//! job texts, only open jobs, and the HTTP caching contract (ETag,
//! Last-Modified, 304, HEAD, gzip).

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// Parses the feed and returns its jobs, each as a map from element name
/// to text.
fn parse_jobs(xml: &str) -> Vec<BTreeMap<String, String>> {
    let document = roxmltree::Document::parse(xml)
        .unwrap_or_else(|err| panic!("feed is not well-formed XML 1.0: {err}"));
    let source = document.root_element();
    assert_eq!(source.tag_name().name(), "source");
    source
        .children()
        .filter(|node| node.has_tag_name("job"))
        .map(|job| {
            job.children()
                .filter(|node| node.is_element())
                .map(|field| (field.tag_name().name().to_string(), text_of(field)))
                .collect()
        })
        .collect()
}

/// Joins the text of an element's CDATA sections.
fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.children().filter_map(|child| child.text()).collect()
}

/// Parses raw body bytes as an XML 1.0 document, panicking when they are
/// not UTF-8 or not well-formed.
fn assert_well_formed(body: &[u8]) {
    let text = std::str::from_utf8(body).expect("feed is UTF-8");
    parse_jobs(text);
}

fn source_field(xml: &str, name: &str) -> String {
    let document = roxmltree::Document::parse(xml).unwrap();
    let field = document
        .root_element()
        .children()
        .find(|node| node.has_tag_name(name))
        .unwrap_or_else(|| panic!("<source> has no <{name}>"));
    text_of(field)
}

/// Returns the text a feed reader gets for a stored text: without the
/// characters XML 1.0 forbids, and with line ends normalized as every XML
/// parser does.
fn visible(text: &str) -> String {
    let allowed: String = text
        .chars()
        .filter(|c| {
            matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && *c != '\u{FFFE}' && *c != '\u{FFFF}')
        })
        .collect();
    allowed.replace("\r\n", "\n").replace('\r', "\n")
}

fn feed(server: &Server, path: &str) -> Reply {
    let reply = get(server, path, Some(KEY));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

/// Hostile texts for titles and companies, each with a name for failures.
fn hostile_texts() -> Vec<(String, String)> {
    let mut texts = Vec::new();
    for code in 0u32..0x20 {
        let c = char::from_u32(code).unwrap();
        texts.push((format!("control U+{code:04X}"), format!("before{c}after")));
    }
    for (name, text) in [
        ("U+FFFE", "a\u{FFFE}b"),
        ("U+FFFF", "a\u{FFFF}b"),
        ("CDATA end", "ends ]]> early ]]]]> twice ]]"),
        (
            "ampersand and angle",
            "Marlow & Finch <Logistics> &amp; &#0; </title>",
        ),
        ("emoji", "🚀 Rocket 👩‍💻 Engineer 🇺🇸"),
        ("RTL", "مهندس برمجيات \u{202E}reversed\u{202C} עברית"),
        ("markup", "<![CDATA[ <job> ]]> <!-- x --> <?pi?>"),
    ] {
        texts.push((name.to_string(), text.to_string()));
    }
    texts
}

#[test]
fn hostile_texts_give_well_formed_feed() {
    let workspace = Workspace::new();
    let texts = hostile_texts();
    let mut jobs: Vec<Value> = Vec::new();
    for (i, (_, text)) in texts.iter().enumerate() {
        let mut job = job_json(&format!("job-{i}"), &format!("code{i:04}"));
        job["title"] = json!(format!("T {text}"));
        job["company"] = json!(format!("C {text}"));
        job["city"] = json!(text);
        job["salary"] = json!(format!("$1 {text}"));
        job["category"] = json!(text);
        job["description"] = json!(format!("D {text}"));
        job["apply_url"] = json!(format!("https://example.com/apply?a=1&b=<{i}>&t=🚀"));
        jobs.push(job);
    }
    // A 1 MiB description, the import limit, full of what breaks XML.
    let pattern = "]]>\u{1}&<é🚀\r\n";
    let mut big = pattern.repeat(1024 * 1024 / pattern.len());
    while big.len() < 1024 * 1024 {
        big.push('x');
    }
    let mut big_job = job_json("job-big", "codebig");
    big_job["description"] = json!(big);
    jobs.push(big_job);
    workspace.import_json(
        "hostile.json",
        &creator_json("hostile", &["hostile-partner"], jobs),
    );
    let server = Server::start(&workspace, ServerOptions::default());

    let reply = feed(&server, "/partner/feed/hostile/xml?sub_id=hostile-partner");
    let parsed = parse_jobs(&reply.body);
    assert_eq!(parsed.len(), texts.len() + 1);
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> = parsed
        .iter()
        .map(|job| (job["referencenumber"].as_str(), job))
        .collect();

    for (i, (name, text)) in texts.iter().enumerate() {
        let job = by_id[format!("job-{i}").as_str()];
        let text = visible(text);
        assert_eq!(job["title"], format!("T {text}"), "title, {name}");
        assert_eq!(job["company"], format!("C {text}"), "company, {name}");
        assert_eq!(job["city"], text, "city, {name}");
        assert_eq!(job["salary"], format!("$1 {text}"), "salary, {name}");
        assert_eq!(job["category"], text, "category, {name}");
        assert_eq!(
            job["description"],
            format!("D {text}"),
            "description, {name}"
        );
        assert_eq!(
            job["url"],
            format!("{}/j/code{i:04}?sub_id=hostile-partner", server.base),
            "url, {name}"
        );
    }
    let big_read = &by_id["job-big"]["description"];
    assert_eq!(big_read.len(), visible(&big).len());
    assert!(*big_read == visible(&big), "1 MiB description changed");
}

#[test]
fn expired_and_closed_jobs_are_left_out() {
    let workspace = Workspace::new();
    let now = chrono::Utc::now();
    let mut closed = job_json("closed", "codeclosed");
    closed["status"] = json!("closed");
    let mut expired = job_json("expired", "codeexpired");
    // A job cannot expire before it is posted.
    expired["posted_at"] = json!((now - chrono::Duration::days(2)).to_rfc3339());
    expired["expires_at"] = json!((now - chrono::Duration::hours(1)).to_rfc3339());
    let mut expiring_later = job_json("expiring-later", "codelater");
    expiring_later["expires_at"] = json!((now + chrono::Duration::days(30)).to_rfc3339());
    let mut open = job_json("open", "codeopen");
    open["posted_at"] = json!("2026-11-20T10:00:00+01:00");
    let mut closed_and_expired = job_json("closed-expired", "codeboth");
    closed_and_expired["status"] = json!("closed");
    closed_and_expired["posted_at"] = json!("2019-12-01");
    closed_and_expired["expires_at"] = json!("2020-01-01");
    workspace.import_json(
        "mixed.json",
        &creator_json(
            "mixed",
            &[],
            vec![closed, expired, expiring_later, open, closed_and_expired],
        ),
    );
    let server = Server::start(&workspace, ServerOptions::default());

    let reply = feed(&server, "/partner/feed/mixed/xml");
    let jobs = parse_jobs(&reply.body);
    let ids: Vec<&str> = jobs
        .iter()
        .map(|job| job["referencenumber"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&"open"), "{ids:?}");
    assert!(ids.contains(&"expiring-later"), "{ids:?}");

    let open = jobs
        .iter()
        .find(|job| job["referencenumber"] == "open")
        .unwrap();
    assert_eq!(open["date"], "2026-11-20T09:00:00.000Z");
    for job in &jobs {
        let date = &job["date"];
        assert!(date.ends_with('Z'), "date {date} has no zone");
        chrono::DateTime::parse_from_rfc3339(date)
            .unwrap_or_else(|err| panic!("date {date} is not RFC 3339: {err}"));
    }
    let built = source_field(&reply.body, "lastBuildDate");
    assert!(built.ends_with('Z'), "lastBuildDate {built} has no zone");
    chrono::DateTime::parse_from_rfc3339(&built).unwrap();
}

#[test]
fn etag_round_trip_and_change() {
    let workspace = Workspace::new();
    let jobs = vec![job_json("a", "codea"), job_json("b", "codeb")];
    workspace.import_json("v1.json", &creator_json("etag", &["etag-x"], jobs.clone()));
    let server = Server::start(&workspace, ServerOptions::default());
    let path = "/partner/feed/etag/xml";

    let first = raw_request(&server, "GET", path, &[("x-api-key", KEY)]);
    assert_eq!(first.status, 200);
    assert_well_formed(&first.body);
    let etag = first.header("etag").expect("ETag header").to_string();
    assert!(etag.starts_with('"'), "strong ETag expected, got {etag}");
    let last_modified = first
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    assert_eq!(first.header("vary"), Some("Accept-Encoding"));

    let again = raw_request(&server, "GET", path, &[("x-api-key", KEY)]);
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    assert_eq!(again.body, first.body, "same ETag, same bytes");

    let not_modified = raw_request(
        &server,
        "GET",
        path,
        &[("x-api-key", KEY), ("If-None-Match", &etag)],
    );
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    assert_eq!(not_modified.header("vary"), Some("Accept-Encoding"));

    let listed = format!("\"nope\", {etag}");
    let not_modified = raw_request(
        &server,
        "GET",
        path,
        &[("x-api-key", KEY), ("If-None-Match", &listed)],
    );
    assert_eq!(not_modified.status, 304);

    let since = raw_request(
        &server,
        "GET",
        path,
        &[("x-api-key", KEY), ("If-Modified-Since", &last_modified)],
    );
    assert_eq!(since.status, 304);
    let stale_since = raw_request(
        &server,
        "GET",
        path,
        &[
            ("x-api-key", KEY),
            ("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"),
        ],
    );
    assert_eq!(stale_since.status, 200);

    let with_sub_id = raw_request(
        &server,
        "GET",
        "/partner/feed/etag/xml?sub_id=etag-x",
        &[("x-api-key", KEY), ("If-None-Match", &etag)],
    );
    assert_eq!(with_sub_id.status, 200);
    assert_ne!(with_sub_id.header("etag"), Some(etag.as_str()));

    let mut edited = jobs;
    edited[1]["title"] = json!("Edited title");
    workspace.import_json("v2.json", &creator_json("etag", &["etag-x"], edited));
    let changed = raw_request(
        &server,
        "GET",
        path,
        &[("x-api-key", KEY), ("If-None-Match", &etag)],
    );
    assert_eq!(changed.status, 200);
    let new_etag = changed.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert_well_formed(&changed.body);
    assert!(String::from_utf8_lossy(&changed.body).contains("Edited title"));
}

#[test]
fn expiry_changes_etag_without_import() {
    let workspace = Workspace::new();
    let mut expiring = job_json("expiring", "codeexp");
    let expires_at = chrono::Utc::now() + chrono::Duration::seconds(2);
    expiring["expires_at"] = json!(expires_at.to_rfc3339());
    workspace.import_json(
        "expiring.json",
        &creator_json("soon", &[], vec![expiring, job_json("stays", "codestays")]),
    );
    let server = Server::start(&workspace, ServerOptions::default());
    let path = "/partner/feed/soon/xml";

    let before = raw_request(&server, "GET", path, &[("x-api-key", KEY)]);
    let etag = before.header("etag").unwrap().to_string();
    assert!(String::from_utf8_lossy(&before.body).contains("codeexp"));

    while chrono::Utc::now() <= expires_at + chrono::Duration::milliseconds(100) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = raw_request(
        &server,
        "GET",
        path,
        &[("x-api-key", KEY), ("If-None-Match", &etag)],
    );
    assert_eq!(after.status, 200, "an expired job must change the feed");
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    assert_well_formed(&after.body);
    let body = String::from_utf8(after.body).unwrap();
    assert!(!body.contains("codeexp"));
    assert!(body.contains("codestays"));
}

#[test]
fn gzip_decodes_to_same_document() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    let path = "/partner/feed/jiloma/xml?sub_id=jiloma-rthgip";

    let plain = raw_request(&server, "GET", path, &[("x-api-key", KEY)]);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);

    let coded = raw_request(
        &server,
        "GET",
        path,
        &[
            ("x-api-key", KEY),
            ("Accept-Encoding", "br;q=1, gzip;q=0.5"),
        ],
    );
    assert_eq!(coded.status, 200);
    assert_eq!(coded.header("content-encoding"), Some("gzip"));
    assert_eq!(coded.header("vary"), Some("Accept-Encoding"));
    assert_ne!(coded.header("etag"), plain.header("etag"));
    assert_eq!(&coded.body[..2], &[0x1f, 0x8b], "gzip magic bytes");

    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(coded.body.as_slice())
        .read_to_end(&mut decoded)
        .expect("body is valid gzip");
    assert_eq!(decoded, plain.body);
    assert_well_formed(&decoded);
    assert!(coded.body.len() < plain.body.len());

    let declined = raw_request(
        &server,
        "GET",
        path,
        &[("x-api-key", KEY), ("Accept-Encoding", "gzip;q=0")],
    );
    assert_eq!(declined.header("content-encoding"), None);
    assert_eq!(declined.body, plain.body);

    let coded_etag = coded.header("etag").unwrap();
    let revalidated = raw_request(
        &server,
        "GET",
        path,
        &[
            ("x-api-key", KEY),
            ("Accept-Encoding", "gzip"),
            ("If-None-Match", coded_etag),
        ],
    );
    assert_eq!(revalidated.status, 304);
}

#[test]
fn head_has_headers_and_no_body() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());
    let path = "/partner/feed/jiloma/xml";

    for encoding in ["identity", "gzip"] {
        let headers = [("x-api-key", KEY), ("Accept-Encoding", encoding)];
        let full = raw_request(&server, "GET", path, &headers);
        let head = raw_request(&server, "HEAD", path, &headers);
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty(), "HEAD sent {} bytes", head.body.len());
        for name in [
            "etag",
            "last-modified",
            "content-type",
            "content-encoding",
            "vary",
        ] {
            assert_eq!(head.header(name), full.header(name), "{name}, {encoding}");
        }
        assert_eq!(head.header("content-length"), None, "{encoding}");
    }

    let etag = raw_request(&server, "HEAD", path, &[("x-api-key", KEY)])
        .header("etag")
        .unwrap()
        .to_string();
    let not_modified = raw_request(
        &server,
        "HEAD",
        path,
        &[("x-api-key", KEY), ("If-None-Match", &etag)],
    );
    assert_eq!(not_modified.status, 304);
}

#[test]
fn invalid_sub_id_is_json_400() {
    let workspace = Workspace::new();
    workspace.import_fixtures();
    let server = Server::start(&workspace, ServerOptions::default());

    for (query, code) in [
        ("sub_id=acme-1", "invalid_sub_id"),
        ("sub_id=jiloma-", "invalid_sub_id"),
        ("sub_id=jiloma-%3Cx%3E", "invalid_sub_id"),
        ("sub_id=jiloma-nobody", "unknown_sub_id"),
    ] {
        for method in ["GET", "HEAD"] {
            let reply = raw_request(
                &server,
                method,
                &format!("/partner/feed/jiloma/xml?{query}"),
                &[("x-api-key", KEY), ("Accept-Encoding", "gzip")],
            );
            assert_eq!(reply.status, 400, "{method} {query}");
            assert_eq!(reply.header("content-type"), Some("application/json"));
            if method == "GET" {
                let body: Value = serde_json::from_slice(&reply.body).unwrap();
                assert_eq!(body["error"], code, "{query}");
                assert_eq!(body["field"], "sub_id", "{query}");
            }
        }
    }

    let unknown = get(&server, "/partner/feed/nobody/xml", Some(KEY));
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["error"], "unknown_creator");
    let no_key = get(&server, "/partner/feed/jiloma/xml", None);
    assert_eq!(no_key.status, 401);
}

#[test]
fn empty_feed_is_well_formed() {
    let workspace = Workspace::new();
    workspace.import_json("empty.json", &creator_json("empty", &[], vec![]));
    let server = Server::start(&workspace, ServerOptions::default());

    let reply = feed(&server, "/partner/feed/empty/xml");
    assert!(parse_jobs(&reply.body).is_empty());
    assert_eq!(source_field(&reply.body, "publisher"), "Creator empty");
    assert!(reply.header("last-modified").is_some());
}
