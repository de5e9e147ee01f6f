//! The XML job feed: an Indeed-style `<source>` document with one `<job>`
//! per open job, and the validators (ETag, Last-Modified) that tell when it
//! changes. Pure formatting: the HTTP layer supplies the rows.

use std::borrow::Cow;
use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, Event};
use sha2::{Digest, Sha256};

/// Names the output format in every ETag. Change it whenever the writer's
/// output changes for the same rows, so that clients refetch after an
/// upgrade instead of keeping a document in the old format.
const FORMAT: &str = "indeed-cdata-1";

/// The feed's header: who publishes it and when its content last changed.
pub struct FeedSource<'a> {
    pub publisher: &'a str,
    pub publisher_url: &'a str,
    pub last_build_date: &'a str,
}

/// One job as the feed shows it.
#[derive(Debug, Clone)]
pub struct FeedJob {
    pub job_id: String,
    pub short_code: String,
    pub title: String,
    pub company: String,
    pub city: String,
    pub state: String,
    pub country: String,
    pub postal_code: String,
    pub description: String,
    pub salary: Option<String>,
    pub job_type: Option<String>,
    pub category: Option<String>,
    pub posted_at: String,
    /// The public click URL of the job.
    pub url: String,
}

/// Removes the characters that XML 1.0 does not allow: C0 controls other
/// than tab, newline and carriage return, and U+FFFE and U+FFFF. Rust
/// strings cannot hold lone surrogates, so those need no check.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    fn allowed(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    }
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|c| allowed(*c)).collect())
    }
}

/// Writes `<name>text</name>` with the sanitized text in CDATA sections, as
/// Indeed's samples do. A `]]>` in the text would end a section early, so
/// `BytesCData::escaped` splits the text between `]]` and `>` into two
/// sections. An empty text gives an empty element.
fn element<W: Write>(writer: &mut Writer<W>, name: &str, text: &str) -> std::io::Result<()> {
    let text = sanitize(text);
    if text.is_empty() {
        // An empty element: with Start and End the indenting writer would
        // put a line break between them, which parsers read as text.
        return writer.write_event(Event::Empty(BytesStart::new(name)));
    }
    writer.write_event(Event::Start(BytesStart::new(name)))?;
    for section in BytesCData::escaped(&text) {
        writer.write_event(Event::CData(section))?;
    }
    writer.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

/// Writes the document head up to and including the `<source>` fields.
pub fn write_head<W: Write>(
    writer: &mut Writer<W>,
    source: &FeedSource<'_>,
) -> std::io::Result<()> {
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    writer.write_event(Event::Start(BytesStart::new("source")))?;
    element(writer, "publisher", source.publisher)?;
    element(writer, "publisherurl", source.publisher_url)?;
    element(writer, "lastBuildDate", source.last_build_date)?;
    Ok(())
}

/// Writes one `<job>` element. Salary, job type and category are left out
/// when unknown.
pub fn write_job<W: Write>(writer: &mut Writer<W>, job: &FeedJob) -> std::io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new("job")))?;
    element(writer, "title", &job.title)?;
    element(writer, "date", &job.posted_at)?;
    element(writer, "referencenumber", &job.job_id)?;
    element(writer, "url", &job.url)?;
    element(writer, "company", &job.company)?;
    element(writer, "city", &job.city)?;
    element(writer, "state", &job.state)?;
    element(writer, "country", &job.country)?;
    element(writer, "postalcode", &job.postal_code)?;
    element(writer, "description", &job.description)?;
    for (name, value) in [
        ("salary", &job.salary),
        ("jobtype", &job.job_type),
        ("category", &job.category),
    ] {
        if let Some(value) = value {
            element(writer, name, value)?;
        }
    }
    writer.write_event(Event::End(BytesEnd::new("job")))?;
    Ok(())
}

/// Closes the document.
pub fn write_tail<W: Write>(writer: &mut Writer<W>) -> std::io::Result<()> {
    writer.write_event(Event::End(BytesEnd::new("source")))?;
    writer.get_mut().write_all(b"\n")
}

