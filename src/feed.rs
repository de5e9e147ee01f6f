//! The XML job feed: an Indeed-style `<source>` document with one `<job>`
//! per open job. Pure formatting; the HTTP layer feeds it rows.

use std::borrow::Cow;
use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// The feed's header: who publishes it and when it was built.
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

/// Writes `<name>text</name>` with the text sanitized and escaped.
fn element<W: Write>(writer: &mut Writer<W>, name: &str, text: &str) -> std::io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new(name)))?;
    writer.write_event(Event::Text(BytesText::new(&sanitize(text))))?;
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

/// Writes one `<job>` element.
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

/// The public click URL of a job: `<base>/j/<short_code>`, with the
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_allowed_text() {
        let text = "Café & <b> \"quoted\" 🚀 مرحبا\ttab\nline";
        assert!(matches!(sanitize(text), Cow::Borrowed(_)));
    }

    #[test]
    fn sanitize_removes_forbidden_characters() {
        let text = "a\u{0}b\u{8}c\u{B}d\u{C}e\u{1F}f\u{FFFE}g\u{FFFF}h";
        assert_eq!(sanitize(text), "abcdefgh");
    }

    #[test]
    fn job_url_encodes_sub_id() {
        assert_eq!(
            job_url("http://x", "abc123xy", Some("jiloma-a b")),
            "http://x/j/abc123xy?sub_id=jiloma-a+b"
        );
        assert_eq!(job_url("http://x", "abc123xy", None), "http://x/j/abc123xy");
    }
}
