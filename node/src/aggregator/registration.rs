//! Registration: a hub asks a public aggregator to list it. Within the
//! caps (sources in all, per registrant, per host, services and bytes),
//! fetched and checked like a crawl, then stored, or held for the
//! operator's approval when `registration = "approval"`.

use std::net::IpAddr;

use jiff::Timestamp;
use signpost_client::fetch::{self, listing_url, Fetched};
use signpost_client::store::aggregator::{self as db, CrawlOutcome, CrawlRecord, Origin};
use signpost_spec::{verify_listing, Limits, VerifyOptions};

use super::{Aggregator, Ingested};
use crate::config::Registration;
use crate::error::NodeError;

impl Aggregator {
    /// Handles `POST /v1/register` from `client`: within the caps
    /// (`max_registered_sources`, per client address, per host), fetches
    /// the address and checks its listing against the registered caps
    /// (services, bytes); then, with `registration = "open"`, stores it and
    /// remembers the address as a source, or with `"approval"` holds the
    /// address as pending until an operator approves it. An address that is
    /// already a source is crawled again, with no cap.
    ///
    /// The caller is anonymous, so what it is told is chosen with care:
    /// - a fetch failure gives the stable code and a fixed hint
    ///   ([`fetch::public_message`]), never the fetch error's text, which
    ///   would say whether a name resolves, to what kind of address, and
    ///   how a port answered (a free network scanner); the detail is
    ///   logged at info;
    /// - a cap gives its code and a fixed hint, never the counts;
    /// - a `bad_url` message only repeats the caller's own text;
    /// - a rejection of the listing (bad signature, replay, hub mismatch…)
    ///   keeps its message: it describes the listing served at the address
    ///   the caller gave, which the guard let us fetch (a public address or
    ///   one the operator allowed), and a hub needs it to fix its listing;
    /// - an internal error says only that, and is logged at warn.
    pub async fn register(
        &self,
        raw_url: &str,
        client: IpAddr,
    ) -> std::result::Result<Registered, RegisterError> {
        if self.settings.registration == Registration::Off {
            return Err(RegisterError::new(
                "registration_off",
                "this directory does not take registrations; ask its operator to add your hub",
            ));
        }
        let url = listing_url(raw_url).map_err(|m| RegisterError::new("bad_url", m))?;
        let url_text = url.to_string();
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let registrant = crate::forwarded::allowance_key(client).to_string();
        let caps = db::RegistrationCaps {
            total: self.settings.max_registered_sources,
            per_registrant: self.settings.max_registrations_per_client,
            per_host: self.settings.max_registrations_per_host,
        };
        let now = Timestamp::now().as_second();
        let reserve_url = url_text.clone();
        let reservation = self
            .write(move |conn| {
                db::reserve_registration(
                    conn,
                    &db::RegistrationRequest {
                        url: &reserve_url,
                        registrant: &registrant,
                        host: &host,
                        now,
                    },
                    caps,
                )
            })
            .await
            .map_err(|e| RegisterError::internal(&url, &e))?;
        let known = match reservation {
            db::Reservation::Reserved => false,
            db::Reservation::Known => true,
            db::Reservation::Pending(hub_id) => return Ok(Registered::Pending { hub_id }),
            db::Reservation::Busy => {
                return Err(RegisterError::new(
                    "busy",
                    "this address is being checked for another registration; try again in a minute",
                ))
            }
            db::Reservation::Full(code) => {
                tracing::info!(url = %url, client = %client, code, "registration refused at a cap");
                return Err(RegisterError::new(code, cap_message(code)));
            }
        };
        let outcome = self.register_reserved(&url, known).await;
        if outcome.is_err() && !known {
            let release = url_text.clone();
            if let Err(e) = self
                .write(move |conn| db::release_registration(conn, &release))
                .await
            {
                tracing::warn!(url = %url, error = %e, "could not release a registration");
            }
        }
        outcome
    }

    /// Fetches, checks and stores (or holds for approval) a registration
    /// whose place is reserved, or the crawl of a `known` source.
    async fn register_reserved(
        &self,
        url: &url::Url,
        known: bool,
    ) -> std::result::Result<Registered, RegisterError> {
        let started = Timestamp::now().as_second();
        let fetched = self
            .fetch_listing(url, &Default::default(), None)
            .await
            .map_err(|e| {
                tracing::info!(url = %url, code = e.code, error = %e.message, "registration fetch failed");
                RegisterError::new(e.code, fetch::public_message(e.code))
            })?;
        let Fetched::Body {
            bytes, validators, ..
        } = fetched
        else {
            return Err(RegisterError::new(
                "http_status",
                "the hub answered 304 to a request that was not conditional",
            ));
        };
        if !known {
            self.registered_listing_fits(&bytes)
                .map_err(|(code, message)| RegisterError::new(code, message))?;
        }
        let url_text = url.to_string();
        if !known && self.settings.registration == Registration::Approval {
            let hub_id = self.check_for_approval(bytes).await?;
            let (settle, id) = (url_text, hub_id.clone());
            self.write(move |conn| db::settle_registration(conn, &settle, true, &id))
                .await
                .map_err(|e| RegisterError::internal(url, &e))?;
            tracing::info!(url = %url, hub_id, "registration waits for approval");
            return Ok(Registered::Pending {
                hub_id: Some(hub_id),
            });
        }
        let outcome = self
            .ingest(bytes, Some(url_text.clone()))
            .await
            .map_err(|e| RegisterError::internal(url, &e))?;
        // A registered hub is searchable when the answer says so.
        self.make_searchable()
            .await
            .map_err(|e| RegisterError::internal(url, &e))?;
        let hub_id = match &outcome {
            Ingested::Accepted { hub_id, .. } | Ingested::Unchanged { hub_id, .. } => {
                hub_id.clone()
            }
            Ingested::Rejected { code, message, .. } => {
                return Err(RegisterError::new(code.clone(), message.clone()))
            }
        };
        let next = started + self.settings.recrawl_interval_secs as i64;
        let outcome_name = CrawlOutcome::from(&outcome);
        self.write(move |conn| {
            let tx = conn.transaction()?;
            db::add_source(&tx, &url_text, Origin::Register, started)?;
            if !known {
                db::settle_registration(&tx, &url_text, false, &hub_id)?;
            }
            db::record_crawl(
                &tx,
                &CrawlRecord {
                    url: &url_text,
                    at: started,
                    outcome: outcome_name,
                    error: None,
                    next_crawl_at: next,
                    hub_id: Some(&hub_id),
                    validators: Some((
                        validators.etag.as_deref(),
                        validators.last_modified.as_deref(),
                    )),
                },
            )?;
            Ok(tx.commit()?)
        })
        .await
        .map_err(|e| RegisterError::internal(url, &e))?;
        tracing::info!(url = %url, outcome = %outcome_name, "hub registered");
        Ok(Registered::Stored(outcome))
    }

