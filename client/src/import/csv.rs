//! CSV import: one service per row, with the columns a hub's spreadsheet is
//! likely to have. Header names are matched without regard to case.

use signpost_spec::{
    parse_byday, parse_time, AccessRoute, Address, Language, Location, Organization, Phone,
    Schedule, Service, ServiceStatus, TaxonomyTerm,
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

/// Parses CSV bytes into services (ids empty where the file gave none).
pub fn parse(bytes: &[u8]) -> Result<Vec<Service>> {
    let mut reader = ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| err("header row", e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let mut index = std::collections::HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if !COLUMNS.iter().any(|(c, _)| c == h) {
            let known: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
            return Err(err(
                "header row",
                format!(
                    "unknown column {h:?}; the columns are: {}",
                    known.join(", ")
                ),
            ));
        }
        if index.insert(h.clone(), i).is_some() {
            return Err(err("header row", format!("column {h:?} appears twice")));
        }
    }
    if !index.contains_key("name") {
        return Err(err("header row", "there must be a \"name\" column".into()));
    }
    let mut services = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| err(&format!("line {line}"), e.to_string()))?;
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
        services.push(row_to_service(&get, &at)?);
    }
    Ok(services)
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
    row_to_service(&get, &at)
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
) -> Result<Service> {
    let name = get("name").ok_or_else(|| err(&at("name"), "a service needs a name".into()))?;
    let status = match get("status").as_deref().map(str::to_lowercase).as_deref() {
        None | Some("active") => ServiceStatus::Active,
        Some("inactive") => ServiceStatus::Inactive,
        Some("defunct") => ServiceStatus::Defunct,
        Some("temporarily closed") => ServiceStatus::TemporarilyClosed,
        Some(other) => {
            return Err(err(
                &at("status"),
                format!("{other:?} is not active, inactive, defunct or temporarily closed"),
            ))
        }
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
    let schedules = match get("opening_hours") {
        Some(text) => parse_opening_hours(&text).map_err(|m| err(&at("opening_hours"), m))?,
        None => Vec::new(),
    };
    Ok(Service {
        id: get("id").unwrap_or_default(),
        name,
        description: get("description"),
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

/// Parses compact opening hours: `MO,WE 09:00-12:00; SA 10:00-14:00`.
pub fn parse_opening_hours(text: &str) -> std::result::Result<Vec<Schedule>, String> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (days, times) = part
            .split_once(' ')
            .ok_or_else(|| format!("{part:?} must look like MO,WE 09:00-12:00"))?;
        let days = days.to_ascii_uppercase();
        parse_byday(&days)?;
        let (opens, closes) = times
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("{times:?} must look like 09:00-12:00"))?;
        let (opens, closes) = (opens.trim(), closes.trim());
        parse_time(opens)?;
        parse_time(closes)?;
        out.push(Schedule {
            byday: days,
            opens_at: opens.to_owned(),
            closes_at: closes.to_owned(),
            valid_from: None,
            valid_to: None,
            description: None,
            location_id: None,
        });
    }
    Ok(out)
}

/// Opening hours in the compact form [`parse_opening_hours`] reads.
pub fn format_opening_hours(schedules: &[Schedule]) -> String {
    schedules
        .iter()
        .map(|s| format!("{} {}-{}", s.byday, s.opens_at, s.closes_at))
        .collect::<Vec<_>>()
        .join("; ")
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
    let status = match s.status {
        ServiceStatus::Active => "active",
        ServiceStatus::Inactive => "inactive",
        ServiceStatus::Defunct => "defunct",
        ServiceStatus::TemporarilyClosed => "temporarily closed",
    };
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
        let e = parse(b"name,colour\nCafe,red\n").unwrap_err().to_string();
        assert!(e.contains("unknown column \"colour\""), "{e}");
        let e = parse(b"name,opening_hours\nCafe,Monday 9-5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("opening_hours"), "{e}");
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
}
