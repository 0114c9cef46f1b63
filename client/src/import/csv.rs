//! CSV import: one service per row, with the columns a hub's spreadsheet is
//! likely to have. Header names are matched without regard to case.

use signpost_spec::{
    AccessRoute, Address, Language, Location, Organization, Phone, Schedule, Service,
    ServiceStatus, TaxonomyTerm,
};

use crate::error::{Error, Result};

/// The columns understood, with what each holds (shown in errors and docs).
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "id",
        "the service's UUID, to update an existing service (optional)",
    ),
    ("name", "the service's name (required)"),
    ("description", "what the service offers"),
    ("status", "active, inactive, defunct or temporarily closed"),
    ("organization", "who runs it, when not the hub"),
    ("url", "web page, starting http:// or https://"),
    ("email", "contact email"),
    ("phone", "contact phone number"),
    ("eligibility", "who it is for"),
    ("minimum_age", "youngest age it is for, in years, e.g. 16"),
    ("maximum_age", "oldest age it is for, in years, e.g. 25"),
    ("fees", "what it costs"),
    ("application_process", "how to get it, in words"),
    ("access", "walk-in; self-referral; professional-referral"),
    ("location_name", "name of the place"),
    ("address_1", "first line of the address"),
    ("address_2", "second line of the address"),
    ("city", "town or city"),
    ("postal_code", "postcode"),
    ("country", "two-letter code, e.g. GB"),
    ("latitude", "e.g. 53.8008"),
    ("longitude", "e.g. -3.0265"),
    ("opening_hours", "e.g. MO,WE 09:00-12:00; SA 10:00-14:00"),
    ("taxonomy", "categories separated by ; e.g. Food; Advice"),
    ("languages", "language codes separated by ; e.g. en; ro"),
    (
        "assured_date",
        "date the entry was last checked, YYYY-MM-DD",
    ),
];

/// Other names people give the columns (compared without case, spaces,
/// underscores, dashes or punctuation), each with the column it means.
const ALIASES: &[(&str, &str)] = &[
    ("service", "name"),
    ("servicename", "name"),
    ("nameofservice", "name"),
    ("title", "name"),
    ("activity", "name"),
    ("details", "description"),
    ("about", "description"),
    ("whatweoffer", "description"),
    ("runby", "organization"),
    ("organisation", "organization"),
    ("provider", "organization"),
    ("website", "url"),
    ("webaddress", "url"),
    ("web", "url"),
    ("link", "url"),
    ("emailaddress", "email"),
    ("telephone", "phone"),
    ("tel", "phone"),
    ("phonenumber", "phone"),
    ("contactnumber", "phone"),
    ("whoitisfor", "eligibility"),
    ("whoisitfor", "eligibility"),
    ("eligibilitydescription", "eligibility"),
    ("agefrom", "minimum_age"),
    ("minage", "minimum_age"),
    ("ageto", "maximum_age"),
    ("maxage", "maximum_age"),
    ("cost", "fees"),
    ("price", "fees"),
    ("charges", "fees"),
    ("howtoaccess", "application_process"),
    ("howtoapply", "application_process"),
    ("referral", "access"),
    ("venue", "location_name"),
    ("place", "location_name"),
    ("location", "location_name"),
    ("address", "address_1"),
    ("addressline1", "address_1"),
    ("street", "address_1"),
    ("addressline2", "address_2"),
    ("town", "city"),
    ("towncity", "city"),
    ("postcode", "postal_code"),
    ("zip", "postal_code"),
    ("lat", "latitude"),
    ("lon", "longitude"),
    ("lng", "longitude"),
    ("long", "longitude"),
    ("openingtimes", "opening_hours"),
    ("openinghours", "opening_hours"),
    ("hours", "opening_hours"),
    ("times", "opening_hours"),
    ("whenopen", "opening_hours"),
    ("category", "taxonomy"),
    ("categories", "taxonomy"),
    ("typeofsupport", "taxonomy"),
    ("supporttype", "taxonomy"),
    ("language", "languages"),
    ("lastchecked", "assured_date"),
    ("checked", "assured_date"),
];

