//! The query layer: every question a reader (an HTTP handler, a page, the
//! CLI, an app) asks of a directory, as one typed async method each. The
//! work runs on the blocking pool with a pooled read-only connection (or,
//! for the operator's few writes, the one writing connection), so no caller
//! ever holds a `rusqlite::Connection`, and what it gets back is typed
//! (states are enums, not words).

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::Connection;

use super::{Directory, HeldService};
use crate::error::Result;
use crate::search::hsds::{self, Distinct, Filter, ListOf, Row};
use crate::search::index::SearchIndex;
use crate::search::oruk::Shared;
use crate::search::place::{self, Centre, Typed};
use crate::search::{self, SearchParams};
use crate::store::aggregator::{
    self as db, HeldEnvelope, HubState, HubSummary, Origin, Source, StoreGauges, Upstream,
};
use crate::store::directory::{self as pages, Freshness};
use crate::store::feed::{self, Cursor};
use signpost_spec::feed::FeedItem;
use signpost_spec::Listing;

impl Directory {
    /// Runs read-only work that pairs the store's rows with the index.
    async fn read_indexed<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection, &SearchIndex) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let index = self.index();
        self.read(move |conn| work(conn, &index)).await
    }

    /// Runs a search: the index finds the page, the store gives the
    /// services on it.
    pub async fn search(&self, params: SearchParams) -> Result<search::Page> {
        self.read_indexed(move |conn, index| {
            let found = index.search(&params)?;
            search::read_page(conn, index, &params, found, Timestamp::now())
        })
        .await
    }

    /// One service as published, with its hub's name and expiry; None
    /// when no active hub holds it.
    pub async fn service(&self, hub_id: &str, service_id: &str) -> Result<Option<HeldService>> {
        let (hub_id, service_id) = (hub_id.to_owned(), service_id.to_owned());
        self.read_indexed(move |conn, index| {
            let Some(stored) = index.service(&hub_id, &service_id)? else {
                return Ok(None);
            };
            Ok(
                db::active_hub(conn, &hub_id)?.map(|(hub_name, expires_at)| HeldService {
                    hub_id: stored.hub_id,
                    hub_name,
                    expires_at,
                    json: stored.json,
                }),
            )
        })
        .await
    }

    /// A page of held hubs (every state), by name, and how many there are:
    /// `/v1/hubs` and the hubs page.
    pub async fn hubs(&self, limit: u32, offset: u32) -> Result<(Vec<HubSummary>, u64)> {
        self.read(move |c| db::list_hubs(c, None, limit, offset, Timestamp::now().as_second()))
            .await
    }

    /// One held hub (whatever its state), or None.
    pub async fn hub(&self, hub_id: &str) -> Result<Option<HubSummary>> {
        let id = hub_id.to_owned();
        let (mut hubs, _) = self
            .read(move |c| db::list_hubs(c, Some(&id), 1, 0, Timestamp::now().as_second()))
            .await?;
        Ok(hubs.pop())
    }

    /// A hub's stored envelope, byte for byte, to be served again.
    pub async fn hub_envelope(&self, hub_id: &str) -> Result<Option<HeldEnvelope>> {
        let id = hub_id.to_owned();
        self.read(move |c| db::hub_envelope(c, &id)).await
    }

    /// An active hub's whole listing, read again from the envelope it
    /// signed (verified on its way in, so not verified twice): for what is
    /// made of a whole listing at once, like the hub's calendar. None when
    /// the hub is unknown, withdrawn or delisted.
    pub async fn active_listing(&self, hub_id: &str) -> Result<Option<Listing>> {
        let id = hub_id.to_owned();
        let limits = self.limits.clone();
        self.read(move |c| match db::hub_envelope(c, &id)? {
            Some(held) if held.state == HubState::Active => Ok(Some(
                signpost_spec::read_verified_listing(&held.bytes, &limits)?,
            )),
            _ => Ok(None),
        })
        .await
    }

    /// The feed's items after `cursor`: at most `limit`, and no more than
    /// `max_bytes` of listings (but at least one, so the feed moves on).
    pub async fn feed_page(
        &self,
        cursor: Cursor,
        limit: u32,
        max_bytes: usize,
    ) -> Result<Vec<FeedItem>> {
        self.read(move |c| feed::items(c, &cursor, limit, max_bytes))
            .await
    }

    /// How fresh each named hub's listing is (for the words beside results).
    pub async fn freshness(&self, hub_ids: Vec<String>) -> Result<HashMap<String, Freshness>> {
        self.read(move |c| pages::freshness(c, &hub_ids)).await
    }

    /// Where a typed place is, from what the directory holds (services'
    /// locations from the index, hubs' own addresses from the store): the
    /// directory pages' "near" box, found as the Open Referral `proximity`
    /// filter finds a postcode ([`place::centre`]).
    pub async fn place_centre(&self, typed: Typed) -> Result<Option<Centre>> {
        self.read_indexed(move |c, index| place::centre(c, index, &typed))
            .await
    }

    /// An Open Referral page of services (or `service_at_location`s) and
    /// the exact total the paging needs.
    pub async fn hsds_list(
        &self,
        of: ListOf,
        filter: Filter,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<Row>, u64)> {
        self.read_indexed(move |c, index| hsds::list(index, c, of, &filter, limit, offset))
            .await
    }

    /// The Open Referral object of `kind` (`service`,
    /// `service_at_location`, `organization`, `taxonomy`, `taxonomy_term`)
    /// with this id, as the service that stands for it.
    pub async fn hsds_by_id(&self, kind: &'static str, id: &str) -> Result<Option<Row>> {
        let id = id.to_owned();
        self.read_indexed(move |c, index| hsds::by_id(index, c, kind, &id))
            .await
    }

    /// Distinct organisations, taxonomies or terms, by label, and how many
    /// there are; `parent_id` narrows terms to one taxonomy, `search`
    /// matches labels.
    pub async fn hsds_distinct(
        &self,
        kind: Shared,
        parent_id: Option<String>,
        search: Option<String>,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<Distinct>, u64)> {
        self.read_indexed(move |c, index| {
            hsds::distinct(
                index,
                c,
                kind,
                parent_id.as_deref(),
                search.as_deref(),
                limit,
                offset,
            )
        })
        .await
    }

    /// The services of one organisation, by name, at most `limit`.
    pub async fn organization_services(&self, org_id: &str, limit: u32) -> Result<Vec<Row>> {
        let id = org_id.to_owned();
        self.read_indexed(move |c, index| hsds::organization_services(index, c, &id, limit))
            .await
    }

    /// Every active listing: (hub id, seq, the signed envelope's bytes).
    pub async fn active_listings(&self) -> Result<Vec<(String, u64, Vec<u8>)>> {
        self.read(db::active_listings).await
    }

    /// Answers when the database does (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .map(drop)
    }

    /// Whether any hub address is crawled (readiness waits for crawls only
    /// then).
    pub async fn has_sources(&self) -> Result<bool> {
        self.read(
            |c| Ok(c.query_row("SELECT EXISTS(SELECT 1 FROM agg_sources)", [], |r| r.get(0))?),
        )
        .await
    }

    /// Hubs by state, services, and upstream feed lag (for `/metrics`).
    pub async fn store_gauges(&self) -> Result<StoreGauges> {
        self.read(|c| db::store_gauges(c, Timestamp::now().as_second()))
            .await
    }

    /// Every crawled address with its health, in URL order.
    pub async fn sources(&self) -> Result<Vec<Source>> {
        self.read(db::list_sources).await
    }

    /// Adds a hub address to crawl; false when it was already known.
    pub async fn add_source(&self, url: &str, origin: Origin) -> Result<bool> {
        let url = url.to_owned();
        self.write(move |c| db::add_source(c, &url, origin, Timestamp::now().as_second()))
            .await
    }

    /// Crawls a known address at `due` (Unix seconds) at the latest (a hub
    /// said its listing changed); false when it is unknown, failing or due
    /// by then already.
    pub async fn nudge_source(&self, url: &str, due: i64) -> Result<bool> {
        let url = url.to_owned();
        self.write(move |c| db::nudge_source(c, &url, due)).await
    }

    /// Stops crawling an address; false when it was unknown.
    pub async fn remove_source(&self, url: &str) -> Result<bool> {
        let url = url.to_owned();
        self.write(move |c| db::remove_source(c, &url)).await
    }

    /// Puts a held hub on the operator's denylist (before its services go,
    /// so a crash half-way still leaves it refused); false when no such
    /// hub is held.
    pub async fn deny_held(&self, hub_id: &str, reason: &str, operator: &str) -> Result<bool> {
        let (id, reason, operator) = (hub_id.to_owned(), reason.to_owned(), operator.to_owned());
        self.write(move |c| {
            if db::held_hub(c, &id)?.is_none() {
                return Ok(false);
            }
            let now = Timestamp::now().as_millisecond();
            crate::store::denylist::deny(c, &id, &reason, &operator, now)?;
            Ok(true)
        })
        .await
    }

    /// Every upstream aggregator followed, with its cursor and health.
    pub async fn upstreams(&self) -> Result<Vec<Upstream>> {
        self.read(db::list_upstreams).await
    }

    /// Follows another aggregator's feed (an operator's addition); false
    /// when it was already followed.
    pub async fn add_upstream(&self, feed_url: &str) -> Result<bool> {
        let url = feed_url.to_owned();
        self.write(move |c| db::add_upstream(c, &url, "cli")).await
    }

    /// Registrations by strangers waiting for the operator's approval.
    pub async fn pending_registrations(&self) -> Result<Vec<db::PendingRegistration>> {
        self.read(db::pending_registrations).await
    }

    /// Sources taken on through registration, each with the services and
    /// listing bytes its hub holds here (for the operator's page).
    pub async fn registered_sources(&self) -> Result<Vec<db::RegisteredSource>> {
        self.read(db::registered_sources).await
    }

    /// Approves (the address becomes a source, crawled at once) or, with
    /// `approve` false, rejects a pending registration; false when none of
    /// `url` waits.
    pub async fn decide_registration(&self, url: &str, approve: bool) -> Result<bool> {
        let url = url.to_owned();
        self.write(move |c| {
            if approve {
                db::approve_registration(c, &url, Timestamp::now().as_second())
            } else {
                db::reject_registration(c, &url)
            }
        })
        .await
    }

    /// Records a coordinator's decision that two services (each a hub id
    /// and service id) are not duplicates.
    pub async fn not_duplicates(&self, a: (String, String), b: (String, String)) -> Result<()> {
        self.write(move |c| {
            db::not_duplicates(c, (&a.0, &a.1), (&b.0, &b.1), Timestamp::now().as_second())
        })
        .await
    }
}
