//! Copies partner clicks (`job_clicks`) or applications (`rxevents`) out
//! as CSV or JSON Lines. Rows stream from the query to the writer one at a
//! time, so memory stays flat however many rows match.

use std::io::Write;

use anyhow::Context;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// The table to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    /// Partner clicks: the job_clicks table
    Clicks,
    /// Partner applications: the rxevents table
    Applications,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Clicks => "job_clicks",
            Table::Applications => "rxevents",
        }
    }

    /// The column that contains the parent creator's handle.
    fn creator_column(self) -> &'static str {
        match self {
            Table::Clicks => "cid",
            Table::Applications => "rxp",
        }
    }

    /// Returns the noun for `count` rows in messages.
    pub fn rows_noun(self, count: u64) -> &'static str {
        match (self, count) {
            (Table::Clicks, 1) => "click",
            (Table::Clicks, _) => "clicks",
            (Table::Applications, 1) => "application",
            (Table::Applications, _) => "applications",
        }
    }
}

/// The output layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV with a header row; NULL is an empty cell
    Csv,
    /// One JSON object per line, keys in column order; NULL is null
    Jsonl,
}

/// A row filter for exports. Every condition given must hold. Times are
/// in the stored RFC 3339 UTC form, so they compare as text.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Rows created at or after this time.
    pub since: Option<String>,
    /// Rows created before this time.
    pub until: Option<String>,
    /// The parent creator's handle.
    pub creator: Option<String>,
    pub sub_id: Option<String>,
    pub test_run_id: Option<String>,
}

/// Builds the query and its parameters. Only the filters given become
/// conditions, so SQLite can use the `created_at` and creator indexes.
fn query(table: Table, filter: &Filter) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    let creator_condition = format!("{} = ?", table.creator_column());
    let filters = [
        ("created_at >= ?", &filter.since),
        ("created_at < ?", &filter.until),
        (creator_condition.as_str(), &filter.creator),
        ("sub_id = ?", &filter.sub_id),
        ("partner_test_run_id = ?", &filter.test_run_id),
    ];
    for (condition, value) in filters {
        if let Some(value) = value {
            conditions.push(condition.to_string());
            params.push(value.clone());
        }
    }

    let mut sql = format!("SELECT * FROM {}", table.name());
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    // rowid breaks ties in insertion order and is part of every index, so
    // the order needs no sort step.
    sql.push_str(" ORDER BY created_at, rowid");
    (sql, params)
}

/// Formats a cell as CSV text: NULL is empty, a BLOB is hex.
fn csv_cell(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => String::new(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Text(text) => String::from_utf8_lossy(text).into_owned(),
        ValueRef::Blob(bytes) => hex::encode(bytes),
    }
}

fn json_cell(value: ValueRef<'_>) -> serde_json::Value {
    match value {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(n) => n.into(),
        ValueRef::Real(x) => x.into(),
        ValueRef::Text(text) => String::from_utf8_lossy(text).into(),
        ValueRef::Blob(bytes) => hex::encode(bytes).into(),
    }
}

/// Writes every row of `table` that matches `filter` to `out`, and returns
/// how many it wrote. The columns are all of the table's columns, in the
/// table's order.
pub fn export(
    conn: &Connection,
    table: Table,
    filter: &Filter,
    format: Format,
    out: impl Write,
) -> anyhow::Result<u64> {
    let (sql, params) = query(table, filter);
    let mut statement = conn
        .prepare(&sql)
        .with_context(|| format!("cannot read {}", table.name()))?;
    let columns: Vec<String> = statement
        .column_names()
        .into_iter()
        .map(String::from)
        .collect();
    let mut rows = statement.query(rusqlite::params_from_iter(&params))?;

    let mut count = 0;
    match format {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(&columns)?;
            let mut record = Vec::with_capacity(columns.len());
            while let Some(row) = rows.next()? {
                record.clear();
                for i in 0..columns.len() {
                    record.push(csv_cell(row.get_ref(i)?));
                }
                writer.write_record(&record)?;
                count += 1;
            }
            writer.flush()?;
        }
        Format::Jsonl => {
            // The object is written key by key to keep the column order,
            // which serde_json's map would sort.
            let keys: Vec<String> = columns
                .iter()
                .map(|column| serde_json::Value::from(column.as_str()).to_string())
                .collect();
            let mut out = out;
            while let Some(row) = rows.next()? {
                for (i, key) in keys.iter().enumerate() {
                    out.write_all(if i == 0 { b"{" } else { b"," })?;
                    out.write_all(key.as_bytes())?;
                    out.write_all(b":")?;
                    serde_json::to_writer(&mut out, &json_cell(row.get_ref(i)?))?;
                }
                out.write_all(b"}\n")?;
                count += 1;
            }
            out.flush()?;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_without_filters_selects_all() {
        let (sql, params) = query(Table::Clicks, &Filter::default());
        assert_eq!(sql, "SELECT * FROM job_clicks ORDER BY created_at, rowid");
        assert!(params.is_empty());
    }

    #[test]
    fn query_uses_creator_column_of_table() {
        let filter = Filter {
            creator: Some("jiloma".into()),
            until: Some("2026-12-01T00:00:00.000Z".into()),
            ..Filter::default()
        };
        let (sql, params) = query(Table::Applications, &filter);
        assert_eq!(
            sql,
            "SELECT * FROM rxevents WHERE created_at < ? AND rxp = ? ORDER BY created_at, rowid"
        );
        assert_eq!(params, ["2026-12-01T00:00:00.000Z", "jiloma"]);
    }
}
