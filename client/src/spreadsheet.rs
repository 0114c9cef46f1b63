//! CSV for people to open in spreadsheets. A cell that starts with `=`,
//! `+`, `-`, `@`, tab or carriage return is read by Excel, LibreOffice and
//! Google Sheets as a formula, so a hub named `=HYPERLINK("http://x","y")`
//! would become a live link (or worse) on a coordinator's screen: CSV
//! injection. Every CSV the node and the client write goes through
//! [`write_row`], which prefixes such cells with a single quote, as OWASP
//! recommends; the importer takes the quote off again ([`restore`]), so
//! an export imports back unchanged.

use std::borrow::Cow;

/// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A plain decimal number such as `-3.0265` or `+44`: starts with a sign
/// but computes nothing, so it is left alone (longitudes stay numbers).
fn plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `cell`, once any leading quotes are taken off, would be a
/// formula. Cells that already start with quotes before a formula start
/// get one more, so [`restore`] gives back exactly what was written.
fn needs_quote(cell: &str) -> bool {
    let rest = cell.trim_start_matches('\'');
    rest.starts_with(FORMULA_START) && !plain_number(rest)
}

/// The cell as written to a CSV file: prefixed with `'` when a spreadsheet
/// would take it for a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as it was before [`neutralise`]: for reading CSV back.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

/// Writes one record with every cell neutralised: the one way the node and
/// the client write CSV rows (headers included, for uniformity).
pub fn write_row<W, I, T>(writer: &mut csv::Writer<W>, row: I) -> csv::Result<()>
where
    W: std::io::Write,
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    writer.write_record(
        row.into_iter()
            .map(|cell| neutralise(cell.as_ref()).into_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_restored() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+44 1253 477 477", "'+44 1253 477 477"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("'=1", "''=1"),
            ("''@x", "'''@x"),
            ("-", "'-"),
            ("-3.0265", "-3.0265"),
            ("+3", "+3"),
            ("53.8", "53.8"),
            ("'quoted'", "'quoted'"),
            ("Food bank", "Food bank"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), written, "{cell:?}");
            assert_eq!(restore(written), cell, "{written:?}");
        }
    }

    #[test]
    fn rows_are_written_neutralised() {
        let mut w = csv::Writer::from_writer(Vec::new());
        write_row(&mut w, ["=HYPERLINK(\"http://x\",\"y\")", "-1.5"]).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(text, "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-1.5\n");
    }
}