/// Builds the public click URL of a job: `<base>/j/<short_code>`, with the
/// feed's sub_id percent-encoded when there is one.
pub fn job_url(base: &str, short_code: &str, sub_id: Option<&str>) -> String {
    let code =
        percent_encoding::utf8_percent_encode(short_code, percent_encoding::NON_ALPHANUMERIC);
    match sub_id {
        Some(sub_id) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("sub_id", sub_id)
                .finish();
            format!("{base}/j/{code}?{query}")
        }
        None => format!("{base}/j/{code}"),
    }
}

/// Everything that decides a feed's bytes, apart from the job rows, whose
/// changes `jobs_version`, `last_change` and `next_expiry` stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedIdentity<'a> {
    pub creator_handle: &'a str,
    pub creator_name: &'a str,
    /// `profiles.jobs_version`, bumped by every import that changes a job.
    pub jobs_version: i64,
    /// The `lastBuildDate`: the latest of the creator's own change, its
    /// jobs' changes and the expiry times already passed.
    pub last_change: &'a str,
    /// The earliest `expires_at` of an open job still in the future. When
    /// that time passes, the job leaves the feed without any write, so the
    /// ETag must change with it.
    pub next_expiry: Option<&'a str>,
    pub sub_id: Option<&'a str>,
    /// The base of the click URLs.
    pub base_url: &'a str,
    /// Whether the body is gzip-coded. The coded and plain bodies are
    /// different representations, so they need different strong ETags.
    pub gzip: bool,
}

