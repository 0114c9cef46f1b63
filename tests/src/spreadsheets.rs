//! Messy spreadsheets as hubs keep them, written for the import tests:
//! CSV with a byte order mark and semicolons, Excel workbooks with two
//! sheets and a title row above the header, LibreOffice files, blank rows
//! and free-text opening times in many styles. Each comes with what an
//! import must make of it.

use std::io::{Cursor, Write};

/// A cell: words, or a number as a spreadsheet stores it.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Empty,
}

/// One sheet: its name and rows.
pub struct SheetRows<'a> {
    pub name: &'a str,
    pub rows: Vec<Vec<Cell<'a>>>,
}

/// A file to import and what it must give.
pub struct Fixture {
    /// The file name (its extension says the kind).
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// (service name, opening times in the compact form) for each row,
    /// in order.
    pub services: Vec<(&'static str, &'static str)>,
    /// Columns (as the file names them) an import must list as left out
    /// or flagged.
    pub flagged: Vec<&'static str>,
}

/// An `.xlsx` workbook of these sheets.
pub fn xlsx(sheets: &[SheetRows<'_>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(sheet.name).expect("sheet name");
        for (r, row) in sheet.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    Cell::Text(t) => {
                        ws.write_string(r, c, *t).expect("cell");
                    }
                    Cell::Number(n) => {
                        ws.write_number(r, c, *n).expect("cell");
                    }
                    Cell::Empty => {}
                }
            }
        }
    }
    book.save_to_buffer().expect("xlsx")
}

/// An OpenDocument spreadsheet (`.ods`) of these sheets: the zip of a
/// `mimetype`, a manifest and `content.xml`, as LibreOffice writes them.
pub fn ods(sheets: &[SheetRows<'_>]) -> Vec<u8> {
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut content = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3"><office:body><office:spreadsheet>"#,
    );
    for sheet in sheets {
        content.push_str(&format!(
            r#"<table:table table:name="{}">"#,
            escape(sheet.name)
        ));
        for row in &sheet.rows {
            content.push_str("<table:table-row>");
            for cell in row {
                match cell {
                    Cell::Text(t) => content.push_str(&format!(
                        r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                        escape(t)
                    )),
                    Cell::Number(n) => content.push_str(&format!(
                        r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
                    )),
                    Cell::Empty => content.push_str("<table:table-cell/>"),
                }
            }
            content.push_str("</table:table-row>");
        }
        content.push_str("</table:table>");
    }
    content.push_str("</office:spreadsheet></office:body></office:document-content>");
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default();
    zip.start_file("mimetype", stored).expect("mimetype");
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .expect("mimetype");
    zip.start_file("META-INF/manifest.xml", deflated)
        .expect("manifest");
    zip.write_all(manifest.as_bytes()).expect("manifest");
    zip.start_file("content.xml", deflated).expect("content");
    zip.write_all(content.as_bytes()).expect("content");
    zip.finish().expect("ods").into_inner()
}

use Cell::{Empty as E, Number as N, Text as T};

const WEEKDAYS_9_5: &str = "MO,TU,WE,TH,FR 09:00-17:00";

