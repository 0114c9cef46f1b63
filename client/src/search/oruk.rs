//! The Open Referral API's questions, answered by the search index: lists
//! of services and `service_at_location`s with every ORUK filter, lookups
//! by id, and the distinct organisations, taxonomies and terms (where a
//! postcode's centre is, [`super::place`] finds). The same index answers `/v1/services`, so both APIs agree on
//! what a region holds (there used to be a second engine in SQL tables
//! written beside every service, most of the store's cost).
//!
//! Each service has one document and each of its locations another
//! (`kind`), sharing what the filters ask of the service; the store is
//! read only for the page's rows.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermSetQuery};
use tantivy::schema::Field;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, Term};

use super::index::{
    tantivy_error, PageCollector, SearchIndex, ENTRY_SEPARATOR, KIND_LOCATION, KIND_SERVICE,
};
use super::place::Postcode;
use super::Order;
use crate::error::Result;
use crate::search::hsds::Filter;

/// Most text matches a list filters on: as deep as the list pages go.
pub const MAX_TEXT_MATCHES: usize = 10_000;

/// What a list holds: services, or their locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOf {
    /// `/services`.
    Services,
    /// `/service_at_locations`.
    Locations,
}

/// The kinds of shared thing the distinct lists hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shared {
    /// Organisations.
    Organization,
    /// Taxonomies.
    Taxonomy,
    /// Taxonomy terms.
    TaxonomyTerm,
}

/// One entry of a distinct list.
#[derive(Debug, Clone)]
pub struct DistinctEntry {
    /// Its id.
    pub id: String,
    /// Its name (the first by case-blind order, when names differ).
    pub label: String,
    /// The taxonomy a term belongs to.
    pub parent: Option<String>,
    /// The key of the service that stands for it (the lowest).
    pub key: i64,
    /// Every name it is published under, lower-cased (for `search`).
    labels: Vec<String>,
}

/// The distinct lists of one index generation, each sorted by label.
pub(super) type DistinctLists = HashMap<Shared, Arc<Vec<DistinctEntry>>>;

impl SearchIndex {
    fn shared_field(&self, kind: Shared) -> (Field, Field) {
        let f = &self.fields;
        match kind {
            Shared::Organization => (f.org_id, f.org_entry),
            Shared::Taxonomy => (f.taxonomy_id, f.taxonomy_entry),
            Shared::TaxonomyTerm => (f.term_id, f.term_entry),
        }
    }

    /// The query of a list's filter (without its words, which are matched
    /// first: see [`Self::list`]); None when nothing can match.
    fn filter_query(
        &self,
        of: ListOf,
        filter: &Filter,
        centroid: Option<(f64, f64)>,
    ) -> Option<Vec<Box<dyn Query>>> {
        let f = &self.fields;
        let mut must: Vec<Box<dyn Query>> = vec![self.kind_query(match of {
            ListOf::Services => KIND_SERVICE,
            ListOf::Locations => KIND_LOCATION,
        })];
        if filter.nothing {
            return None;
        }
        for (field, id) in [
            (f.term_id, &filter.taxonomy_term_id),
            (f.taxonomy_id, &filter.taxonomy_id),
            (f.org_id, &filter.organization_id),
        ] {
            if let Some(id) = id {
                must.push(self.term_query(field, id));
            }
        }
        if let Some(day) = filter.weekday {
            must.push(self.term_query(f.open_day, &day.to_string()));
        }
        if let Some(age) = filter.minimum_age_at_least {
            must.push(u64_range(f.min_age, Bound::Included(age), Bound::Unbounded));
        }
        if let Some(age) = filter.maximum_age_at_most {
            must.push(u64_range(f.max_age, Bound::Unbounded, Bound::Included(age)));
        }
        if of == ListOf::Locations {
            match (&filter.postcode, filter.within_km, centroid) {
                (Some(_), Some(km), Some((lat, lon))) => {
                    must.push(self.near_query(lat, lon, km));
                }
                (Some(_), Some(_), None) => return None,
                (Some(Postcode::Full(p)), None, _) => must.push(self.term_query(f.postcode, p)),
                (Some(Postcode::District(d)), None, _) => {
                    must.push(self.term_query(f.postcode, &format!("district:{d}")))
                }
                (None, _, _) => {}
            }
        }
        Some(must)
    }

