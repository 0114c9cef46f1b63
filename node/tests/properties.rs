//! Properties of the node's parsers over generated input: CSV and HSDS
//! imports, feed cursors and search parameters never panic, and what is
//! written out reads back the same.

use std::collections::HashMap;

use proptest::prelude::*;
use signpost_client::search::SearchParams;
use signpost_client::spreadsheet::write_row;
use signpost_node::feed::FeedQuery;
use signpost_node::import::csv::{service_row, COLUMNS};
use signpost_node::import::{self, Format};
use signpost_spec::{Limits, Service};

/// Text cells as spreadsheets hold them: commas, quotes, new lines, accents.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 ,;\"'é£&-]{0,40}",
        Just(String::new()),
        "[\\PC]{0,20}",
    ]
}

fn service() -> impl Strategy<Value = Service> {
    (
        "[A-Za-z0-9é][A-Za-z0-9 ,\"'é&-]{0,60}",
        prop::option::of("[=+@'-]{0,2}[A-Za-z0-9 ,\"'\\né£&-]{1,200}"),
        prop::option::of((-90.0f64..90.0, -180.0f64..180.0)),
        prop::option::of((0usize..7, 0u8..23)),
        prop::collection::vec("[A-Za-z][A-Za-z ]{0,20}", 0..3),
        prop::option::of("[0-9 ]{6,14}"),
    )
        .prop_map(|(name, description, place, hours, terms, phone)| {
            let mut v = serde_json::json!({"id": "", "name": name.trim()});
            if let Some(d) = description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()) {
                v["description"] = d.into();
            }
            if let Some((lat, lon)) = place {
                v["locations"] = serde_json::json!([{"id": "", "latitude": lat, "longitude": lon}]);
            }
            if let Some((day, hour)) = hours {
                let days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
                v["schedules"] = serde_json::json!([{"byday": days[day],
                    "opens_at": format!("{hour:02}:00"), "closes_at": format!("{:02}:15", hour + 1)}]);
            }
            let terms: Vec<_> = terms
                .iter()
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .map(|t| serde_json::json!({"name": t}))
                .collect();
            v["taxonomy_terms"] = terms.into();
            if let Some(p) = phone.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) {
                v["phones"] = serde_json::json!([{"number": p}]);
            }
            serde_json::from_value(v).expect("service")
        })
}

