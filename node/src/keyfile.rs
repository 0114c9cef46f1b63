//! The hub's secret key on disk: created once with mode 0600, refused if
//! other users could read it.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use signpost_spec::HubKey;

use crate::error::{NodeError, Result};

const HEADER: &str = "# Signpost hub secret key. Anyone with this file can publish as your hub.\n\
# Keep a copy somewhere safe; never share it.\n";
const PREFIX: &str = "ed25519-seed:";

/// Fills `buf` from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| NodeError::Setup(format!("the system's random source failed: {e}")))?;
    Ok(buf)
}

/// Generates a new key and writes it to `path`, which must not exist.
pub fn create(path: &Path) -> Result<HubKey> {
    let key = HubKey::from_seed(&random_bytes::<32>()?)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| NodeError::io("creating key file", path, e))?;
    let text = format!("{HEADER}{PREFIX}{}\n", URL_SAFE_NO_PAD.encode(key.seed()));
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| NodeError::io("writing key file", path, e))?;
    Ok(key)
}

/// Reads the key at `path`, refusing a file that group or others can read.
pub fn load(path: &Path) -> Result<HubKey> {
    let bad = |message: String| NodeError::Key {
        path: path.to_owned(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(bad(format!(
                "is readable by other users (mode {mode:o}); run `chmod 600 {}`",
                path.display()
            )));
        }
    }
    if meta.len() > 4096 {
        return Err(bad("is too large to be a key file".into()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| bad("holds no key".into()))?;
    let encoded = line
        .strip_prefix(PREFIX)
        .ok_or_else(|| bad(format!("the key line must start with {PREFIX}")))?;
    let seed: [u8; 32] = URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| bad("the key is not 32 bytes of base64url".into()))?;
    Ok(HubKey::from_seed(&seed)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_key_loads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.key");
        let key = create(&path).unwrap();
        assert_eq!(load(&path).unwrap().key_id(), key.key_id());
        assert!(create(&path).is_err(), "must never overwrite a key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(load(&path).unwrap_err().to_string().contains("chmod 600"));
        }
    }
}