    /// A page of a list (key and location position of each row) and the
    /// total, in the API's order: best text match first when there are
    /// words, then by service name, hub and position. `centroid` is where
    /// the filter's postcode is ([`super::place::centre`], which also
    /// counts hubs' addresses from the store): a `within_km` is measured
    /// from it, and matches nothing without it.
    pub fn list(
        &self,
        of: ListOf,
        filter: &Filter,
        centroid: Option<(f64, f64)>,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<(i64, usize)>, u64)> {
        let searcher = self.reader.searcher();
        let Some(mut must) = self.filter_query(of, filter, centroid) else {
            return Ok((Vec::new(), 0));
        };
        let mut rank = None;
        if let Some(q) = &filter.text {
            let matches = self.text_keys(q, MAX_TEXT_MATCHES)?;
            if matches.is_empty() {
                return Ok((Vec::new(), 0));
            }
            must.push(Box::new(TermSetQuery::new(
                matches
                    .iter()
                    .map(|r| Term::from_field_u64(self.fields.key, *r as u64)),
            )));
            rank = Some(Arc::new(
                matches
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (*r as u64, i as f64))
                    .collect::<HashMap<u64, f64>>(),
            ));
        }
        let schedule = (filter.weekday.is_some()
            || filter.opens_from_min.is_some()
            || filter.closes_by_min.is_some())
        .then_some((filter.weekday, filter.opens_from_min, filter.closes_by_min));
        let near = match (centroid, filter.within_km) {
            (Some((lat, lon)), Some(km)) if of == ListOf::Locations => Some((lat, lon, km)),
            _ => None,
        };
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let keep = offset.saturating_add(limit as usize);
        let query = BooleanQuery::new(must.into_iter().map(|q| (Occur::Must, q)).collect());
        let collector = PageCollector {
            order: Order::Name,
            keep,
            near,
            schedule,
            rank,
            ..PageCollector::default()
        };
        let (total, ranked) = searcher
            .search(&query, &collector)
            .map_err(tantivy_error("list"))?;
        Ok((
            ranked
                .into_iter()
                .skip(offset)
                .map(|r| (r.key, r.location()))
                .collect(),
            total,
        ))
    }

    /// The services of one organisation, by name, at most `limit`.
    pub fn organization_services(&self, id: &str, limit: u32) -> Result<Vec<i64>> {
        let filter = Filter {
            organization_id: Some(id.to_owned()),
            ..Filter::default()
        };
        let (rows, _) = self.list(ListOf::Services, &filter, None, limit, 0)?;
        Ok(rows.into_iter().map(|(key, _)| key).collect())
    }

    /// The key (and location position) of the first service, by key,
    /// that has the id: a service's or `service_at_location`'s own, or a
    /// shared one.
    pub fn first_with(&self, kind: &str, id: &str) -> Result<Option<(i64, usize)>> {
        let f = &self.fields;
        let own_id = |of| {
            // Every service and service_at_location id is a UUID; any other
            // text names none of them.
            uuid::Uuid::parse_str(id)
                .ok()
                .map(|id| (of, self.hsds_id_query(&id)))
        };
        let shared = |of, field| Some((of, self.term_query(field, id)));
        let Some((of, by_id)) = (match kind {
            "service" => own_id(KIND_SERVICE),
            "service_at_location" => own_id(KIND_LOCATION),
            "organization" => shared(KIND_SERVICE, f.org_id),
            "taxonomy" => shared(KIND_SERVICE, f.taxonomy_id),
            "taxonomy_term" => shared(KIND_SERVICE, f.term_id),
            _ => None,
        }) else {
            return Ok(None);
        };
        let query = BooleanQuery::new(vec![
            (Occur::Must, self.kind_query(of)),
            (Occur::Must, by_id),
        ]);
        let searcher = self.reader.searcher();
        searcher
            .search(&query, &FirstRowid)
            .map_err(tantivy_error("look up an id"))
    }

    /// A page of the distinct organisations, taxonomies or terms, by name
    /// (case ignored) then id, and how many there are; `parent` narrows
    /// terms to a taxonomy, `search` matches names (case ignored).
    pub fn distinct(
        &self,
        kind: Shared,
        parent: Option<&str>,
        search: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<DistinctEntry>, u64)> {
        let all = self.distinct_list(kind)?;
        let search = search.map(str::to_lowercase);
        let matching = all.iter().filter(|e| {
            parent.is_none_or(|p| e.parent.as_deref() == Some(p))
                && search
                    .as_deref()
                    .is_none_or(|s| e.labels.iter().any(|l| l.contains(s)))
        });
        let mut total = 0u64;
        let mut page = Vec::new();
        for e in matching {
            if total >= offset && page.len() < limit as usize {
                page.push(e.clone());
            }
            total += 1;
        }
        Ok((page, total))
    }

    /// Every distinct organisation, taxonomy or term with the services
    /// live now, computed once per index generation from the services'
    /// entries.
    fn distinct_list(&self, kind: Shared) -> Result<Arc<Vec<DistinctEntry>>> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let mut cache = self.distinct.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(&*cache, Some((g, _)) if *g == generation) {
            *cache = Some((generation, HashMap::new()));
        }
        if let Some((_, lists)) = &*cache {
            if let Some(list) = lists.get(&kind) {
                return Ok(list.clone());
            }
        }
        let (_, entry_field) = self.shared_field(kind);
        let field_name = searcher.schema().get_field_name(entry_field).to_owned();
        // id -> (label, lower-cased labels, parent, lowest key)
        let mut by_id: BTreeMap<String, DistinctEntry> = BTreeMap::new();
        for segment in searcher.segment_readers() {
            let fast = segment.fast_fields();
            let Some(entries) = fast
                .str(&field_name)
                .map_err(tantivy_error("read the distinct lists"))?
            else {
                continue;
            };
            let keys = fast
                .u64("key")
                .map_err(tantivy_error("read the distinct lists"))?;
            // Per entry ordinal, the lowest live key that has it.
            let mut lowest: Vec<Option<u64>> = vec![None; entries.num_terms()];
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let mut ords = entries.term_ords(doc).peekable();
                if ords.peek().is_none() {
                    continue;
                }
                let key = keys.first(doc).unwrap_or(u64::MAX);
                for ord in ords {
                    if let Some(slot) = lowest.get_mut(ord as usize) {
                        *slot = Some(slot.map_or(key, |r| r.min(key)));
                    }
                }
            }
            let mut text = String::new();
            for (ord, key) in lowest.into_iter().enumerate() {
                let Some(key) = key else { continue };
                if !entries
                    .ord_to_str(ord as u64, &mut text)
                    .map_err(|e| crate::error::Error::Setup(format!("search index: {e}")))?
                {
                    continue;
                }
                let mut parts = text.split(ENTRY_SEPARATOR);
                let (Some(id), Some(label), parent) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let parent = parent.filter(|p| !p.is_empty()).map(str::to_owned);
                let lower = label.to_lowercase();
                let e = by_id.entry(id.to_owned()).or_insert_with(|| DistinctEntry {
                    id: id.to_owned(),
                    label: label.to_owned(),
                    parent: parent.clone(),
                    key: key as i64,
                    labels: Vec::new(),
                });
                if (lower.as_str(), label) < (e.label.to_lowercase().as_str(), e.label.as_str()) {
                    e.label = label.to_owned();
                }
                if !e.labels.contains(&lower) {
                    e.labels.push(lower);
                }
                e.key = e.key.min(key as i64);
            }
        }
        let mut list: Vec<DistinctEntry> = by_id.into_values().collect();
        list.sort_by(|a, b| {
            a.label
                .to_lowercase()
                .cmp(&b.label.to_lowercase())
                .then_with(|| a.id.cmp(&b.id))
        });
        let list = Arc::new(list);
        if let Some((_, lists)) = &mut *cache {
            lists.insert(kind, list.clone());
        }
        Ok(list)
    }
}