    /// Verifies a listing held for approval (it is not stored yet, so the
    /// operator approves a hub whose signature was good) and refuses a hub
    /// on the denylist; gives the hub's id.
    async fn check_for_approval(
        &self,
        bytes: Vec<u8>,
    ) -> std::result::Result<String, RegisterError> {
        let options = VerifyOptions {
            now: Timestamp::now(),
            limits: Limits {
                max_envelope_bytes: self.settings.max_listing_bytes,
                ..Limits::default()
            },
        };
        let verified = tokio::task::spawn_blocking(move || verify_listing(&bytes, &options))
            .await
            .map_err(|e| RegisterError::new("internal", e.to_string()))?
            .map_err(|e| RegisterError::new(e.code(), e.to_string()))?;
        let hub_id = verified.hub_id.as_str().to_owned();
        let id = hub_id.clone();
        let denied = self
            .read(move |c| signpost_client::store::denylist::denied(c, &id))
            .await
            .map_err(|e| RegisterError::new("internal", e.to_string()))?;
        if denied.is_some() {
            return Err(RegisterError::new(
                "delisted",
                "this directory's operator has delisted this hub",
            ));
        }
        Ok(hub_id)
    }

    /// The caps on what a registered source may serve
    /// (`max_registered_listing_bytes`, `max_registered_services`), checked
    /// before the listing is verified or stored, at registration and at
    /// every crawl of a registered source. Counting services reads the
    /// payload without checking its signature: a listing that is not one
    /// is left for verification to refuse, with its own code.
    pub fn registered_listing_fits(
        &self,
        bytes: &[u8],
    ) -> std::result::Result<(), (&'static str, String)> {
        let max_bytes = self
            .settings
            .max_registered_listing_bytes
            .min(self.settings.max_listing_bytes);
        let max_services = self.settings.max_registered_services;
        if bytes.len() > max_bytes {
            return Err((
                "listing_too_large",
                format!(
                    "this directory takes listings of at most {max_bytes} bytes from registered \
                     hubs; ask its operator to add your hub"
                ),
            ));
        }
        #[derive(serde::Deserialize)]
        struct Count {
            #[serde(default)]
            services: Vec<serde::de::IgnoredAny>,
        }
        let limits = Limits::default();
        let services = signpost_spec::Envelope::from_bytes(bytes, &limits)
            .and_then(|e| e.decode_payload(signpost_spec::LISTING_PAYLOAD_TYPE, &limits))
            .ok()
            .filter(|p| signpost_spec::check_depth(p, limits.max_depth, "payload").is_ok())
            .and_then(|p| serde_json::from_slice::<Count>(&p).ok())
            .map_or(0, |c| c.services.len());
        if services > max_services {
            return Err((
                "too_many_services",
                format!(
                    "this directory takes at most {max_services} services from a registered \
                     hub; ask its operator to add your hub"
                ),
            ));
        }
        Ok(())
    }
}

/// The fixed hint for a registration cap's code.
fn cap_message(code: &str) -> &'static str {
    match code {
        "registration_full" => {
            "this directory takes no more registrations for now; ask its operator to add your hub"
        }
        "too_many_registrations" => {
            "this directory takes no more registrations from your address; ask its operator"
        }
        _ => "this directory takes no more registrations of hubs at that host; ask its operator",
    }
}

/// What a registration came to.
#[derive(Debug, Clone)]
pub enum Registered {
    /// Judged and (unless rejected) stored, as a crawl would be.
    Stored(Ingested),
    /// Checked and held until an operator approves it.
    Pending {
        /// The hub its listing names (unknown for one held before).
        hub_id: Option<String>,
    },
}

/// Why a registration failed: a stable code and a message for the person
/// registering their hub.
#[derive(Debug, Clone)]
pub struct RegisterError {
    /// Stable code (a fetch, spec or acceptance code).
    pub code: String,
    /// What to fix.
    pub message: String,
}

impl RegisterError {
    fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        RegisterError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// A failure of our own: logged in full, told only as "internal".
    fn internal(url: &url::Url, error: &NodeError) -> Self {
        tracing::warn!(url = %url, error = %error, "registration failed inside the node");
        RegisterError::new(
            "internal",
            "the directory could not store the listing; its operator can see why in the log",
        )
    }
}
