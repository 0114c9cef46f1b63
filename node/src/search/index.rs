//! The aggregator's search index, held in memory.
//!
//! SQLite stays the record (every service as published, in the same
//! transaction as its hub's envelope); this index is derived from it: built
//! from the store when the node starts and kept in step by the store
//! writer after every commit. It answers the whole of a search (words
//! ranked by BM25, categories, distance, "open at") and hands back the
//! rowids of one page, which are then read from SQLite. Keeping it in
//! memory is what makes a search of a million services take milliseconds
//! (SQLite's FTS5 had to rank every match through SQL, and indexing text
//! inside each write transaction was a third of the store's cost).
//!
//! Slots of removed services are left empty and skipped; when they are as
//! many as the live ones, everything is renumbered in one pass.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use signpost_spec::Service;

use super::hours::{self, LocalMoment};
use super::{distance_km, text, Order, SearchParams, EARTH_RADIUS_KM, MAX_OFFSET};
use crate::store::aggregator::address_text;

/// Field weights for ranking, as the FTS5 ranking had them: a word in the
/// name counts most, then category, organisation, description, address.
const WEIGHT_NAME: f32 = 10.0;
const WEIGHT_TAXONOMY: f32 = 6.0;
const WEIGHT_ORGANIZATION: f32 = 4.0;
const WEIGHT_DESCRIPTION: f32 = 2.0;
const WEIGHT_ADDRESS: f32 = 1.0;
/// BM25's usual constants.
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Size of a grid cell for places, in degrees (about 5.5 km north-south).
const CELL_DEGREES: f64 = 0.05;
/// Fewest empty slots before a renumbering is worth its pass.
const MIN_COMPACTION: usize = 10_000;

/// One service's entry in a posting list: its slot and the weighted count
/// of the term in its fields.
#[derive(Debug, Clone, Copy)]
struct Posting {
    slot: u32,
    weight: f32,
}

/// A weekly opening span, dates as `YYYYMMDD` numbers.
#[derive(Debug, Clone)]
struct Span {
    weekday: u8,
    opens: u16,
    closes: u16,
    from: Option<u32>,
    to: Option<u32>,
}

/// What the index keeps of one service to filter and order without
/// touching SQLite.
#[derive(Debug)]
struct Doc {
    rowid: i64,
    hub: u32,
    zone: u16,
    position: u32,
    /// Lower-cased name, for ordering by name.
    name: Box<str>,
    categories: Box<[u32]>,
    places: Box<[(f64, f64)]>,
    spans: Box<[Span]>,
}

/// A service to add, as the store holds it.
pub struct Entry<'a> {
    /// Its rowid in `agg_services`.
    pub rowid: i64,
    /// Its position in the hub's listing.
    pub position: u32,
    /// What [`prepare`] made of it.
    pub prepared: &'a Prepared,
}

/// A service read into what the index keeps (terms, categories, places,
/// hours). Made by [`prepare`] where the listing is verified, on every
/// core, so the store writer only has to file it.
#[derive(Debug, Clone)]
pub struct Prepared {
    terms: Vec<(Box<str>, f32)>,
    length: u32,
    /// (lower-cased, as published)
    categories: Vec<(Box<str>, Box<str>)>,
    places: Box<[(f64, f64)]>,
    spans: Box<[Span]>,
    name: Box<str>,
}