fn u64_range(field: Field, low: Bound<u64>, high: Bound<u64>) -> Box<dyn Query> {
    let term = |v| Term::from_field_u64(field, v);
    Box::new(RangeQuery::new(low.map(term), high.map(term)))
}

/// The lowest key matching, with its location position.
struct FirstRowid;

struct FirstRowidSegment {
    key: tantivy::columnar::Column<u64>,
    loc: tantivy::columnar::Column<u64>,
    best: Option<(u64, u64)>,
}

impl Collector for FirstRowid {
    type Fruit = Option<(i64, usize)>;
    type Child = FirstRowidSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FirstRowidSegment> {
        Ok(FirstRowidSegment {
            key: segment.fast_fields().u64("key")?,
            loc: segment.fast_fields().u64("loc_position")?,
            best: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Option<(u64, u64)>>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits
            .into_iter()
            .flatten()
            .min()
            .map(|(r, l)| (r as i64, l as usize)))
    }
}

impl SegmentCollector for FirstRowidSegment {
    type Fruit = Option<(u64, u64)>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let found = (
            self.key.first(doc).unwrap_or(u64::MAX),
            self.loc.first(doc).unwrap_or(0),
        );
        if self.best.is_none_or(|b| found < b) {
            self.best = Some(found);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.best
    }
}
