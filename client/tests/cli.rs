//! The `signpost` binary as an app developer or a curious volunteer runs it,
//! against a real aggregator on loopback.

use std::process::Command;

use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::listings::{key, listing, service, signed, tampered};
use signpost_tests::TestNode;

fn signpost(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_signpost"))
        .args(args)
        .output()
        .expect("run signpost");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn sync_search_verify_and_export_from_the_command_line() {
    let k = key(70);
    let bytes = signed(
        &listing(
            &k,
            "Greenhill Community Hub",
            2,
            vec![service(1, "Food bank", 53.55, -2.77, "MO,WE", "Food")],
        ),
        &k,
    );
    let hub = FakeHub::start(Script::Json(bytes.clone())).await;
    let agg = TestNode::start_aggregator("Directory", |_| {}).await;
    agg.add_source(&hub.url()).await;
    agg.crawl().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("copy.db");
    let db = db.to_str().unwrap();
    let url = agg.node.url();

    // The binary blocks on its own runtime: run it off the test's threads.
    let (code, out, err) = tokio::task::spawn_blocking({
        let (url, db) = (url.clone(), db.to_owned());
        move || signpost(&["sync", "--from", &url, "--db", &db])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 listings new or updated"), "{out}");

    let (code, out, _) = signpost(&[
        "search",
        "--db",
        db,
        "food",
        "--near",
        "53.55,-2.77",
        "--within-km",
        "5",
        "--json",
    ]);
    assert_eq!(code, 0);
    let page: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["hub_name"], "Greenhill Community Hub");
    let (_, table, _) = signpost(&["search", "--db", db, "food"]);
    assert!(
        table.contains("Food bank") && table.contains("MO,WE 10:00-13:00"),
        "{table}"
    );

    let listing_url = format!("{url}/v1/hubs/{}/listing", k.key_id());
    let (code, out, _) = tokio::task::spawn_blocking(move || signpost(&["verify", &listing_url]))
        .await
        .unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("VALID listing of \"Greenhill Community Hub\""),
        "{out}"
    );
    assert!(out.contains(&k.key_id().to_string()));

    let bad = dir.path().join("altered.json");
    std::fs::write(&bad, tampered(&bytes, "Food bank", "Loan shop")).unwrap();
    let (code, out, _) = signpost(&["verify", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("INVALID: bad_signature"), "{out}");
    assert!(out.contains("What it claims (not verified)"));

    let (code, csv, _) = signpost(&["export", "--db", db, "--format", "csv"]);
    assert_eq!(code, 0);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("id,name,"));
    assert!(lines.next().unwrap().contains("Food bank"));
    // The Excel export reads back as the same services as the CSV one
    // (the hub columns are left out of both, with a note).
    let xlsx = dir.path().join("services.xlsx");
    let (code, _, err) = signpost(&[
        "export",
        "--db",
        db,
        "--format",
        "xlsx",
        "--output",
        xlsx.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let from_xlsx =
        signpost_client::import::workbook::read(&std::fs::read(&xlsx).unwrap(), None).unwrap();
    let from_csv = signpost_client::import::csv::read(csv.as_bytes()).unwrap();
    assert_eq!(from_xlsx.services, from_csv.services);
    assert_eq!(from_xlsx.services[0].name, "Food bank");
    let left_out: Vec<&str> = from_xlsx.notes.iter().map(|n| n.column.as_str()).collect();
    assert_eq!(left_out, ["hub_id", "hub_name"]);
    let (code, json, _) = signpost(&["export", "--db", db, "--format", "hsds-json"]);
    assert_eq!(code, 0);
    let services: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(services[0]["name"], "Food bank");
    assert_eq!(services[0]["status"], "active");
    let back =
        signpost_client::import::hsds::parse(json.as_bytes(), &signpost_spec::Limits::default())
            .unwrap();
    assert_eq!(back[0].name, "Food bank");

    let (code, _, err) = signpost(&["search", "--db", "/nonexistent/x.db", "food"]);
    assert_eq!(code, 1);
    assert!(err.contains("signpost sync"), "{err}");
    let (code, help, _) = signpost(&["--help"]);
    assert_eq!(code, 0);
    for word in ["sync", "search", "verify", "export"] {
        assert!(help.contains(word));
    }
}