/// Reads a service for the index.
pub fn prepare(service: &Service) -> Prepared {
    let mut weights: HashMap<String, f32> = HashMap::new();
    let mut length = 0u32;
    let mut field = |value: &str, weight: f32| {
        text::terms(value, |t| {
            length += 1;
            match weights.get_mut(t) {
                Some(w) => *w += weight,
                None => {
                    weights.insert(t.to_owned(), weight);
                }
            }
        })
    };
    field(&service.name, WEIGHT_NAME);
    for term in &service.taxonomy_terms {
        field(&term.name, WEIGHT_TAXONOMY);
    }
    if let Some(org) = &service.organization {
        field(&org.name, WEIGHT_ORGANIZATION);
    }
    field(
        service.description.as_deref().unwrap_or(""),
        WEIGHT_DESCRIPTION,
    );
    for location in &service.locations {
        if let Some(address) = &location.address {
            field(&address_text(address), WEIGHT_ADDRESS);
        }
    }
    Prepared {
        terms: weights
            .into_iter()
            .map(|(t, w)| (t.into_boxed_str(), w))
            .collect(),
        length,
        categories: service
            .taxonomy_terms
            .iter()
            .map(|t| (t.name.to_lowercase().into(), t.name.as_str().into()))
            .collect(),
        places: service
            .locations
            .iter()
            .filter_map(|l| Some((l.latitude?, l.longitude?)))
            .collect(),
        spans: hours::weekly_spans(&service.schedules)
            .into_iter()
            .map(|s| Span {
                weekday: s.weekday,
                opens: s.opens_min,
                closes: s.closes_min,
                from: date_number(s.valid_from.as_deref()),
                to: date_number(s.valid_to.as_deref()),
            })
            .collect(),
        name: service.name.to_lowercase().into_boxed_str(),
    }
}

#[derive(Default)]
struct Inner {
    docs: Vec<Option<Box<Doc>>>,
    /// Per slot, beside `docs` so the hot loops read packed numbers: the
    /// document length plus one (0 once removed) ...
    lengths: Vec<u32>,
    /// ... and the name's ordering key.
    name_keys: Vec<u128>,
    live: usize,
    total_length: u64,
    terms: BTreeMap<Box<str>, Vec<Posting>>,
    categories: HashMap<Box<str>, u32>,
    category_docs: Vec<Vec<u32>>,
    /// Per category: the name as first seen, and live services in it.
    category_names: Vec<(Box<str>, u64)>,
    cells: HashMap<(i32, i32), Vec<u32>>,
    hubs: HashMap<Box<str>, u32>,
    hub_names: Vec<Box<str>>,
    hub_docs: Vec<Vec<u32>>,
    zones: Vec<Box<str>>,
    /// Slots open at some time on each weekday (0 = Monday), in any zone.
    weekdays: [Vec<u32>; 7],
}

/// The search index (see the module's text). Cheap to share: searches take
/// a read lock, the store writer a write lock for each committed batch.
#[derive(Default)]
pub struct SearchIndex {
    inner: RwLock<Inner>,
}

/// The rowids of one page of results, with the total.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// `(rowid, distance in km when asked)` in result order.
    pub page: Vec<(i64, Option<f64>)>,
    /// Matches, counted up to `MAX_OFFSET + 1`.
    pub total: u64,
}

fn cell(lat: f64, lon: f64) -> (i32, i32) {
    (
        (lat / CELL_DEGREES).floor() as i32,
        (lon / CELL_DEGREES).floor() as i32,
    )
}

/// A name's first sixteen bytes as a number, compared before the names
/// themselves: most comparisons end there, without reading the service.
fn name_key(name: &str) -> u128 {
    let mut key = [0u8; 16];
    for (k, b) in key.iter_mut().zip(name.bytes()) {
        *k = b;
    }
    u128::from_be_bytes(key)
}

fn date_number(date: Option<&str>) -> Option<u32> {
    let digits: String = date?.chars().filter(char::is_ascii_digit).collect();
    digits.get(..8)?.parse().ok()
}

impl Inner {
    fn intern_hub(&mut self, hub_id: &str) -> u32 {
        if let Some(&id) = self.hubs.get(hub_id) {
            return id;
        }
        let id = self.hub_names.len() as u32;
        self.hubs.insert(hub_id.into(), id);
        self.hub_names.push(hub_id.into());
        self.hub_docs.push(Vec::new());
        id
    }

