//! What listing commands print: an aligned table with a header for people,
//! or one JSON document with its schema and totals for programs.

use std::io::Write;

use anyhow::Result;
use serde_json::Value;

/// Version of every listing command's JSON document. A field is only ever
/// added under the same version; renaming or removing one bumps it.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Columns padded to their widest cell, two spaces apart, with a header row.
pub struct Table {
    header: Vec<&'static str>,
    /// Columns aligned right (counts).
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            right: vec![false; header.len()],
            rows: Vec::new(),
        }
    }

    /// Aligns these columns (by header) right, as numbers read.
    pub fn right(mut self, columns: &[&str]) -> Table {
        for (i, h) in self.header.iter().enumerate() {
            if columns.contains(h) {
                self.right[i] = true;
            }
        }
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn print(&self, out: &mut impl Write) -> Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count());
                let last = i + 1 == row.len();
                if i > 0 {
                    line.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if !last {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// One listing as JSON: `{"schema": "alpr-node.<what>", "version": 1,
/// "total": N, "items": [...], ...extra}`.
pub fn listing(what: &str, total: u64, items: Vec<Value>, extra: Value) -> Value {
    let mut doc = document(what, serde_json::json!({ "total": total, "items": items }));
    if let (Some(doc), Value::Object(extra)) = (doc.as_object_mut(), extra) {
        doc.extend(extra);
    }
    doc
}

/// One document as JSON: `{"schema": "alpr-node.<what>", "version": 1, ...fields}`.
pub fn document(what: &str, fields: Value) -> Value {
    let mut doc = serde_json::json!({
        "schema": format!("alpr-node.{what}"),
        "version": JSON_SCHEMA_VERSION,
    });
    if let (Some(doc), Value::Object(fields)) = (doc.as_object_mut(), fields) {
        doc.extend(fields);
    }
    doc
}

pub fn print_json(doc: &Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(doc)?)?;
    Ok(())
}

/// "1 read", "2 reads".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_under_their_headers() {
        let mut t = Table::new(&["NAME", "N", "NOTE"]).right(&["N"]);
        t.row(vec!["a".into(), "1".into(), "x".into()]);
        t.row(vec!["longer".into(), "100".into(), "".into()]);
        let mut out = Vec::new();
        t.print(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME      N  NOTE\na         1  x\nlonger  100\n"
        );
    }
}
