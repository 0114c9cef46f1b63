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
    // --hours reads what import reads: opening times as people write them.
    let out = ok(&[
        "service",
        "add",
        "--dir",
        d,
        "--name",
        "Toddler group",
        "--hours",
        "Tues & Thurs 10-2",
    ]);
    assert!(out.contains("Added service"), "{out}");

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
    assert_eq!(services.as_array().unwrap().len(), 4);
    let toddlers = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Toddler group")
        .unwrap();
    assert_eq!(toddlers["schedules"][0]["byday"], "TU,TH");
    assert_eq!(toddlers["schedules"][0]["closes_at"], "14:00");
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

/// `check-url` with the caller's `SIGNPOST_*` settings removed and `env`
/// added: (exit code, standard output, standard error).
fn check_url(dir: &str, url: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_signpost-node"));
    for (name, _) in std::env::vars() {
        if name.starts_with("SIGNPOST_") {
            cmd.env_remove(name);
        }
    }
    let out = cmd
        .args(["check-url", "--dir", dir, url])
        .envs(env.iter().copied())
        .output()
        .expect("run signpost-node check-url");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `check-url` judges what the crawler would fetch. Only IP literals are
/// used here: nothing is looked up in DNS and nothing is connected to
/// (the command never connects; refused addresses would not be reached
/// even by the crawler).
#[test]
fn check_url_says_why_the_crawler_would_refuse_an_address() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cvs");
    let d = dir.to_str().unwrap();
    ok(&["init", "--dir", d, "--name", "Careful CVS", "--aggregator"]);

    for (url, address, reason) in [
        (
            "http://192.0.0.8/",
            "192.0.0.8",
            "IPv4 dummy address (192.0.0.8/32)",
        ),
        (
            "http://198.18.0.1/",
            "198.18.0.1",
            "Benchmarking (198.18.0.0/15)",
        ),
        (
            "http://[2002:c0a8:0101::1]/",
            "2002:c0a8:101::1",
            "6to4 2002::/16 carrying 192.168.1.1, which is Private-Use (192.168.0.0/16)",
        ),
        (
            "http://[2001:0:4136:e378:8000:63bf:3f57:fefe]/",
            "2001:0:4136:e378:8000:63bf:3f57:fefe",
            "Teredo 2001::/32 carrying 192.168.1.1, which is Private-Use (192.168.0.0/16)",
        ),
        (
            "http://[64:ff9b:1::1]/",
            "64:ff9b:1::1",
            "IPv4-IPv6 Translat. (local-use NAT64) (64:ff9b:1::/48)",
        ),
        (
            "http://[64:ff9b::a00:1]/",
            "64:ff9b::a00:1",
            "NAT64 64:ff9b::/96 carrying 10.0.0.1, which is Private-Use (10.0.0.0/8)",
        ),
        ("http://127.0.0.1:9/", "127.0.0.1", "Loopback (127.0.0.0/8)"),
    ] {
        let (code, out, err) = check_url(d, url, &[]);
        assert_eq!(code, 1, "{url} must be refused:\n{out}{err}");
        let line = format!("  {address}  refused: {reason}");
        assert!(
            out.lines().any(|l| l == line),
            "{url}: want {line:?} in\n{out}"
        );
        assert!(err.contains("would not fetch"), "{url}: {err}");
    }

    // A bare address gets the listing path, as the crawler completes it.
    let (code, out, _) = check_url(d, "http://127.0.0.1:9/", &[]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("http://127.0.0.1:9/.well-known/signpost/listing\n"),
        "{out}"
    );

    // The operator's escape hatches are honoured and named.
    let (code, out, err) = check_url(
        d,
        "http://127.0.0.1:9/",
        &[("SIGNPOST_ALLOW_PRIVATE_NETWORKS", "true")],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("127.0.0.1  allowed by aggregator.allow_private_networks (otherwise refused: Loopback (127.0.0.0/8))"),
        "{out}"
    );
    assert!(out.contains("would fetch"), "{out}");
    let settings = dir.join("signpost.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let text = text.replacen(
        "allow_private_networks = false",
        "allow_private_networks = false\nallow_addresses = [\"10.1.2.3\"]",
        1,
    );
    std::fs::write(&settings, text).unwrap();
    let (code, out, err) = check_url(d, "http://10.1.2.3:8080/", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("10.1.2.3  allowed by aggregator.allow_addresses"),
        "{out}"
    );
    let (code, _, _) = check_url(d, "http://10.1.2.4:8080/", &[]);
    assert_eq!(code, 1, "only the named address is let through");

    // Global addresses pass (judged only: nothing is connected to).
    let (code, out, err) = check_url(d, "https://81.2.69.160/", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("81.2.69.160  allowed: a global unicast address"),
        "{out}"
    );

    // Addresses the crawler would not take at all.
    for url in [
        "ftp://192.0.2.1/",
        "https://user:pw@81.2.69.160/",
        "not a url",
    ] {
        let (code, _, err) = check_url(d, url, &[]);
        assert_eq!(code, 1, "{url}");
        assert!(err.contains("would not fetch"), "{url}: {err}");
    }
    let help = ok(&["check-url", "--help"]);
    assert!(
        help.contains("Nothing is fetched or connected to"),
        "{help}"
    );
}

#[test]
fn recovery_commands_replace_the_token_and_explain_mistakes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    let d = dir.to_str().unwrap();
    let first = ok(&["init", "--dir", d, "--name", "Token hub"]);
    let out = ok(&["admin", "reset-token", "--dir", d]);
    assert!(
        out.contains("spt_") && out.contains("old token no longer works"),
        "{out}"
    );
    let token = |text: &str| {
        text.split_whitespace()
            .find(|w| w.starts_with("spt_"))
            .map(str::to_owned)
    };
    assert_ne!(token(&first), token(&out), "a new token each time");
    assert!(ok(&["admin", "reset-token", "--help"]).contains("old one stops working"));

    let err = fails(&[
        "hub",
        "undelist",
        "--dir",
        d,
        "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]);
    assert!(err.contains("not an aggregator"), "{err}");
    let err = fails(&[
        "hub",
        "repin",
        "--dir",
        d,
        "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]);
    assert!(err.contains("--reason"), "{err}");
    ok(&[
        "init",
        "--dir",
        &format!("{d}-cvs"),
        "--name",
        "CVS",
        "--aggregator",
    ]);
    let err = fails(&[
        "hub",
        "undelist",
        "--dir",
        &format!("{d}-cvs"),
        "not-a-hub-id",
    ]);
    assert!(err.contains("HUB_ID"), "{err}");
}