/// Written as every export writes CSV: cells that look like formulas
/// quoted, which the import undoes.
fn csv_of(services: &[Service]) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    write_row(&mut out, COLUMNS.iter().map(|(c, _)| *c)).expect("header");
    for s in services {
        write_row(&mut out, service_row(s)).expect("row");
    }
    out.into_inner().expect("csv")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn csv_import_never_panics(rows in prop::collection::vec(prop::collection::vec(cell(), 0..8), 0..6),
                               header in prop::collection::vec(prop_oneof![Just("name"), Just("opening_hours"), Just("latitude"), Just("access"), Just("taxonomy"), Just("bogus")], 0..6)) {
        let mut text = header.join(",");
        for r in rows {
            text.push('\n');
            text.push_str(&r.join(","));
        }
        let _ = import::parse(Format::Csv, text.as_bytes(), None, &Limits::default());
        let _ = import::parse(Format::Csv, &[0xff, 0xfe, b'\n', b','], None, &Limits::default());
    }

    #[test]
    fn csv_export_reads_back_the_same(services in prop::collection::vec(service(), 1..6)) {
        let back = import::csv::parse(&csv_of(&services)).expect("reads back");
        prop_assert_eq!(back.len(), services.len());
        for (a, b) in services.iter().zip(&back) {
            prop_assert_eq!(&a.name, &b.name);
            prop_assert_eq!(&a.description, &b.description);
            prop_assert_eq!(&a.schedules, &b.schedules);
            prop_assert_eq!(&a.taxonomy_terms, &b.taxonomy_terms);
            prop_assert_eq!(&a.phones, &b.phones);
            prop_assert_eq!(a.locations.first().map(|l| (l.latitude, l.longitude)), b.locations.first().map(|l| (l.latitude, l.longitude)));
        }
    }

    #[test]
    fn hsds_import_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512), depth in 0usize..200) {
        let _ = import::parse(Format::Hsds, &bytes, None, &Limits::default());
        let nested = "[".repeat(depth) + &"]".repeat(depth);
        let _ = import::parse(Format::Hsds, nested.as_bytes(), None, &Limits::default());
        // Junk that looks like a workbook (a zip or an old Excel file).
        for magic in [&b"PK\x03\x04"[..], &[0xD0, 0xCF, 0x11, 0xE0]] {
            let junk: Vec<u8> = magic.iter().chain(&bytes).copied().collect();
            let _ = import::parse(Format::Workbook, &junk, None, &Limits::default());
        }
    }

    #[test]
    fn hsds_export_reads_back_the_same(services in prop::collection::vec(service(), 1..6)) {
        let json = serde_json::to_vec(&services).expect("json");
        let back = import::parse(Format::Hsds, &json, None, &Limits::default()).expect("reads back").services;
        prop_assert_eq!(back.len(), services.len());
        for (a, b) in services.iter().zip(&back) {
            prop_assert_eq!(&a.name, &b.name);
            prop_assert_eq!(&a.description, &b.description);
            prop_assert_eq!(&a.schedules, &b.schedules);
            // The import keeps a term once, however often it is listed.
            let mut once = Vec::new();
            for t in &a.taxonomy_terms {
                if !once.contains(&t) {
                    once.push(t);
                }
            }
            prop_assert_eq!(once.iter().map(|t| &t.name).collect::<Vec<_>>(), b.taxonomy_terms.iter().map(|t| &t.name).collect::<Vec<_>>());
        }
    }

    #[test]
    fn feed_cursors_never_panic_and_round_trip(
        pairs in prop::collection::vec((prop_oneof![Just("afterChangeNumber"), Just("afterTimestamp"), Just("afterId"), Just("limit"), Just("x")], "[\\PC]{0,12}"), 0..4),
        n in 0i64..i64::MAX, limit in 1u32..=500, id in "[A-Za-z0-9:_ &=-]{1,40}",
    ) {
        let map: HashMap<String, String> = pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let _ = FeedQuery::from_query(&map);
        for query in [
            HashMap::from([("afterChangeNumber".to_owned(), n.to_string()), ("limit".to_owned(), limit.to_string())]),
            HashMap::from([("afterTimestamp".to_owned(), n.to_string()), ("afterId".to_owned(), id.clone()), ("limit".to_owned(), limit.to_string())]),
        ] {
            let q = FeedQuery::from_query(&query).expect("valid cursor");
            let again: HashMap<String, String> = url::form_urlencoded::parse(q.query_string().as_bytes()).into_owned().collect();
            prop_assert_eq!(FeedQuery::from_query(&again).expect("reparses"), q);
        }
    }

    #[test]
    fn search_parameters_never_panic(
        pairs in prop::collection::vec((prop_oneof![Just("q"), Just("taxonomy"), Just("near"), Just("within_km"), Just("open_at"), Just("hub"), Just("order"), Just("page"), Just("per_page")], "[\\PC]{0,30}"), 0..6),
    ) {
        let map: HashMap<String, String> = pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let _ = SearchParams::from_query(&map);
        if let Some(q) = map.get("q") {
            // Query terms are whole words of letters and digits, capped in
            // number and length, whatever was typed.
            let terms = signpost_client::search::text::query_terms(q, 16);
            prop_assert!(terms.len() <= 16);
            prop_assert!(terms.iter().all(|t| !t.is_empty()
                && t.len() <= signpost_client::search::text::MAX_TERM_BYTES
                && t.chars().all(char::is_alphanumeric)));
        }
    }
}
