//! The `signpost-node` binary as a hub volunteer would use it.

use std::path::Path;
use std::process::{Command, Output};

fn node(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signpost-node"))
        .args(args)
        .env_remove("SIGNPOST_DIR")
        .output()
        .expect("run signpost-node")
}

fn ok(args: &[&str]) -> String {
    let out = node(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(args: &[&str]) -> String {
    let out = node(args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_hub_can_be_set_up_and_edited_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("grange");
    let d = dir.to_str().unwrap();
    let out = ok(&[
        "init",
        "--dir",
        d,
        "--name",
        "At The Grange",
        "--url",
        "https://grange.example.org",
    ]);
    assert!(out.contains("Admin token"), "{out}");
    assert!(out.contains("spt_"), "{out}");
    let err = fails(&["init", "--dir", d, "--name", "Again"]);
    assert!(err.contains("already exists"), "{err}");

    let out = ok(&[
        "service",
        "add",
        "--dir",
        d,
        "--name",
        "Community café",
        "--hours",
        "MO,TU 09:00-14:00",
        "--lat",
        "53.824",
        "--lon",
        "-3.0146",
        "--category",
        "Food",
        "--access",
        "walk-in",
    ]);
    assert!(out.contains("Added service"), "{out}");
    let err = fails(&["service", "add", "--dir", d, "--name", "Community café"]);
    assert!(err.contains("already exists"), "{err}");
    let err = fails(&[
        "service", "add", "--dir", d, "--name", "Laundry", "--hours", "Mondays",
    ]);
    assert!(err.contains("--hours"), "{err}");

    let csv = tmp.path().join("services.csv");
    std::fs::write(
        &csv,
        "name,opening_hours\nLaundry,\"MO,WE 10:00-15:00\"\nLibrary,\"SA 10:00-13:00\"\n",
    )
    .unwrap();
    let out = ok(&["import", csv.to_str().unwrap(), "--dir", d, "--dry-run"]);
    assert!(out.contains("2 to add") && out.contains("Dry run"), "{out}");
    ok(&["import", csv.to_str().unwrap(), "--dir", d]);

    let listed = ok(&["service", "list", "--dir", d, "--json"]);
    let services: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(services.as_array().unwrap().len(), 3);
    let id = services[0]["id"].as_str().unwrap();
    ok(&["service", "remove", "--dir", d, id]);
    let err = fails(&["service", "remove", "--dir", d, id]);
    assert!(err.contains("not found"), "{err}");

    ok(&[
        "profile",
        "set",
        "--dir",
        d,
        "--description",
        "Community hub in Grange Park",
    ]);
    let profile = ok(&["profile", "show", "--dir", d]);
    assert!(
        profile.contains("Community hub in Grange Park"),
        "{profile}"
    );
    assert_key_is_private(&dir.join("hub.key"));
}

#[cfg(unix)]
fn assert_key_is_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[cfg(not(unix))]
fn assert_key_is_private(_: &Path) {}

#[test]
fn help_speaks_plainly_and_mistakes_are_explained() {
    let help = ok(&["--help"]);
    for word in ["init", "serve", "service", "import", "demo"] {
        assert!(help.contains(word), "{help}");
    }
    let err = fails(&["serve", "--dir", "/nonexistent/signpost"]);
    assert!(err.contains("signpost-node init"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let err = fails(&["init", "--dir", d, "--name", "X", "--governance", "council"]);
    assert!(err.contains("community-led"), "{err}");
}