/// A header as compared: letters and digits only, lower case (so `Post
/// code` and `postcode` are the same header).
fn normalised(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The column a header names, if any (`Post code`, `Postcode` and
/// `postal_code` all name `postal_code`).
pub fn column_for(header: &str) -> Option<&'static str> {
    let key = normalised(header);
    COLUMNS
        .iter()
        .map(|(c, _)| *c)
        .find(|c| c.replace('_', "") == key)
        .or_else(|| ALIASES.iter().find(|(a, _)| *a == key).map(|(_, c)| *c))
}

/// The known column called `name`, as the `'static` name [`COLUMNS`] has.
pub fn known_column(name: &str) -> Option<&'static str> {
    COLUMNS.iter().map(|(c, _)| *c).find(|c| *c == name)
}

/// Most named columns a [`Mapping`] may hold (a cap on what a form or a
/// stored mapping may carry).
pub const MAX_MAPPED_COLUMNS: usize = 100;

/// What each column of a file is read as, in the order of the header
/// row's named cells: (the header as the file names it, the column it is
/// read as, or None to leave it out). A volunteer may choose it on the
/// admin page's preview; it is remembered by its [`Mapping::layout`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mapping(pub Vec<(String, Option<String>)>);

impl Mapping {
    /// The layout this mapping is for: the normalised header names, in
    /// order, so the same spreadsheet saved again has the same layout.
    pub fn layout(&self) -> String {
        layout_of(self.0.iter().map(|(h, _)| h.as_str()))
    }