/// The fixture set: at least ten files, each messy in its own way.
pub fn fixtures() -> Vec<Fixture> {
    vec![
        Fixture {
            name: "01-bom-semicolons.csv",
            bytes: "\u{feff}Service;Post code;Opening times;Notes\r\nJob Club;FY1 6JH;Mon-Fri 9am-5pm;ask for Sam\r\nFood bank;FY3 7TN;Tues & Thurs 10-2;\r\n"
                .as_bytes()
                .to_vec(),
            services: vec![("Job Club", WEEKDAYS_9_5), ("Food bank", "TU,TH 10:00-14:00")],
            flagged: vec!["Notes"],
        },
        Fixture {
            name: "02-title-row-and-blank-rows.csv",
            bytes: b"Revoe Hub services (updated March),,\n,,\nName,Hours,Website\n,,\nCoffee morning,Weds 10.30am - 12pm,https://revoe.example.org\n,,\nLunch club,Daily 12 noon - 2pm,\n"
                .to_vec(),
            services: vec![
                ("Coffee morning", "WE 10:30-12:00"),
                ("Lunch club", "MO,TU,WE,TH,FR,SA,SU 12:00-14:00"),
            ],
            flagged: vec![],
        },
        Fixture {
            name: "03-tabs-and-24-hour.csv",
            bytes: b"name\ttelephone\topening_hours\nAdvice drop-in\t01253 000002\tMonday to Friday 09:00\xe2\x80\x9317:00\nEvening support\t\tMondays 18:00-01:00\n"
                .to_vec(),
            services: vec![
                ("Advice drop-in", WEEKDAYS_9_5),
                ("Evening support", "MO 18:00-01:00"),
            ],
            flagged: vec![],
        },
        Fixture {
            name: "04-unreadable-hours.csv",
            bytes: b"Service name,Opening hours,Type of support\nBefriending,By appointment,Wellbeing\nWarm space,Weekends 10am - 2pm,Warmth\n"
                .to_vec(),
            services: vec![("Befriending", ""), ("Warm space", "SA,SU 10:00-14:00")],
            flagged: vec!["opening_hours"],
        },
        Fixture {
            name: "05-several-sessions.csv",
            bytes: b"Name,When open,Who it is for\nYouth club,\"weekdays 9-12, 1-4\",11 to 18 year olds\nParent and toddler,\"Monday 10am-12pm, Wednesday 2pm-4pm\",\n"
                .to_vec(),
            services: vec![
                (
                    "Youth club",
                    "MO,TU,WE,TH,FR 09:00-12:00; MO,TU,WE,TH,FR 13:00-16:00",
                ),
                ("Parent and toddler", "MO 10:00-12:00; WE 14:00-16:00"),
            ],
            flagged: vec![],
        },
        Fixture {
            name: "06-two-sheets-title-row.xlsx",
            bytes: xlsx(&[
                SheetRows {
                    name: "Read me",
                    rows: vec![vec![T("This workbook lists our services. Keep it up to date!")]],
                },
                SheetRows {
                    name: "Services",
                    rows: vec![
                        vec![T("Community pantry services, spring")],
                        vec![],
                        vec![T("Service"), T("Postcode"), T("Latitude"), T("Longitude"), T("Opening times"), T("Age from")],
                        vec![T("Pantry"), T("FY3 7TN"), N(53.8069), N(-3.0135), T("Sat 10am-1pm; Sun closed"), N(16.0)],
                        vec![E, E, E, E, E, E],
                        vec![T("Fuel bank"), T("FY1 1PX"), E, E, T("Fri-Mon 11-3"), E],
                    ],
                },
            ]),
            services: vec![("Pantry", "SA 10:00-13:00"), ("Fuel bank", "MO,FR,SA,SU 11:00-15:00")],
            flagged: vec![],
        },
        Fixture {
            name: "07-extra-columns.xlsx",
            bytes: xlsx(&[SheetRows {
                name: "Sheet1",
                rows: vec![
                    vec![T("Name"), T("Internal ref"), T("Phone number"), T("Hours"), T("Last checked by")],
                    vec![T("Debt advice"), N(1042.0), T("01253 000003"), T("Tuesdays and Thursdays 1.30pm to 3.30pm"), T("Sam")],
                ],
            }]),
            services: vec![("Debt advice", "TU,TH 13:30-15:30")],
            flagged: vec!["Internal ref", "Last checked by"],
        },
        Fixture {
            name: "08-libreoffice.ods",
            bytes: ods(&[SheetRows {
                name: "Services",
                rows: vec![
                    vec![T("Service"), T("Town"), T("Opening times")],
                    vec![T("Men's shed"), T("Blackpool"), T("Thurs 9 a.m. till 12.30 p.m.")],
                    vec![T("Walking group"), T("Fleetwood"), T("Tue midday until 3pm")],
                ],
            }]),
            services: vec![("Men's shed", "TH 09:00-12:30"), ("Walking group", "TU 12:00-15:00")],
            flagged: vec![],
        },
        Fixture {
            name: "09-libreoffice-cover-sheet.ods",
            bytes: ods(&[
                SheetRows {
                    name: "Cover",
                    rows: vec![vec![T("Fylde Coast hubs")], vec![T("Contact the CVS with changes")]],
                },
                SheetRows {
                    name: "List",
                    rows: vec![
                        vec![E, E, E],
                        vec![T("Name"), T("Category"), T("Opening hours")],
                        vec![T("Digital help"), T("Digital; Advice"), T("Mon - Fri 9-5")],
                        vec![T("Night shelter"), T("Housing"), T("Wed 10pm - 2am")],
                    ],
                },
            ]),
            services: vec![("Digital help", WEEKDAYS_9_5), ("Night shelter", "WE 22:00-02:00")],
            flagged: vec![],
        },
        Fixture {
            name: "10-mixed-and-duplicate-columns.csv",
            bytes: b"Name,Phone,Telephone,Opening Times,Comments\nCarers' cafe,01253 000004,01253 999999,Mon: 9:30am - 12:30pm,first Monday only\nBaby bank,,,Closed Sundays; Mon-Sat 9-5,\n"
                .to_vec(),
            services: vec![
                ("Carers' cafe", "MO 09:30-12:30"),
                ("Baby bank", "MO,TU,WE,TH,FR,SA 09:00-17:00"),
            ],
            flagged: vec!["Telephone", "Comments"],
        },
    ]
}

/// A spreadsheet whose phone column has a name no import guesses
/// (`Mobile`), for the admin page's column mapping step: a volunteer maps
/// it to the phone field by hand.
pub fn unknown_phone_column() -> Fixture {
    Fixture {
        name: "11-mobile-column.csv",
        bytes: "Service;Mobile;Opening times\r\nBaby bank;07700 900123;Mon-Sat 9-5\r\n"
            .as_bytes()
            .to_vec(),
        services: vec![("Baby bank", "MO,TU,WE,TH,FR,SA 09:00-17:00")],
        flagged: vec!["Mobile"],
    }
}
