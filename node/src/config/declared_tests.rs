//! Tests that walk the declared settings, so a setting added to
//! `settings.rs` is covered by the environment, the file and the docs
//! without a test of its own.

use std::collections::HashSet;

use super::*;

/// A data folder holding `config` as `signpost.toml`.
fn folder_with(config: &Config) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CONFIG_FILE), config.to_commented_toml()).unwrap();
    dir
}

/// The base the walk starts from: the defaults, plus an allowed hub id so
/// `SIGNPOST_TRUST=allowlist` alone is a valid change.
fn base() -> Config {
    let mut config = Config::default();
    config.aggregator.allow = vec!["ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w".into()];
    config
}

#[test]
fn every_setting_is_declared_once_with_its_own_variable() {
    let settings = declared_settings();
    assert!(settings.len() >= 40, "{} settings", settings.len());
    let mut names = HashSet::new();
    let mut envs = HashSet::new();
    for s in &settings {
        assert!(names.insert(s.name()), "{} declared twice", s.name());
        assert!(envs.insert(s.env), "{} used twice", s.env);
        assert!(s.env.starts_with("SIGNPOST_"), "{}", s.env);
        assert!(!s.doc_line().is_empty(), "{} has no doc", s.name());
    }
    // The variables that existed before every setting had one keep their names.
    for old in [
        "SIGNPOST_LISTEN",
        "SIGNPOST_PUBLIC_URL",
        "SIGNPOST_LOG_FORMAT",
        "SIGNPOST_METRICS_LISTEN",
        "SIGNPOST_HUB_ENABLED",
        "SIGNPOST_LISTING_LIFETIME_HOURS",
        "SIGNPOST_AGGREGATOR_ENABLED",
        "SIGNPOST_ALLOW_PRIVATE_NETWORKS",
        "SIGNPOST_REGISTRATION",
        "SIGNPOST_COVERAGE_AREAS",
        "SIGNPOST_TILE_URL",
        "SIGNPOST_TILE_ATTRIBUTION",
        "SIGNPOST_GEOCODER_URL",
        "SIGNPOST_MAX_CONNECTIONS",
        "SIGNPOST_TRUSTED_PROXIES",
    ] {
        assert!(envs.contains(old), "{old} is no longer read");
    }
    // Names other parts of the project use for something else.
    for taken in [
        "SIGNPOST_DIR",
        "SIGNPOST_LOG",
        "SIGNPOST_UPSTREAM",
        "SIGNPOST_DOMAIN",
    ] {
        assert!(!envs.contains(taken), "{taken} means something else");
    }
    // Every field of the file is declared: the defaults written out name
    // exactly the declared settings.
    let written = toml::Value::try_from(Config::default()).unwrap();
    let mut in_file = HashSet::new();
    for (section, table) in written.as_table().unwrap() {
        for key in table.as_table().unwrap().keys() {
            in_file.insert(format!("{section}.{key}"));
        }
    }
    for s in &settings {
        in_file.remove(&s.name());
    }
    let unset_by_default: HashSet<String> = settings
        .iter()
        .filter(|s| (s.value)(&Config::default()).is_none())
        .map(|s| s.name())
        .collect();
    assert!(
        in_file.is_empty(),
        "fields not declared: {in_file:?} (unset by default: {unset_by_default:?})"
    );
}

#[test]
fn every_variable_changes_its_setting_in_the_loaded_config() {
    let dir = folder_with(&base());
    let unchanged = Config::load_with(dir.path(), |_| None).unwrap();
    for s in declared_settings() {
        let example = (s.example_value)()
            .unwrap_or_else(|| panic!("{}: example {:?} is not valid", s.env, s.example));
        let before = (s.value)(&unchanged);
        assert_ne!(
            before.as_ref(),
            Some(&example),
            "{}: the example must differ from the default",
            s.env
        );
        let loaded = Config::load_with(dir.path(), |k| (k == s.env).then(|| s.example.to_owned()))
            .unwrap_or_else(|e| panic!("{}={:?}: {e}", s.env, s.example));
        assert_eq!(
            (s.value)(&loaded),
            Some(example),
            "{}={:?} did not set {}",
            s.env,
            s.example,
            s.name()
        );
        // Nothing else moved.
        for other in declared_settings().iter().filter(|o| o.env != s.env) {
            assert_eq!(
                (other.value)(&loaded),
                (other.value)(&unchanged),
                "{} also changed {}",
                s.env,
                other.name()
            );
        }
    }
}

#[test]
fn every_variable_refuses_a_bad_value_naming_the_variable() {
    let dir = folder_with(&base());
    for s in declared_settings() {
        let err = Config::load_with(dir.path(), |k| (k == s.env).then(|| s.refused.to_owned()))
            .map(|_| ())
            .expect_err(s.env)
            .to_string();
        assert!(err.contains(s.env), "{}: {err}", s.env);
        assert!(err.contains(&s.name()), "{}: {err}", s.env);
        if let Some((low, high)) = s.range {
            for outside in [low.checked_sub(1), high.checked_add(1)]
                .into_iter()
                .flatten()
            {
                let err =
                    Config::load_with(dir.path(), |k| (k == s.env).then(|| outside.to_string()))
                        .map(|_| ())
                        .expect_err(s.env)
                        .to_string();
                assert!(err.contains(s.env), "{}={outside}: {err}", s.env);
                assert!(
                    err.contains(&format!("between {low} and {high}")),
                    "{}={outside}: {err}",
                    s.env
                );
            }
        }
    }
    // A value checked against other settings is traced to its variable too.
    let err = Config::load_with(dir.path(), |k| {
        (k == "SIGNPOST_HUBS").then(|| "ftp://grange.example.org".to_owned())
    })
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("aggregator.hubs") && err.contains("SIGNPOST_HUBS"),
        "{err}"
    );
}

#[test]
fn every_example_round_trips_through_the_commented_file() {
    let mut all = Config::default();
    all.apply_env(|k| {
        declared_settings()
            .into_iter()
            .find(|s| s.env == k)
            .map(|s| s.example.to_owned())
    })
    .unwrap();
    all.validate().unwrap();
    let text = all.to_commented_toml();
    let back = Config::parse(&text).unwrap();
    back.validate().unwrap();
    for s in declared_settings() {
        assert_eq!((s.value)(&back), (s.value)(&all), "{}", s.name());
        assert!(
            text.contains(&format!("# Environment: {}", s.env)),
            "{}",
            s.env
        );
    }
    // Unset optional settings and empty lists are written as commented-out
    // examples.
    let defaults = Config::default().to_commented_toml();
    assert!(defaults.contains("# allow_addresses = [\"10.1.2.3\"]"));
    assert!(defaults.contains("# public_url = \"https://hub.example.org\""));
    assert!(defaults.contains("# geocoder_url = \"https://api.postcodes.io\""));
}

#[test]
fn the_committed_settings_doc_is_the_generated_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
    let generated = settings_markdown();
    if std::env::var_os("SIGNPOST_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/configuration.md is out of date with node/src/config/settings.rs: \
         run SIGNPOST_BLESS=1 cargo test -p signpost-node --lib config"
    );
    for s in declared_settings() {
        assert!(generated.contains(&format!("`{}`", s.env)), "{}", s.env);
    }
}
