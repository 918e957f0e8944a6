//! What every file import shares: errors that name the file, line and field,
//! and a CSV reader that checks the header and keeps line numbers.
//!
//! Imports are all-or-nothing: parsers return the whole file's contents or
//! the first [`ImportError`], and only then does anything reach the database.

use std::collections::HashMap;
use std::fmt;

/// What is wrong with an imported file, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// The file's name as the person gave it.
    pub file: String,
    /// The 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// The column or property, when the problem is in one.
    pub field: Option<String>,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ImportError {}

/// An uploaded file's bytes as text, refusing one that is too large or is
/// not UTF-8 (what "Save as CSV UTF-8" produces) with a message naming it.
pub fn uploaded_text(
    bytes: &[u8],
    file: &str,
    field: &'static str,
    max_bytes: usize,
) -> crate::error::Result<String> {
    if bytes.len() > max_bytes {
        return Err(crate::error::Error::invalid(
            field,
            format!("{file} is larger than {} KB", max_bytes / 1024),
        ));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| crate::error::Error::invalid(field, not_utf8(file)))
}

/// What to say of a file that is not UTF-8: most often Excel's plain "CSV"
/// (Windows-1252), and the fix is one choice in its Save As box.
pub fn not_utf8(file: &str) -> String {
    format!(
        "{file} is not UTF-8 text (Excel's plain \"CSV\" is saved as Windows-1252). In Excel choose \
         File → Save As → \"CSV UTF-8 (Comma delimited) (*.csv)\"; in Google Sheets, File → Download → \
         Comma-separated values"
    )
}

/// The file being read, for building errors.
pub(crate) struct FileCtx<'a> {
    pub file: &'a str,
}

impl FileCtx<'_> {
    pub fn err(
        &self,
        line: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> ImportError {
        ImportError {
            file: self.file.to_owned(),
            line,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

/// What a CSV's header must be.
pub(crate) enum Header<'a> {
    /// These columns, in this order, and no others.
    Exactly(&'a [&'a str]),
    /// At least these columns, in any order (exports with many more).
    Includes(&'a [&'a str]),
}

/// One data row and its line in the file.
pub(crate) struct CsvRow {
    /// 1-based line number.
    pub line: usize,
    /// The cells, trimmed.
    pub cells: Vec<String>,
}

/// A CSV file read whole.
pub(crate) struct Csv {
    columns: HashMap<String, usize>,
    /// Its data rows (blank lines skipped).
    pub rows: Vec<CsvRow>,
}

impl Csv {
    /// The cell of `row` in column `name` (empty if the row is short).
    pub fn cell<'r>(&self, row: &'r CsvRow, name: &str) -> &'r str {
        self.columns
            .get(name)
            .and_then(|i| row.cells.get(*i))
            .map_or("", String::as_str)
    }
}

/// The 1-based line a byte offset falls on. (The csv crate counts records,
/// not lines, so blank lines and CRLF endings would throw its count off.)
fn line_at(text: &str, byte: u64) -> usize {
    let bytes = text.as_bytes();
    let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    // A record's position can be the line ending (and blank lines) before it.
    while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
        end += 1;
    }
    1 + bytes[..end].iter().filter(|b| **b == b'\n').count()
}

/// Checks a CSV's (lowercased) header; returns the number of columns every
/// row must have when the header is exact.
fn check_header(
    ctx: &FileCtx<'_>,
    found: &[String],
    header: Header<'_>,
) -> Result<Option<usize>, ImportError> {
    match header {
        Header::Exactly(expected) => {
            if found != expected {
                return Err(ctx.err(
                    Some(1),
                    None,
                    format!(
                        "the header must be `{}` (found `{}`)",
                        expected.join(","),
                        found.join(",")
                    ),
                ));
            }
            Ok(Some(expected.len()))
        }
        Header::Includes(required) => {
            if let Some(missing) = required.iter().find(|r| !found.iter().any(|f| f == *r)) {
                return Err(ctx.err(
                    Some(1),
                    Some(missing),
                    format!("the header has no `{missing}` column"),
                ));
            }
            Ok(None)
        }
    }
}

/// Reads a CSV (a leading byte-order mark, as Excel writes, is ignored) and
/// checks its header. Column names are compared case-insensitively.
pub(crate) fn read_csv(
    ctx: &FileCtx<'_>,
    text: &str,
    header: Header<'_>,
) -> Result<Csv, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let found: Vec<String> = reader
        .headers()
        .map_err(|e| ctx.err(Some(1), None, format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    if let [only] = &found[..]
        && let Some(sep) = [';', '\t'].into_iter().find(|c| only.contains(*c))
    {
        let named = if sep == ';' { "semicolons" } else { "tabs" };
        return Err(ctx.err(
            Some(1),
            None,
            format!(
                "the columns are separated by {named}, not commas (Excel does this where a comma is \
                 the decimal mark). Save it as \"CSV UTF-8 (Comma delimited)\", or set the list \
                 separator to a comma"
            ),
        ));
    }
    let exact = check_header(ctx, &found, header)?;
    let columns = found
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i))
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| line_at(text, p.byte()));
            ctx.err(line, None, format!("not valid CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| line_at(text, p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if let Some(n) = exact
            && record.len() != n
        {
            return Err(ctx.err(
                Some(line),
                None,
                format!(
                    "expected {n} columns ({}), found {}",
                    found.join(","),
                    record.len()
                ),
            ));
        }
        // A quoted cell can hold a line break; no name or label may.
        for (i, cell) in record.iter().enumerate() {
            if let Some(problem) = crate::text::one_line_problem(cell) {
                let column = found.get(i).map_or("", String::as_str);
                return Err(ctx.err(Some(line), Some(column), problem));
            }
        }
        rows.push(CsvRow {
            line,
            cells: record.iter().map(str::to_owned).collect(),
        });
    }
    if rows.is_empty() {
        return Err(ctx.err(None, None, "the file has a header but no rows"));
    }
    Ok(Csv { columns, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_with_a_line_break_is_refused_naming_its_line_and_column() {
        let ctx = FileCtx { file: "roster.csv" };
        let text =
            "given_name,family_name\nAda,Lovelace\n\"Grace\r\nBcc: all@example.org\",Hopper\n";
        let err = read_csv(&ctx, text, Header::Exactly(&["given_name", "family_name"]))
            .err()
            .expect("refused");
        assert_eq!(err.line, Some(3), "{err}");
        assert_eq!(err.field.as_deref(), Some("given_name"));
        assert!(err.message.contains("line break"), "{err}");
    }
}
