//! Sessions of the admin page: made when someone signs in with the admin
//! token, kept only in this process's memory (a restart signs everyone
//! out), ended by signing out or by time. Each carries its own CSRF token,
//! checked on every form sent, and at most one import waiting to be
//! confirmed.
//!
//! The count is bounded: when full, the session used longest ago goes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use axum::body::Bytes;

use crate::error::Result;
use crate::import::csv::Mapping;
use crate::import::{Format, ImportPlan};
use crate::keyfile::random_bytes;
use signpost_spec::Service;

/// Most sessions at once.
pub const MAX_SESSIONS: usize = 32;
/// Most imports waiting for confirmation across all sessions.
pub const MAX_PENDING_IMPORTS: usize = 4;
/// A session ends after this long without use.
pub const IDLE: Duration = Duration::from_secs(2 * 3600);
/// A session ends this long after signing in, however busy.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// An import parsed and previewed, waiting for "Apply".
#[derive(Debug, Clone)]
pub struct PendingImport {
    /// Random id the confirm form must send back.
    pub id: String,
    /// The services read from the file.
    pub incoming: Vec<Service>,
    /// Remove services that are not in the file.
    pub replace: bool,
    /// The plan that was shown.
    pub plan: ImportPlan,
    /// The file's name, to remind the reader.
    pub file_name: String,
    /// Digest of the hub's services when the plan was made: the plan is
    /// applied only if they are still the same.
    pub fingerprint: [u8; 32],
    /// The file as sent and how it was read, to read it again with other
    /// column choices (a pending import holds at most one upload, and at
    /// most [`MAX_PENDING_IMPORTS`] wait).
    pub file: Option<UploadedFile>,
    made: Instant,
}

/// A spreadsheet waiting on the preview, with its columns as read.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub bytes: Bytes,
    pub format: Format,
    /// What each column was read as for the plan shown.
    pub columns: Mapping,
}

impl PendingImport {
    /// A pending import with a fresh id.
    pub fn new(
        incoming: Vec<Service>,
        replace: bool,
        plan: ImportPlan,
        file_name: String,
        fingerprint: [u8; 32],
    ) -> Result<PendingImport> {
        Ok(PendingImport {
            id: URL_SAFE_NO_PAD.encode(random_bytes::<16>()?),
            incoming,
            replace,
            plan,
            file_name,
            fingerprint,
            file: None,
            made: Instant::now(),
        })
    }
}

struct Session {
    csrf: String,
    created: Instant,
    last_used: Instant,
    flash: Option<String>,
    pending: Option<PendingImport>,
}

/// What a request learns about its session.
#[derive(Debug, Clone)]
pub struct Current {
    /// The cookie value (to find the session again).
    pub id: String,
    /// The token every form of this session must carry.
    pub csrf: String,
}