    fn intern_zone(&mut self, zone: &str) -> u16 {
        if let Some(i) = self.zones.iter().position(|z| &**z == zone) {
            return i as u16;
        }
        self.zones.push(zone.into());
        (self.zones.len() - 1) as u16
    }

    fn remove_hub(&mut self, hub_id: &str) {
        let Some(&hub) = self.hubs.get(hub_id) else {
            return;
        };
        for slot in std::mem::take(&mut self.hub_docs[hub as usize]) {
            if let Some(doc) = self.docs[slot as usize].take() {
                for &c in &doc.categories {
                    self.category_names[c as usize].1 -= 1;
                }
                let stored = std::mem::take(&mut self.lengths[slot as usize]);
                self.live -= 1;
                self.total_length -= u64::from(stored.saturating_sub(1));
            }
        }
    }

    fn add(&mut self, hub_id: &str, timezone: &str, entry: &Entry<'_>) {
        let hub = self.intern_hub(hub_id);
        let zone = self.intern_zone(timezone);
        let slot = self.docs.len() as u32;
        let prepared = entry.prepared;
        let length = prepared.length;
        for (term, weight) in &prepared.terms {
            match self.terms.get_mut(&**term) {
                Some(postings) => postings.push(Posting {
                    slot,
                    weight: *weight,
                }),
                None => {
                    self.terms.insert(
                        term.clone(),
                        vec![Posting {
                            slot,
                            weight: *weight,
                        }],
                    );
                }
            }
        }
        let mut categories = Vec::new();
        for (key, shown) in &prepared.categories {
            let next = self.category_docs.len() as u32;
            let id = match self.categories.get(&**key) {
                Some(&id) => id,
                None => {
                    self.categories.insert(key.clone(), next);
                    self.category_docs.push(Vec::new());
                    self.category_names.push((shown.clone(), 0));
                    next
                }
            };
            if !categories.contains(&id) {
                categories.push(id);
                self.category_docs[id as usize].push(slot);
                self.category_names[id as usize].1 += 1;
            }
        }
        let places = prepared.places.clone();
        let mut seen_cells = Vec::new();
        for &(lat, lon) in &places {
            let c = cell(lat, lon);
            if !seen_cells.contains(&c) {
                seen_cells.push(c);
                self.cells.entry(c).or_default().push(slot);
            }
        }
        let spans = prepared.spans.clone();
        let mut days = [false; 7];
        for span in &spans {
            days[usize::from(span.weekday % 7)] = true;
        }
        for (day, open) in days.iter().enumerate() {
            if *open {
                self.weekdays[day].push(slot);
            }
        }
        self.hub_docs[hub as usize].push(slot);
        self.total_length += u64::from(length);
        self.live += 1;
        let name = prepared.name.clone();
        self.lengths.push(length + 1);
        self.name_keys.push(name_key(&name));
        self.docs.push(Some(Box::new(Doc {
            rowid: entry.rowid,
            hub,
            zone,
            position: entry.position,
            name,
            categories: categories.into_boxed_slice(),
            places,
            spans,
        })));
    }

    /// Renumbers the live slots from zero, dropping every trace of removed
    /// ones, once they are as many as the live ones.
    fn compact_if_worth_it(&mut self) {
        let empty = self.docs.len() - self.live;
        if empty < MIN_COMPACTION.max(self.live) && self.docs.len() < u32::MAX as usize / 2 {
            return;
        }
        let mut renumber = vec![u32::MAX; self.docs.len()];
        let mut next = 0u32;
        for (old, doc) in self.docs.iter().enumerate() {
            if doc.is_some() {
                renumber[old] = next;
                next += 1;
            }
        }
        let keep = |slot: &mut u32| {
            let new = renumber[*slot as usize];
            *slot = new;
            new != u32::MAX
        };
        self.docs.retain(Option::is_some);
        let mut old = 0;
        self.name_keys.retain(|_| {
            old += 1;
            renumber[old - 1] != u32::MAX
        });
        self.lengths.retain(|&l| l != 0);
        self.terms.retain(|_, postings| {
            postings.retain_mut(|p| keep(&mut p.slot));
            !postings.is_empty()
        });
        for list in self
            .category_docs
            .iter_mut()
            .chain(self.hub_docs.iter_mut())
            .chain(self.weekdays.iter_mut())
        {
            list.retain_mut(|slot| keep(slot));
        }
        self.cells.retain(|_, list| {
            list.retain_mut(|slot| keep(slot));
            !list.is_empty()
        });
    }