    /// Checks the mapping names only known columns, within
    /// [`MAX_MAPPED_COLUMNS`].
    pub fn check(&self) -> Result<()> {
        if self.0.len() > MAX_MAPPED_COLUMNS {
            return Err(err(
                "column choices",
                format!("more than {MAX_MAPPED_COLUMNS} columns"),
            ));
        }
        for (header, column) in &self.0 {
            if let Some(c) = column {
                if known_column(c).is_none() {
                    return Err(err(
                        &format!("column {header}"),
                        format!("{c:?} is not a column Signpost knows"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The layout key of a header row's named cells (see [`Mapping::layout`]).
fn layout_of<'a>(headers: impl Iterator<Item = &'a str>) -> String {
    headers.map(normalised).collect::<Vec<_>>().join("|")
}

/// The named cells of a header row, as shown (byte order mark and spaces
/// trimmed), each with its place in the row.
fn named_cells(row: &[String]) -> Vec<(usize, &str)> {
    row.iter()
        .enumerate()
        .map(|(i, h)| (i, h.trim_start_matches('\u{feff}').trim()))
        .filter(|(_, h)| !h.is_empty())
        .collect()
}

/// True when `row` is the header row: the one whose layout is the
/// mapping's, or without a mapping, the first naming a `name` column.
pub fn is_header_row(row: &[String], mapping: Option<&Mapping>) -> bool {
    match mapping {
        Some(m) => layout_of(named_cells(row).into_iter().map(|(_, h)| h)) == m.layout(),
        None => row.iter().any(|h| column_for(h) == Some("name")),
    }
}

/// Something a person should look at after an import: a column left out,
/// or a cell read only in part.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Note {
    /// The file's line or sheet row (1 is the first).
    pub line: usize,
    /// The column, as the file names it.
    pub column: String,
    /// What was done.
    pub message: String,
}

/// What an import read from a spreadsheet.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// One service per row (ids empty where the file gave none).
    pub services: Vec<Service>,
    /// What the file's headers were read as: (header, column).
    pub mapping: Vec<(String, String)>,
    /// Every named column of the header row and what it was read as
    /// (None: left out), to show and to choose again.
    pub columns: Mapping,
    /// Columns left out, cells kept only as words, rows skipped.
    pub notes: Vec<Note>,
}

/// Most rows looked at for the header row (a title may stand above it).
const MAX_TITLE_ROWS: usize = 10;

/// Parses CSV bytes into services (ids empty where the file gave none).
pub fn parse(bytes: &[u8]) -> Result<Vec<Service>> {
    Ok(read(bytes)?.services)
}

/// Reads CSV bytes (comma, semicolon or tab separated; a byte order mark
/// and Windows line ends are fine) into services, with notes.
pub fn read(bytes: &[u8]) -> Result<Sheet> {
    read_mapped(bytes, None)
}

/// Like [`read`], with the columns read as `mapping` says instead of as
/// their names suggest.
pub fn read_mapped(bytes: &[u8], mapping: Option<&Mapping>) -> Result<Sheet> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter(bytes))
        .has_headers(false)
        .trim(::csv::Trim::All)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| err(&format!("line {}", n + 1), e.to_string()))?;
        rows.push((n + 1, record.iter().map(str::to_owned).collect()));
    }
    from_rows(rows, mapping)
}

/// The separator of a CSV file: whichever of comma, semicolon and tab its
/// first line has most of, outside quotes.
fn delimiter(bytes: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in bytes.iter().take_while(|&&b| b != b'\n') {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

/// Services from a sheet's rows, each with its line: the header row is
/// the first (of the first few) that names a `name` column, or with a
/// `mapping`, the one of its layout; blank rows are skipped; unknown
/// columns are left out with a note, never a refusal.
pub fn from_rows(rows: Vec<(usize, Vec<String>)>, mapping: Option<&Mapping>) -> Result<Sheet> {
    if let Some(m) = mapping {
        m.check()?;
    }
    let filled = |row: &Vec<String>| row.iter().any(|c| !c.trim().is_empty());
    let header_at = rows
        .iter()
        .filter(|(_, row)| filled(row))
        .take(MAX_TITLE_ROWS)
        .position(|(_, row)| is_header_row(row, mapping));
    let Some(header_at) = header_at else {
        let message = match mapping {
            Some(_) => "no row has the columns the choices were made for; choose the file again".into(),
            None => "no row names a \"name\" column (the service's name); add a header row like name,description,postcode".into(),
        };
        return Err(err("header row", message));
    };
    let mut rows = rows
        .into_iter()
        .filter(|(_, row)| filled(row))
        .skip(header_at);
    let Some((header_line, headers)) = rows.next() else {
        return Err(err("file", "holds no rows".into()));
    };
    let mut sheet = Sheet::default();
    let mut index = std::collections::HashMap::new();
    for (k, (i, shown)) in named_cells(&headers).into_iter().enumerate() {
        let note = |message: String| Note {
            line: header_line,
            column: shown.to_owned(),
            message,
        };
        let (chosen, why) = match mapping {
            Some(m) => (
                m.0.get(k)
                    .and_then(|(_, c)| c.as_deref())
                    .and_then(known_column),
                "left out, as chosen",
            ),
            None => (column_for(shown), "left out: not a column Signpost knows"),
        };
        let read_as = match chosen {
            Some(column) if index.contains_key(column) => {
                sheet.notes.push(note(format!(
                    "left out: another column is already read as {column}"
                )));
                None
            }
            Some(column) => {
                index.insert(column, i);
                sheet.mapping.push((shown.to_owned(), column.to_owned()));
                Some(column.to_owned())
            }
            None => {
                sheet.notes.push(note(why.into()));
                None
            }
        };
        sheet.columns.0.push((shown.to_owned(), read_as));
    }
    if !index.contains_key("name") {
        return Err(err(
            "header row",
            "no column is read as the service's name; choose which column holds it".into(),
        ));
    }
    for (line, record) in rows {
        let get = |col: &str| -> Option<String> {
            index
                .get(col)
                .and_then(|&i| record.get(i))
                // Exports quote cells that look like formulas; unquote.
                .map(|v| crate::spreadsheet::restore(v.trim()))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let at = |col: &str| format!("line {line}, column {col}");
        let mut notes = Vec::new();
        sheet
            .services
            .push(row_to_service(&get, &at, Some(&mut notes))?);
        sheet
            .notes
            .extend(notes.into_iter().map(|(column, message)| Note {
                line,
                column,
                message,
            }));
    }
    Ok(sheet)
}

/// Reads an age cell: whole years from 0 to [`signpost_spec::MAX_AGE`].
fn age(cell: Option<String>, location: &str) -> Result<Option<u8>> {
    let Some(cell) = cell else {
        return Ok(None);
    };
    match cell.parse::<u8>() {
        Ok(years) if years <= signpost_spec::MAX_AGE => Ok(Some(years)),
        _ => Err(err(
            location,
            format!(
                "{cell:?} is not an age; write whole years from 0 to {}, e.g. 16",
                signpost_spec::MAX_AGE
            ),
        )),
    }
}

/// Builds a service from `(column, label, value)` triples, so CLI flags go
/// through the same rules as a CSV row; errors name the label.
pub fn row_from_fields(fields: &[(&str, &str, Option<&String>)]) -> Result<Service> {
    let find = |col: &str| fields.iter().find(|(name, _, _)| *name == col);
    let get = |col: &str| -> Option<String> {
        find(col)
            .and_then(|(_, _, v)| v.map(|v| v.trim().to_owned()))
            .filter(|v| !v.is_empty())
    };
    let at = |col: &str| {
        find(col)
            .map(|(_, label, _)| label.to_string())
            .unwrap_or_else(|| col.to_owned())
    };
    row_to_service(&get, &at, None)
}

fn err(location: &str, message: String) -> Error {
    Error::Import {
        location: location.to_owned(),
        message,
    }
}

fn row_to_service(
    get: &dyn Fn(&str) -> Option<String>,
    at: &dyn Fn(&str) -> String,
    notes: Option<&mut Vec<(String, String)>>,
) -> Result<Service> {
    let name = get("name").ok_or_else(|| err(&at("name"), "a service needs a name".into()))?;
    let status = match get("status").map(|s| s.to_lowercase()) {
        None => ServiceStatus::Active,
        Some(word) => word
            .parse::<ServiceStatus>()
            .map_err(|e| err(&at("status"), e.to_string()))?,
    };
    let access = split_list(get("access"))
        .into_iter()
        .map(|a| {
            parse_access(&a).ok_or_else(|| {
                err(
                    &at("access"),
                    format!("{a:?} is not walk-in, self-referral or professional-referral"),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let coordinate = |col: &str| -> Result<Option<f64>> {
        get(col)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| err(&at(col), format!("{v:?} is not a number")))
            })
            .transpose()
    };
    let latitude = coordinate("latitude")?;
    let longitude = coordinate("longitude")?;
    let address = Address {
        address_1: get("address_1"),
        address_2: get("address_2"),
        city: get("city"),
        postal_code: get("postal_code"),
        country: get("country"),
        ..Address::default()
    };
    let has_place =
        address != Address::default() || latitude.is_some() || get("location_name").is_some();
    let locations = if has_place {
        vec![Location {
            id: String::new(),
            name: get("location_name"),
            description: None,
            address: (address != Address::default()).then_some(address),
            latitude,
            longitude,
            accessibility: None,
        }]
    } else {
        Vec::new()
    };
    let mut description = get("description");
    let schedules = match (get("opening_hours"), notes) {
        (None, _) => Vec::new(),
        (Some(text), None) => {
            parse_opening_hours(&text).map_err(|m| err(&at("opening_hours"), m))?
        }
        // From a file: what cannot be read is kept as words for people
        // and flagged, never a reason to refuse the rest.
        (Some(text), Some(notes)) => parse_opening_hours(&text).unwrap_or_else(|reason| {
            notes.push((
                "opening_hours".into(),
                format!("kept as words in the description: {reason}"),
            ));
            let kept = format!("Opening times: {text}");
            description = Some(match description.take() {
                Some(d) => format!("{d}\n\n{kept}"),
                None => kept,
            });
            Vec::new()
        }),
    };
    Ok(Service {
        id: get("id").unwrap_or_default(),
        name,
        description,
        status,
        organization: get("organization").map(|name| Organization {
            id: None,
            name,
            description: None,
            website: None,
            email: None,
        }),
        url: get("url"),
        email: get("email"),
        eligibility_description: get("eligibility"),
        minimum_age: age(get("minimum_age"), &at("minimum_age"))?,
        maximum_age: age(get("maximum_age"), &at("maximum_age"))?,
        fees_description: get("fees"),
        application_process: get("application_process"),
        access,
        assured_date: get("assured_date"),
        languages: split_list(get("languages"))
            .into_iter()
            .map(|code| Language {
                name: None,
                code: Some(code),
                note: None,
            })
            .collect(),
        service_areas: Vec::new(),
        locations,
        phones: get("phone")
            .map(|number| Phone {
                number,
                kind: None,
                description: None,
            })
            .into_iter()
            .collect(),
        contacts: Vec::new(),
        schedules,
        taxonomy_terms: split_list(get("taxonomy"))
            .into_iter()
            .map(|name| TaxonomyTerm {
                code: None,
                name,
                taxonomy: None,
            })
            .collect(),
    })
}

fn split_list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses an access route as people write it.
pub fn parse_access(word: &str) -> Option<AccessRoute> {
    match word.trim().to_lowercase().replace([' ', '_'], "-").as_str() {
        "walk-in" | "walkin" | "drop-in" => Some(AccessRoute::WalkIn),
        "self-referral" | "self" => Some(AccessRoute::SelfReferral),
        "professional-referral" | "referral" => Some(AccessRoute::ProfessionalReferral),
        _ => None,
    }
}

/// Reads opening times as people write them (see [`super::hours`]).
pub fn parse_opening_hours(text: &str) -> std::result::Result<Vec<Schedule>, String> {
    super::hours::read(text)
}

/// Opening hours in the compact form [`parse_opening_hours`] reads.
pub fn format_opening_hours(schedules: &[Schedule]) -> String {
    super::hours::compact(schedules)
}

/// One service as a row of [`COLUMNS`] (the first location and phone;
/// lists joined with `; `), so an export can be imported again.
pub fn service_row(s: &Service) -> Vec<String> {
    let location = s.locations.first();
    let address = location.and_then(|l| l.address.clone()).unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<f64>| v.map(|f| f.to_string()).unwrap_or_default();
    let access: Vec<&str> = s
        .access
        .iter()
        .map(|a| match a {
            AccessRoute::WalkIn => "walk-in",
            AccessRoute::SelfReferral => "self-referral",
            AccessRoute::ProfessionalReferral => "professional-referral",
        })
        .collect();
    let status = s.status.as_str();
    COLUMNS
        .iter()
        .map(|(column, _)| match *column {
            "id" => s.id.clone(),
            "name" => s.name.clone(),
            "description" => text(&s.description),
            "status" => status.to_owned(),
            "organization" => s
                .organization
                .as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            "url" => text(&s.url),
            "email" => text(&s.email),
            "phone" => s
                .phones
                .first()
                .map(|p| p.number.clone())
                .unwrap_or_default(),
            "eligibility" => text(&s.eligibility_description),
            "minimum_age" => s.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
            "maximum_age" => s.maximum_age.map(|a| a.to_string()).unwrap_or_default(),
            "fees" => text(&s.fees_description),
            "application_process" => text(&s.application_process),
            "access" => access.join("; "),
            "location_name" => location.and_then(|l| l.name.clone()).unwrap_or_default(),
            "address_1" => text(&address.address_1),
            "address_2" => text(&address.address_2),
            "city" => text(&address.city),
            "postal_code" => text(&address.postal_code),
            "country" => text(&address.country),
            "latitude" => number(location.and_then(|l| l.latitude)),
            "longitude" => number(location.and_then(|l| l.longitude)),
            "opening_hours" => format_opening_hours(&s.schedules),
            "taxonomy" => s
                .taxonomy_terms
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            "languages" => s
                .languages
                .iter()
                .filter_map(|l| l.code.clone().or_else(|| l.name.clone()))
                .collect::<Vec<_>>()
                .join("; "),
            "assured_date" => text(&s.assured_date),
            _ => String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spreadsheet::write_row;

    #[test]
    fn reads_a_spreadsheet_row() {
        let csv = "Name,Description,Opening_Hours,Latitude,Longitude,Postal_Code,Taxonomy,Access,Minimum_Age,Maximum_Age\n\
                   Food pantry,Low-cost groceries,\"TU,TH 10:00-13:00; SA 10:00-12:00\",53.8069,-3.0135,FY3 7TN,Food; Pantry,walk-in,16,\n";
        let services = parse(csv.as_bytes()).unwrap();
        assert_eq!(services.len(), 1);
        // Written back as a row of COLUMNS, it reads the same.
        let mut out = ::csv::Writer::from_writer(Vec::new());
        write_row(&mut out, COLUMNS.iter().map(|(c, _)| *c)).unwrap();
        write_row(&mut out, service_row(&services[0])).unwrap();
        let again = parse(&out.into_inner().unwrap()).unwrap();
        assert_eq!(again, services);
        let s = &services[0];
        assert_eq!(s.name, "Food pantry");
        assert_eq!(s.schedules.len(), 2);
        assert_eq!(s.schedules[0].byday, "TU,TH");
        assert_eq!(s.locations[0].latitude, Some(53.8069));
        assert_eq!(s.taxonomy_terms.len(), 2);
        assert_eq!(s.access, vec![AccessRoute::WalkIn]);
        assert_eq!((s.minimum_age, s.maximum_age), (Some(16), None));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse(b"name,latitude\nCafe,north\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2, column latitude"), "{e}");
        for bad in ["sixteen", "-1", "16.5", "121"] {
            let e = parse(format!("name,minimum_age\nCafe,{bad}\n").as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("line 2, column minimum_age") && e.contains("whole years"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_messy_spreadsheet_is_read_with_notes_not_refused() {
        // A byte order mark, semicolons, Windows line ends, a title row
        // above the header, a blank row, other names for the columns, a
        // column we do not know, and hours nobody could read.
        let csv = "\u{feff}Services at Revoe Hub;;;;\r\n\
                   ;;;;\r\n\
                   Service;Post code;Telephone;Opening times;Notes\r\n\
                   Job Club;FY1 6JH;01253 000001;Mon-Fri 9am-5pm;ask for Sam\r\n\
                   ;;;;\r\n\
                   Food bank;FY3 7TN;;by appointment;\r\n";
        let sheet = read(csv.as_bytes()).unwrap();
        assert_eq!(sheet.services.len(), 2);
        let job = &sheet.services[0];
        assert_eq!(job.name, "Job Club");
        assert_eq!(
            job.locations[0]
                .address
                .as_ref()
                .unwrap()
                .postal_code
                .as_deref(),
            Some("FY1 6JH")
        );
        assert_eq!(job.phones[0].number, "01253 000001");
        assert_eq!(
            format_opening_hours(&job.schedules),
            "MO,TU,WE,TH,FR 09:00-17:00"
        );
        let food = &sheet.services[1];
        assert!(food.schedules.is_empty());
        assert_eq!(
            food.description.as_deref(),
            Some("Opening times: by appointment")
        );
        assert_eq!(
            sheet
                .mapping
                .iter()
                .map(|(_, c)| c.as_str())
                .collect::<Vec<_>>(),
            ["name", "postal_code", "phone", "opening_hours"]
        );
        let notes: Vec<(usize, &str)> = sheet
            .notes
            .iter()
            .map(|n| (n.line, n.column.as_str()))
            .collect();
        assert_eq!(notes, [(3, "Notes"), (6, "opening_hours")]);
    }

    #[test]
    fn headers_are_recognised_by_their_common_names() {
        for (header, column) in [
            ("Postcode", "postal_code"),
            ("Post code", "postal_code"),
            ("postal_code", "postal_code"),
            ("Telephone", "phone"),
            ("Phone number", "phone"),
            ("Website", "url"),
            ("Web address", "url"),
            ("Opening times", "opening_hours"),
            ("Hours", "opening_hours"),
            ("Category", "taxonomy"),
            ("Type of support", "taxonomy"),
            ("Who it is for", "eligibility"),
            ("Who is it for?", "eligibility"),
        ] {
            assert_eq!(column_for(header), Some(column), "{header}");
        }
        assert_eq!(column_for("Notes"), None);
    }
}