/// All sessions, keyed by the SHA-256 of their cookie value.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<HashMap<[u8; 32], Session>>,
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Starts a session; returns its cookie value and CSRF token.
    pub fn create(&self) -> Result<Current> {
        let id = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
        let csrf = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
        let now = Instant::now();
        if let Ok(mut all) = self.inner.lock() {
            all.retain(|_, s| alive(s, now));
            while all.len() >= MAX_SESSIONS {
                let Some(oldest) = all.iter().min_by_key(|(_, s)| s.last_used).map(|(k, _)| *k)
                else {
                    break;
                };
                all.remove(&oldest);
            }
            all.insert(
                key(&id),
                Session {
                    csrf: csrf.clone(),
                    created: now,
                    last_used: now,
                    flash: None,
                    pending: None,
                },
            );
        }
        Ok(Current { id, csrf })
    }

    /// The live session with this cookie value, marked as used.
    pub fn get(&self, id: &str) -> Option<Current> {
        let now = Instant::now();
        let mut all = self.inner.lock().ok()?;
        let k = key(id);
        let session = all.get_mut(&k)?;
        if !alive(session, now) {
            all.remove(&k);
            return None;
        }
        session.last_used = now;
        Some(Current {
            id: id.to_owned(),
            csrf: session.csrf.clone(),
        })
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        if let Ok(mut all) = self.inner.lock() {
            all.remove(&key(id));
        }
    }

    /// Leaves a message for the next page of this session.
    pub fn set_flash(&self, id: &str, text: String) {
        if let Ok(mut all) = self.inner.lock() {
            if let Some(s) = all.get_mut(&key(id)) {
                s.flash = Some(text);
            }
        }
    }

    /// Takes the waiting message, if any.
    pub fn take_flash(&self, id: &str) -> Option<String> {
        self.inner
            .lock()
            .ok()?
            .get_mut(&key(id))
            .and_then(|s| s.flash.take())
    }

    /// Keeps an import for confirmation, replacing this session's earlier
    /// one; the oldest waiting imports of all sessions are dropped past
    /// [`MAX_PENDING_IMPORTS`].
    pub fn set_pending(&self, id: &str, pending: PendingImport) {
        let Ok(mut all) = self.inner.lock() else {
            return;
        };
        let k = key(id);
        if let Some(s) = all.get_mut(&k) {
            s.pending = Some(pending);
        }
        loop {
            let waiting: Vec<([u8; 32], Instant)> = all
                .iter()
                .filter_map(|(k, s)| s.pending.as_ref().map(|p| (*k, p.made)))
                .collect();
            if waiting.len() <= MAX_PENDING_IMPORTS {
                break;
            }
            if let Some((oldest, _)) = waiting.iter().min_by_key(|(_, made)| *made) {
                if let Some(s) = all.get_mut(oldest) {
                    s.pending = None;
                }
            }
        }
    }

    /// This session's waiting import, if its id is `import_id`.
    pub fn pending(&self, id: &str, import_id: &str) -> Option<PendingImport> {
        let all = self.inner.lock().ok()?;
        let p = all.get(&key(id))?.pending.as_ref()?;
        bool::from(p.id.as_bytes().ct_eq(import_id.as_bytes())).then(|| p.clone())
    }

    /// Forgets this session's waiting import.
    pub fn clear_pending(&self, id: &str) {
        if let Ok(mut all) = self.inner.lock() {
            if let Some(s) = all.get_mut(&key(id)) {
                s.pending = None;
            }
        }
    }
}

fn alive(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last_used) < IDLE && now.duration_since(s.created) < LIFETIME
}

/// Constant-time comparison of a form's CSRF token with the session's.
pub fn csrf_matches(current: &Current, presented: &str) -> bool {
    !presented.is_empty() && bool::from(current.csrf.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bounded_and_csrf_is_per_session() {
        let sessions = Sessions::default();
        let first = sessions.create().unwrap();
        assert!(sessions.get(&first.id).is_some());
        assert!(sessions.get("made-up").is_none());
        let second = sessions.create().unwrap();
        assert_ne!(first.csrf, second.csrf);
        assert!(csrf_matches(&first, &first.csrf));
        assert!(!csrf_matches(&first, &second.csrf));
        assert!(!csrf_matches(&first, ""));
        for _ in 0..MAX_SESSIONS {
            sessions.create().unwrap();
        }
        assert_eq!(sessions.inner.lock().unwrap().len(), MAX_SESSIONS);
        sessions.remove(&second.id);
        assert!(sessions.get(&second.id).is_none());
    }

    #[test]
    fn waiting_imports_are_bounded() {
        let sessions = Sessions::default();
        let ids: Vec<Current> = (0..MAX_PENDING_IMPORTS + 2)
            .map(|_| sessions.create().unwrap())
            .collect();
        for c in &ids {
            let p = PendingImport::new(
                Vec::new(),
                false,
                ImportPlan::default(),
                "x.csv".into(),
                [0; 32],
            )
            .unwrap();
            sessions.set_pending(&c.id, p);
        }
        let waiting = ids
            .iter()
            .filter(|c| {
                let all = sessions.inner.lock().unwrap();
                all.get(&key(&c.id)).unwrap().pending.is_some()
            })
            .count();
        assert_eq!(waiting, MAX_PENDING_IMPORTS);
    }
}