    fn doc(&self, slot: u32) -> Option<&Doc> {
        self.docs.get(slot as usize)?.as_deref()
    }

    /// Every slot matching all the words, with its BM25 score.
    fn text_matches(&self, words: &[String]) -> Vec<(u32, f32)> {
        let n = self.live.max(1) as f32;
        let average = (self.total_length as f32 / n).max(1.0);
        let mut scored: Option<Vec<(u32, f32)>> = None;
        // Rarest word first, so the candidate set shrinks fastest.
        let mut lists: Vec<Vec<Posting>> = words.iter().map(|w| self.prefix_postings(w)).collect();
        lists.sort_by_key(Vec::len);
        for postings in lists {
            let idf = {
                let df = postings.len() as f32;
                ((n - df + 0.5) / (df + 0.5)).ln().max(1e-6)
            };
            let score = |p: &Posting| {
                let length = self.lengths[p.slot as usize].saturating_sub(1) as f32;
                idf * (p.weight * (K1 + 1.0)) / (p.weight + K1 * (1.0 - B + B * length / average))
            };
            scored = Some(match scored {
                None => postings
                    .iter()
                    .filter(|p| self.lengths[p.slot as usize] != 0)
                    .map(|p| (p.slot, score(p)))
                    .collect(),
                Some(so_far) => {
                    // Both lists are in slot order: merge.
                    let mut out = Vec::with_capacity(so_far.len().min(postings.len()));
                    let mut it = postings.iter().peekable();
                    for (slot, s) in so_far {
                        while it.next_if(|p| p.slot < slot).is_some() {}
                        if let Some(p) = it.next_if(|p| p.slot == slot) {
                            out.push((slot, s + score(p)));
                        }
                    }
                    out
                }
            });
            if scored.as_ref().is_some_and(Vec::is_empty) {
                break;
            }
        }
        scored.unwrap_or_default()
    }

