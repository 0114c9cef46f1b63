//! Bring your spreadsheet: each messy fixture of
//! `signpost_tests::spreadsheets` imported through the command line and
//! through a real hub's JSON API, with the services, opening times and
//! flags each must give; and the hub guide's table of hour formats is the
//! one the tests read.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;
use signpost_client::import::{csv, hours};
use signpost_tests::spreadsheets::{fixtures, Fixture};
use signpost_tests::TestNode;

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if name.ends_with(".ods") {
        "application/vnd.oasis.opendocument.spreadsheet"
    } else {
        "text/csv"
    }
}

/// The services of a plan's JSON, as (name, compact hours).
fn planned(plan: &Value) -> Vec<(String, String)> {
    plan["added"]
        .as_array()
        .expect("added")
        .iter()
        .map(|s| {
            let schedules: Vec<signpost_spec::Schedule> =
                serde_json::from_value(s["schedules"].clone()).unwrap_or_default();
            (
                s["name"].as_str().unwrap_or_default().to_owned(),
                csv::format_opening_hours(&schedules),
            )
        })
        .collect()
}

fn expected(f: &Fixture) -> Vec<(String, String)> {
    f.services
        .iter()
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect()
}

fn flagged(plan: &Value) -> BTreeSet<String> {
    plan["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n["column"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn every_messy_spreadsheet_imports_through_the_api_with_its_flags() {
    let all = fixtures();
    assert!(all.len() >= 10, "only {} fixtures", all.len());
    let hub = TestNode::start("Revoe Hub").await;
    for f in &all {
        let reply = hub
            .admin_raw(
                "/import?dry_run=true",
                content_type(f.name),
                f.bytes.clone(),
            )
            .await;
        let body = reply.json();
        assert_eq!(reply.status, 200, "{}: {body}", f.name);
        let plan = &body["plan"];
        assert_eq!(planned(plan), expected(f), "{}", f.name);
        let want: BTreeSet<String> = f.flagged.iter().map(|c| c.to_string()).collect();
        assert_eq!(flagged(plan), want, "{}", f.name);
    }
    // Not a dry run: the workbook's services are published, hours and all.
    let workbook = all
        .iter()
        .find(|f| f.name.ends_with(".xlsx"))
        .expect("a workbook");
    let applied = hub
        .admin_raw(
            "/import",
            content_type(workbook.name),
            workbook.bytes.clone(),
        )
        .await;
    assert_eq!(applied.status, 200, "{}", applied.json());
    let listing = hub.verified_listing().await.listing;
    let pantry = listing
        .services
        .iter()
        .find(|s| s.name == "Pantry")
        .expect("pantry published");
    assert_eq!(
        csv::format_opening_hours(&pantry.schedules),
        "SA 10:00-13:00"
    );
    assert_eq!(pantry.minimum_age, Some(16));
    assert_eq!(pantry.locations[0].latitude, Some(53.8069));
    // A named sheet that is not there is a clear error naming the sheets.
    let missing = hub
        .admin_raw(
            "/import?dry_run=true&sheet=Prices",
            content_type(workbook.name),
            workbook.bytes.clone(),
        )
        .await;
    let said = missing.json().to_string();
    assert_eq!(missing.status, 422, "{said}");
    assert!(said.contains("Read me, Services"), "{said}");
    let services = hub.admin(Method::GET, "/services", None).await.json();
    assert_eq!(services["services"].as_array().map(Vec::len), Some(2));
    hub.node.stop().await.expect("stop");
}

#[test]
fn every_messy_spreadsheet_imports_through_the_command_line() {
    let node = signpost_tests::binary("signpost-node", "signpost-node");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("hub");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&node)
            .args(args)
            .output()
            .expect("run signpost-node");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let d = dir.to_str().expect("path");
    run(&["init", "--dir", d, "--name", "Revoe Hub"]);
    for f in fixtures() {
        let file = tmp.path().join(f.name);
        std::fs::write(&file, &f.bytes).expect("write fixture");
        let out = run(&[
            "import",
            file.to_str().expect("path"),
            "--dir",
            d,
            "--dry-run",
        ]);
        for (name, _) in &f.services {
            assert!(
                out.contains(&format!("add     {name}")),
                "{}: {out}",
                f.name
            );
        }
        for column in &f.flagged {
            assert!(out.contains(&format!(", {column}: ")), "{}: {out}", f.name);
        }
        assert!(out.contains("Dry run"), "{}: {out}", f.name);
    }
}

/// The guide's table of the hour formats understood, made from the same
/// list the tests read (`hours::EXAMPLES`).
fn hours_table() -> String {
    let mut table = String::from("| written | read as |\n| --- | --- |\n");
    for (written, read) in hours::EXAMPLES {
        table.push_str(&format!(
            "| `{}` | `{}` |\n",
            written.replace('\n', "` then `"),
            read
        ));
    }
    table
}

#[test]
fn the_guides_table_of_hour_formats_is_the_one_the_tests_read() {
    let guide = std::path::Path::new("../docs/guide-hub.md");
    let text = std::fs::read_to_string(guide).expect("docs/guide-hub.md");
    let (start, end) = ("<!-- hours-table:start -->\n", "<!-- hours-table:end -->");
    let table = hours_table();
    if std::env::var_os("SIGNPOST_BLESS").is_some() {
        let (head, rest) = text.split_once(start).expect("start marker");
        let (_, tail) = rest.split_once(end).expect("end marker");
        std::fs::write(guide, format!("{head}{start}{table}{end}{tail}")).expect("write guide");
        return;
    }
    assert!(
        text.contains(&format!("{start}{table}{end}")),
        "docs/guide-hub.md's table of hour formats is out of date: run this test with SIGNPOST_BLESS=1"
    );
}