/// Derives the strong ETag, quotes included, from every input of the
/// document: a SHA-256 over the fields, each ended by a NUL byte so that
/// no two field lists give the same input, cut to 128 bits.
pub fn etag(identity: &FeedIdentity<'_>) -> String {
    let jobs_version = identity.jobs_version.to_string();
    let fields = [
        FORMAT,
        identity.creator_handle,
        identity.creator_name,
        &jobs_version,
        identity.last_change,
        identity.next_expiry.unwrap_or("-"),
        identity.sub_id.unwrap_or("-"),
        identity.base_url,
    ];
    let mut hasher = Sha256::new();
    for field in fields {
        hasher.update(field.as_bytes());
        hasher.update([0]);
    }
    let digest = hex::encode(&hasher.finalize()[..16]);
    if identity.gzip {
        format!("\"{digest}-gzip\"")
    } else {
        format!("\"{digest}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_allowed_text() {
        let text = "Café & <b> \"quoted\" 🚀 مرحبا\ttab\nline\rcr \u{7F}\u{85}\u{FFFD}";
        assert!(matches!(sanitize(text), Cow::Borrowed(_)));
    }

    #[test]
    fn sanitize_table() {
        let mut cases: Vec<(String, String)> = Vec::new();
        for code in 0u32..0x20 {
            let c = char::from_u32(code).unwrap();
            let expected = if matches!(c, '\t' | '\n' | '\r') {
                format!("a{c}b")
            } else {
                "ab".to_string()
            };
            cases.push((format!("a{c}b"), expected));
        }
        for (input, expected) in [
            ("a\u{FFFE}b", "ab"),
            ("a\u{FFFF}b", "ab"),
            ("a\u{FFFD}b", "a\u{FFFD}b"),
            ("a\u{7F}b", "a\u{7F}b"),
            ("a\u{9F}b", "a\u{9F}b"),
            ("a\u{D7FF}b", "a\u{D7FF}b"),
            ("a\u{E000}b", "a\u{E000}b"),
            ("a\u{10FFFF}b", "a\u{10FFFF}b"),
            ("]]> & < >", "]]> & < >"),
            ("\u{0}\u{1}\u{FFFF}", ""),
            ("", ""),
        ] {
            cases.push((input.to_string(), expected.to_string()));
        }

        for (input, expected) in cases {
            assert_eq!(sanitize(&input), expected, "input {input:?}");
        }
    }

    fn render_title(title: &str) -> String {
        let mut writer = Writer::new(Vec::new());
        element(&mut writer, "title", title).unwrap();
        String::from_utf8(writer.into_inner()).unwrap()
    }

    #[test]
    fn element_splits_cdata_end_marker() {
        for (input, expected) in [
            ("plain", "<title><![CDATA[plain]]></title>"),
            ("", "<title/>"),
            ("a]]>b", "<title><![CDATA[a]]]]><![CDATA[>b]]></title>"),
            (
                "]]>]]>",
                "<title><![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]></title>",
            ),
            ("]]", "<title><![CDATA[]]]]></title>"),
            (
                "a\u{1}]]\u{2}>b",
                "<title><![CDATA[a]]]]><![CDATA[>b]]></title>",
            ),
        ] {
            assert_eq!(render_title(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn empty_element_has_no_text_when_indented() {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        writer
            .write_event(Event::Start(BytesStart::new("job")))
            .unwrap();
        element(&mut writer, "city", "").unwrap();
        element(&mut writer, "state", "\u{1}").unwrap();
        writer
            .write_event(Event::End(BytesEnd::new("job")))
            .unwrap();
        let xml = String::from_utf8(writer.into_inner()).unwrap();

        let document = roxmltree::Document::parse(&xml).unwrap();
        for name in ["city", "state"] {
            let node = document
                .descendants()
                .find(|node| node.has_tag_name(name))
                .unwrap();
            assert_eq!(node.text(), None, "{name} in {xml}");
        }
    }

    #[test]
    fn element_text_reads_back_intact() {
        for text in ["a]]>b", "]]>", "x]]]>y", "<&>\"'", "🚀 مرحبا", "]]>]]>"] {
            let xml = render_title(text);
            let document = roxmltree::Document::parse(&xml).unwrap();
            let read: String = document
                .root_element()
                .children()
                .filter_map(|node| node.text())
                .collect();
            assert_eq!(read, text, "xml {xml}");
        }
    }

    #[test]
    fn job_url_encodes_sub_id() {
        assert_eq!(
            job_url("http://x", "abc123xy", Some("jiloma-a b")),
            "http://x/j/abc123xy?sub_id=jiloma-a+b"
        );
        assert_eq!(job_url("http://x", "abc123xy", None), "http://x/j/abc123xy");
    }

    fn identity() -> FeedIdentity<'static> {
        FeedIdentity {
            creator_handle: "jiloma",
            creator_name: "Jiloma Careers",
            jobs_version: 3,
            last_change: "2026-12-02T14:30:00.000Z",
            next_expiry: Some("2027-01-20T23:59:59.000Z"),
            sub_id: Some("jiloma-rthgip"),
            base_url: "http://127.0.0.1:8080",
            gzip: false,
        }
    }

    #[test]
    fn etag_is_stable_and_quoted() {
        let tag = etag(&identity());
        assert_eq!(tag, etag(&identity()));
        assert!(tag.starts_with('"'), "{tag}");
        assert!(tag.ends_with('"'), "{tag}");
        assert_eq!(tag.len(), 34);
    }

    #[test]
    fn etag_changes_with_each_input() {
        let base = etag(&identity());
        let variants = [
            FeedIdentity {
                creator_handle: "other",
                ..identity()
            },
            FeedIdentity {
                creator_name: "Renamed",
                ..identity()
            },
            FeedIdentity {
                jobs_version: 4,
                ..identity()
            },
            FeedIdentity {
                last_change: "2026-12-02T14:30:01.000Z",
                ..identity()
            },
            FeedIdentity {
                next_expiry: None,
                ..identity()
            },
            FeedIdentity {
                sub_id: None,
                ..identity()
            },
            FeedIdentity {
                base_url: "https://jobs.example.com",
                ..identity()
            },
            FeedIdentity {
                gzip: true,
                ..identity()
            },
        ];
        for variant in variants {
            assert_ne!(etag(&variant), base, "{variant:?}");
        }
    }
}
