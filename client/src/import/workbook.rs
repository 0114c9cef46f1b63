//! Excel (`.xlsx`, `.xls`) and LibreOffice (`.ods`) workbooks, read with
//! calamine (the maintained pure-Rust spreadsheet reader) into the same
//! rows a CSV file gives, so both go through one reading of columns,
//! hours and notes ([`super::csv::from_rows`]).

use std::io::Cursor;

use calamine::{open_workbook_auto_from_rs, Data, Reader};

use super::csv::{from_rows, is_header_row, Mapping, Sheet};
use crate::error::{Error, Result};

fn err(location: &str, message: impl Into<String>) -> Error {
    Error::Import {
        location: location.to_owned(),
        message: message.into(),
    }
}

/// Most bytes a workbook's parts may unpack to. An upload is capped at a
/// few MiB, but a zip file (`.xlsx`, `.ods`) can unpack a thousandfold (a
/// "zip bomb"); a real hub's sheet of services unpacks to well under this.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// Most parts a workbook's zip file may hold.
const MAX_PARTS: usize = 10_000;

/// Refuses a zip-based workbook whose parts would unpack to more than
/// `max` bytes in all (as their headers declare; the zip reader stops at
/// the declared size), before calamine unpacks anything. Other files
/// (`.xls` is not a zip) pass through to calamine.
fn check_unpacked(bytes: &[u8], max: u64) -> Result<()> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return Ok(());
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        err(
            "file",
            format!("is not a spreadsheet Signpost can read: {e}"),
        )
    })?;
    if archive.len() > MAX_PARTS {
        return Err(err(
            "file",
            format!("holds more than {MAX_PARTS} parts; save it again as a plain workbook or CSV"),
        ));
    }
    // Sizes from the central directory (known even when a part's local
    // header defers them to a data descriptor).
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let size = archive
            .by_index_raw(i)
            .map_err(|e| {
                err(
                    "file",
                    format!("is not a spreadsheet Signpost can read: {e}"),
                )
            })?
            .size();
        total = total.saturating_add(size);
    }
    if total > max {
        return Err(err(
            "file",
            format!(
                "would unpack to {} MiB, more than the {} MiB a workbook may hold; \
                 save the sheet of services on its own, or as CSV",
                total / (1024 * 1024),
                max / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// The names of a workbook's sheets, in order (for choosing one).
pub fn sheet_names(bytes: &[u8]) -> Result<Vec<String>> {
    check_unpacked(bytes, MAX_UNPACKED_BYTES)?;
    let workbook = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        err(
            "file",
            format!("is not a spreadsheet Signpost can read: {e}"),
        )
    })?;
    Ok(workbook.sheet_names())
}

/// Reads one sheet of a workbook: the one named `sheet`, or else the
/// first whose header row names a `name` column (a cover sheet or notes
/// sheet before it is passed over).
pub fn read(bytes: &[u8], sheet: Option<&str>) -> Result<Sheet> {
    read_mapped(bytes, sheet, None)
}

/// Like [`read`], with the columns read as `mapping` says (and the sheet,
/// when not named, the first with the mapping's header row).
pub fn read_mapped(bytes: &[u8], sheet: Option<&str>, mapping: Option<&Mapping>) -> Result<Sheet> {
    check_unpacked(bytes, MAX_UNPACKED_BYTES)?;
    let mut workbook = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        err(
            "file",
            format!("is not a spreadsheet Signpost can read: {e}"),
        )
    })?;
    let names = workbook.sheet_names();
    let listed = || names.join(", ");
    let candidates: Vec<String> = match sheet {
        Some(wanted) => {
            let found = names
                .iter()
                .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
                .ok_or_else(|| {
                    err(
                        "sheet",
                        format!("there is no sheet {wanted:?}; the sheets are: {}", listed()),
                    )
                })?;
            vec![found.clone()]
        }
        None => names.clone(),
    };
    for name in &candidates {
        let range = workbook
            .worksheet_range(name)
            .map_err(|e| err(&format!("sheet {name:?}"), e.to_string()))?;
        let first_row = range.start().map_or(0, |(row, _)| row as usize);
        let rows: Vec<(usize, Vec<String>)> = range
            .rows()
            .enumerate()
            .map(|(i, row)| (first_row + i + 1, row.iter().map(cell_text).collect()))
            .collect();
        let has_header = rows
            .iter()
            .take(20)
            .any(|(_, row)| is_header_row(row, mapping));
        if has_header || sheet.is_some() {
            return from_rows(rows, mapping).map_err(|e| match e {
                Error::Import { location, message } => Error::Import {
                    location: format!("sheet {name:?}, {location}"),
                    message,
                },
                other => other,
            });
        }
    }
    Err(err(
        "file",
        format!(
            "no sheet has a header row with a \"name\" column; the sheets are: {}",
            listed()
        ),
    ))
}

/// A cell as the words a person sees: whole numbers without a decimal
/// point, dates as `YYYY-MM-DD`, times of day as `HH:MM`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::Float(f) => number_text(*f),
        Data::DateTime(d) => serial_text(d.as_f64()),
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// A spreadsheet date-time serial (days since 1899-12-30, the fraction
/// the time of day) as a date, a time, or both.
fn serial_text(serial: f64) -> String {
    let days = serial.trunc() as i64;
    let minutes = ((serial.fract() * 1440.0).round() as i64).clamp(0, 1439);
    let time = format!("{:02}:{:02}", minutes / 60, minutes % 60);
    if days == 0 {
        return time;
    }
    let date = jiff::civil::date(1899, 12, 30)
        .checked_add(jiff::Span::new().days(days))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| number_text(serial));
    if minutes == 0 {
        date
    } else {
        format!("{date} {time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_that_unpacks_past_the_cap_is_refused_before_it_is_read() {
        use std::io::Write;
        let mut zipped = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut zipped);
            w.start_file(
                "xl/worksheets/sheet1.xml",
                zip::write::SimpleFileOptions::default(),
            )
            .expect("part");
            // 2 MiB of one byte: a few KiB once compressed.
            w.write_all(&vec![b'a'; 2 * 1024 * 1024]).expect("write");
            w.finish().expect("finish");
        }
        let bytes = zipped.into_inner();
        assert!(
            bytes.len() < 64 * 1024,
            "compressed to {} bytes",
            bytes.len()
        );
        let refused = check_unpacked(&bytes, 1024 * 1024).expect_err("over the cap");
        assert!(
            refused.to_string().contains("would unpack to 2 MiB"),
            "{refused}"
        );
        check_unpacked(&bytes, 4 * 1024 * 1024).expect("under the cap");
        // Not a zip (an .xls or anything else): left to calamine.
        check_unpacked(b"\xd0\xcf\x11\xe0", 1).expect("not a zip");
    }

    #[test]
    fn serials_read_as_dates_and_times() {
        assert_eq!(serial_text(0.375), "09:00");
        assert_eq!(serial_text(46_037.0), "2026-01-15");
        assert_eq!(number_text(16.0), "16");
        assert_eq!(number_text(53.8069), "53.8069");
    }
}