    /// The postings of every term starting with `prefix`, merged into one
    /// list in slot order (a slot's weights added up).
    fn prefix_postings(&self, prefix: &str) -> Vec<Posting> {
        let mut lists = self
            .terms
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(term, _)| term.starts_with(prefix))
            .map(|(_, postings)| postings);
        let Some(first) = lists.next() else {
            return Vec::new();
        };
        let mut all = first.clone();
        let mut several = false;
        for more in lists {
            all.extend_from_slice(more);
            several = true;
        }
        if several {
            all.sort_unstable_by_key(|p| p.slot);
            all.dedup_by(|later, kept| {
                if later.slot == kept.slot {
                    kept.weight += later.weight;
                    true
                } else {
                    false
                }
            });
        }
        all
    }

    /// Slots with a place within `km` of the point, with the distance to
    /// the nearest of their places.
    fn near(&self, lat: f64, lon: f64, km: f64) -> Vec<(u32, f64)> {
        let dlat = (km / EARTH_RADIUS_KM).to_degrees();
        let cos = lat.to_radians().cos();
        let dlon = if cos < 1e-6 || lat.abs() + dlat >= 89.0 {
            180.0
        } else {
            (dlat / cos).min(180.0)
        };
        let (low, high) = (cell(lat - dlat, lon - dlon), cell(lat + dlat, lon + dlon));
        let wanted = (i64::from(high.0 - low.0) + 1) * (i64::from(high.1 - low.1) + 1);
        let mut slots: Vec<u32> = Vec::new();
        if wanted > self.cells.len() as i64 {
            for (c, list) in &self.cells {
                if (low.0..=high.0).contains(&c.0) && (low.1..=high.1).contains(&c.1) {
                    slots.extend_from_slice(list);
                }
            }
        } else {
            for a in low.0..=high.0 {
                for o in low.1..=high.1 {
                    if let Some(list) = self.cells.get(&(a, o)) {
                        slots.extend_from_slice(list);
                    }
                }
            }
        }
        slots.sort_unstable();
        slots.dedup();
        slots
            .into_iter()
            .filter_map(|slot| {
                let doc = self.doc(slot)?;
                let d = doc
                    .places
                    .iter()
                    .map(|&(a, o)| distance_km(a, o, lat, lon))
                    .fold(f64::INFINITY, f64::min);
                (d <= km).then_some((slot, d))
            })
            .collect()
    }

    fn open(&self, doc: &Doc, moments: &[LocalMoment], dates: &[u32]) -> bool {
        let (m, date) = (&moments[doc.zone as usize], dates[doc.zone as usize]);
        doc.spans.iter().any(|s| {
            s.weekday == m.weekday
                && s.opens <= m.minute
                && s.closes > m.minute
                && s.from.is_none_or(|f| f <= date)
                && s.to.is_none_or(|t| t >= date)
        })
    }

    fn search(&self, params: &SearchParams, categories: &[Option<u32>]) -> Found {
        // Candidates with a score (relevance) or a distance, from the most
        // selective source; every other condition is checked per slot.
        let mut candidates: Vec<(u32, f32, f64)>;
        let words = params
            .q
            .as_deref()
            .map(|q| text::query_terms(q, super::MAX_QUERY_WORDS));
        let wanted_categories: Vec<u32> = categories.iter().flatten().copied().collect();
        if !params.taxonomy.is_empty() && wanted_categories.is_empty() {
            return Found {
                page: Vec::new(),
                total: 0,
            };
        }
        let hub = match &params.hub {
            Some(h) => match self.hubs.get(h.as_str()) {
                Some(&id) => Some(id),
                None => {
                    return Found {
                        page: Vec::new(),
                        total: 0,
                    }
                }
            },
            None => None,
        };
        let mut distances: Option<HashMap<u32, f64>> = None;
        match &words {
            Some(words) if words.is_empty() => {
                return Found {
                    page: Vec::new(),
                    total: 0,
                }
            }
            Some(words) => {
                candidates = self
                    .text_matches(words)
                    .into_iter()
                    .map(|(slot, score)| (slot, score, f64::NAN))
                    .collect();
                if let Some((lat, lon, km)) = params.near {
                    distances = Some(self.near(lat, lon, km).into_iter().collect());
                }
            }
            None => {
                if let Some((lat, lon, km)) = params.near {
                    candidates = self
                        .near(lat, lon, km)
                        .into_iter()
                        .map(|(slot, d)| (slot, 0.0, d))
                        .collect();
                } else if let Some(hub) = hub {
                    candidates = self.hub_docs[hub as usize]
                        .iter()
                        .map(|&slot| (slot, 0.0, f64::NAN))
                        .collect();
                } else if !wanted_categories.is_empty() {
                    let mut slots: Vec<u32> = wanted_categories
                        .iter()
                        .flat_map(|&c| self.category_docs[c as usize].iter().copied())
                        .collect();
                    slots.sort_unstable();
                    slots.dedup();
                    candidates = slots.into_iter().map(|s| (s, 0.0, f64::NAN)).collect();
                } else if let Some(at) = params.open_at {
                    // Only services open on the local weekday of some zone.
                    let mut days: Vec<usize> = self
                        .zones
                        .iter()
                        .map(|z| usize::from(hours::local_moment(at, z).weekday % 7))
                        .collect();
                    days.sort_unstable();
                    days.dedup();
                    let mut slots: Vec<u32> = days
                        .iter()
                        .flat_map(|&d| self.weekdays[d].iter().copied())
                        .collect();
                    if days.len() > 1 {
                        slots.sort_unstable();
                        slots.dedup();
                    }
                    candidates = slots.into_iter().map(|s| (s, 0.0, f64::NAN)).collect();
                } else {
                    candidates = (0..self.docs.len() as u32)
                        .map(|s| (s, 0.0, f64::NAN))
                        .collect();
                }
            }
        }
        let moments: Option<(Vec<LocalMoment>, Vec<u32>)> = params.open_at.map(|at| {
            let moments: Vec<LocalMoment> = self
                .zones
                .iter()
                .map(|z| hours::local_moment(at, z))
                .collect();
            let dates = moments
                .iter()
                .map(|m| date_number(Some(&m.date)).unwrap_or(0))
                .collect();
            (moments, dates)
        });
        candidates.retain_mut(|(slot, _, distance)| {
            let Some(doc) = self.doc(*slot) else {
                return false;
            };
            if let Some(distances) = &distances {
                match distances.get(slot) {
                    Some(&d) => *distance = d,
                    None => return false,
                }
            }
            hub.is_none_or(|h| doc.hub == h)
                && (wanted_categories.is_empty()
                    || doc.categories.iter().any(|c| wanted_categories.contains(c)))
                && moments
                    .as_ref()
                    .is_none_or(|(m, dates)| self.open(doc, m, dates))
        });
        let total = candidates.len().min(MAX_OFFSET as usize + 1) as u64;
        let offset = (params.page.saturating_sub(1) as usize) * params.per_page as usize;
        let end = (offset + params.per_page as usize).min(candidates.len());
        if offset >= candidates.len() {
            return Found {
                page: Vec::new(),
                total,
            };
        }
        let by_name = |a: &(u32, f32, f64), b: &(u32, f32, f64)| -> Ordering {
            let quick = self.name_keys[a.0 as usize].cmp(&self.name_keys[b.0 as usize]);
            if quick != Ordering::Equal {
                return quick;
            }
            match (self.doc(a.0), self.doc(b.0)) {
                (Some(x), Some(y)) => x
                    .name
                    .cmp(&y.name)
                    .then_with(|| {
                        self.hub_names[x.hub as usize].cmp(&self.hub_names[y.hub as usize])
                    })
                    .then(x.position.cmp(&y.position)),
                _ => Ordering::Equal,
            }
        };
        let order = |a: &(u32, f32, f64), b: &(u32, f32, f64)| -> Ordering {
            match params.order {
                Order::Relevance => b.1.total_cmp(&a.1).then_with(|| by_name(a, b)),
                Order::Distance => a.2.total_cmp(&b.2).then_with(|| by_name(a, b)),
                Order::Name => by_name(a, b),
            }
        };
        if end < candidates.len() {
            candidates.select_nth_unstable_by(end, order);
            candidates.truncate(end);
        }
        candidates.sort_unstable_by(order);
        let want_distance = params.near.is_some();
        let page = candidates[offset..]
            .iter()
            .filter_map(|&(slot, _, d)| {
                let doc = self.doc(slot)?;
                Some((doc.rowid, want_distance.then_some(d)))
            })
            .collect();
        Found { page, total }
    }
}

impl SearchIndex {
    /// Replaces everything indexed for a hub with these services (none for
    /// a withdrawal or a delisting).
    pub fn replace_hub(&self, hub_id: &str, timezone: &str, entries: &[Entry<'_>]) {
        let mut inner = match self.inner.write() {
            Ok(i) => i,
            Err(poisoned) => poisoned.into_inner(),
        };
        inner.remove_hub(hub_id);
        for entry in entries {
            inner.add(hub_id, timezone, entry);
        }
        inner.compact_if_worth_it();
    }

    /// Runs a search and gives the rowids of the asked page.
    pub fn search(&self, params: &SearchParams) -> Found {
        let inner = match self.inner.read() {
            Ok(i) => i,
            Err(poisoned) => poisoned.into_inner(),
        };
        let categories: Vec<Option<u32>> = params
            .taxonomy
            .iter()
            .map(|t| inner.categories.get(t.to_lowercase().as_str()).copied())
            .collect();
        inner.search(params, &categories)
    }

    /// Every rowid matching the words, best first (at most `limit`), for
    /// other lists that filter by text (the Open Referral API).
    pub fn text_rowids(&self, q: &str, limit: usize) -> Vec<i64> {
        let inner = match self.inner.read() {
            Ok(i) => i,
            Err(poisoned) => poisoned.into_inner(),
        };
        let words = text::query_terms(q, super::MAX_QUERY_WORDS);
        if words.is_empty() {
            return Vec::new();
        }
        let mut matches = inner.text_matches(&words);
        matches.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        matches
            .into_iter()
            .take(limit)
            .filter_map(|(slot, _)| inner.doc(slot).map(|d| d.rowid))
            .collect()
    }

    /// Categories with how many services each has, the commonest first
    /// (at most `limit`), for the directory's category filter.
    pub fn categories(&self, limit: usize) -> Vec<(String, u64)> {
        let inner = match self.inner.read() {
            Ok(i) => i,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut all: Vec<(String, u64)> = inner
            .category_names
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| (name.to_string(), *n))
            .collect();
        all.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
        });
        all.truncate(limit);
        all
    }

    /// Services indexed now.
    pub fn len(&self) -> usize {
        self.inner.read().map(|i| i.live).unwrap_or(0)
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn service(id: &str, name: &str, category: &str, place: (f64, f64), day: &str) -> Service {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": name, "access": ["walk-in"],
            "description": "A friendly session",
            "locations": [{"id": format!("{id}-l"), "latitude": place.0, "longitude": place.1}],
            "taxonomy_terms": [{"name": category, "taxonomy": "signpost"}],
            "schedules": [{"byday": day, "opens_at": "09:00", "closes_at": "17:00"}]
        }))
        .expect("a valid service")
    }

    fn params(pairs: &[(&str, &str)]) -> SearchParams {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SearchParams::from_query(&map).expect("valid parameters")
    }

    fn rowids(index: &SearchIndex, pairs: &[(&str, &str)]) -> Vec<i64> {
        index
            .search(&params(pairs))
            .page
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    fn add(index: &SearchIndex, hub: &str, services: &[(i64, Service)]) {
        let prepared: Vec<Prepared> = services.iter().map(|(_, s)| prepare(s)).collect();
        let entries: Vec<Entry<'_>> = services
            .iter()
            .zip(&prepared)
            .enumerate()
            .map(|(i, ((rowid, _), prepared))| Entry {
                rowid: *rowid,
                position: i as u32,
                prepared,
            })
            .collect();
        index.replace_hub(hub, "Europe/London", &entries);
    }

    fn sample() -> SearchIndex {
        let index = SearchIndex::default();
        add(
            &index,
            "ed25519:a",
            &[
                (1, service("1", "Food Pantry", "Food", (53.81, -3.05), "MO")),
                (
                    2,
                    service("2", "Pantries and larders", "Food", (54.05, -2.80), "TU"),
                ),
                (
                    3,
                    service("3", "Job Club", "Employment", (53.81, -3.05), "MO"),
                ),
            ],
        );
        add(
            &index,
            "ed25519:b",
            &[(
                4,
                service("4", "Café de Paris lunch", "Food", (53.80, -3.04), "WE"),
            )],
        );
        index
    }

    #[test]
    fn words_match_as_stemmed_prefixes_and_all_must_match() {
        let index = sample();
        assert_eq!(
            rowids(&index, &[("q", "pantry"), ("order", "name")]),
            [1, 2]
        );
        assert_eq!(rowids(&index, &[("q", "pan")]).len(), 2);
        assert_eq!(rowids(&index, &[("q", "cafe")]), [4]);
        // "Food" is service 2's category: both words match there too, but
        // both are in service 1's name.
        assert_eq!(rowids(&index, &[("q", "food pantry")]), [1, 2]);
        assert!(rowids(&index, &[("q", "nothing")]).is_empty());
        // The name counts more than the category.
        assert_eq!(rowids(&index, &[("q", "food")])[0], 1);
    }

    #[test]
    fn categories_places_hubs_and_hours_filter() {
        let index = sample();
        assert_eq!(rowids(&index, &[("taxonomy", "employment")]), [3]);
        assert_eq!(rowids(&index, &[("taxonomy", "Nope")]), Vec::<i64>::new());
        let near = index.search(&params(&[("near", "53.81,-3.05"), ("within_km", "3")]));
        let found: Vec<i64> = near.page.iter().map(|p| p.0).collect();
        assert_eq!(found.len(), 3);
        assert!(!found.contains(&2), "Lancaster is 30 km away");
        assert!(near.page[0].1.is_some_and(|d| d < 0.01));
        let mut one_hub = params(&[]);
        one_hub.hub = Some("ed25519:b".into());
        assert_eq!(index.search(&one_hub).page, [(4, None)]);
        one_hub.hub = Some("ed25519:unknown".into());
        assert!(index.search(&one_hub).page.is_empty());
        // Monday 2026-11-30 10:00 in London.
        let monday = [("open_at", "2026-11-30T10:00:00Z"), ("order", "name")];
        assert_eq!(rowids(&index, &monday), [1, 3]);
        let evening = [("open_at", "2026-11-30T18:00:00Z")];
        assert!(rowids(&index, &evening).is_empty());
    }

    #[test]
    fn replacing_a_hub_removes_its_old_services_and_compaction_keeps_answers() {
        let index = sample();
        add(
            &index,
            "ed25519:a",
            &[(
                9,
                service("9", "Warm space", "Warmth", (53.81, -3.05), "MO"),
            )],
        );
        assert!(rowids(&index, &[("q", "pantry")]).is_empty());
        assert_eq!(rowids(&index, &[("q", "warm")]), [9]);
        // Enough churn to renumber the slots, then the same answers.
        for round in 0..(MIN_COMPACTION as i64 / 2 + 10) {
            add(
                &index,
                "ed25519:c",
                &[
                    (
                        100 + round * 2,
                        service("x", "Churn one", "Food", (53.0, -2.0), "MO"),
                    ),
                    (
                        101 + round * 2,
                        service("y", "Churn two", "Food", (53.0, -2.0), "MO"),
                    ),
                ],
            );
        }
        let inner = index.inner.read().expect("not poisoned");
        assert!(
            inner.docs.len() < MIN_COMPACTION + 10,
            "{}",
            inner.docs.len()
        );
        drop(inner);
        assert_eq!(index.len(), 4);
        assert_eq!(rowids(&index, &[("q", "warm")]), [9]);
        assert_eq!(
            rowids(&index, &[("q", "churn"), ("order", "name")]).len(),
            2
        );
        assert_eq!(
            rowids(&index, &[("near", "53.0,-2.0"), ("within_km", "1")]).len(),
            2
        );
        assert_eq!(index.text_rowids("cafe", 10), [4]);
    }

    #[test]
    fn totals_and_pages() {
        let index = sample();
        let all = index.search(&params(&[("per_page", "2"), ("page", "2")]));
        assert_eq!(all.total, 4);
        assert_eq!(all.page.len(), 2);
        let beyond = index.search(&params(&[("per_page", "2"), ("page", "3")]));
        assert!(beyond.page.is_empty());
    }
}
