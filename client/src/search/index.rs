//! The aggregator's search index: a tantivy index in the node's folder.
//!
//! SQLite keeps the record (every hub's envelope, the bytes it signed);
//! this index holds everything derived from it, each service as published
//! included, and can always be rebuilt from it. It answers the whole of a
//! search (words ranked by BM25, categories, distance, "open at", hub,
//! order and totals) and gives the services of one page.
//!
//! Why tantivy and a folder rather than memory: the index is opened by
//! mmap in milliseconds instead of being rebuilt from every stored service
//! at start (a minute per million services), the operating system keeps
//! only the pages searches touch, and posting lists are compressed.
//!
//! Keeping it in step: the store writer calls [`SearchIndex::replace_hub`]
//! after each committed batch, in change-number order, while it still holds
//! the database; commits are batched ([`SearchIndex::commit_if_dirty`], at
//! least every [`COMMIT_EVERY`]) and record the last change number they
//! hold, so after a crash the node catches up from the store
//! ([`crate::aggregator`]) instead of rebuilding. A missing, unreadable or
//! older-schema index is rebuilt, with a log line saying why.
//!
//! How each condition is asked: words are stemmed, accent-folded prefixes
//! (our own [`super::text`] tokenizer, on both sides, fed to tantivy
//! pre-tokenized) expanded against the term dictionary of one words field
//! (each part of a service written as often as its weight); categories are
//! lower-cased terms; places are cells of four grids (the finest that
//! covers the circle in few cells is asked) checked exactly against packed
//! coordinates in a fast field; "open at" is a term per (zone, weekday,
//! hour) the service is open in, checked exactly against packed weekly
//! spans. Each segment's documents are sorted in name order, so one
//! collector filters exactly, counts (up to a cap over all segments) and
//! keeps the best page per segment, stopping early in name order and
//! letting block-max WAND skip ties; segments' pages are merged by name.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::path::Path;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use signpost_spec::Service;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher, SegmentOrdinal,
    SegmentReader, TantivyDocument, Term,
};

use super::hours::{self, LocalMoment};
use super::{distance_km, text, Order, SearchParams, EARTH_RADIUS_KM, MAX_OFFSET};
use crate::error::{Error, Result};
use crate::store::aggregator::address_text;

/// The index's layout. Raised whenever the fields or what goes into them
/// change: an index of another version is rebuilt from the store at start.
pub const SCHEMA_VERSION: u32 = 6;
/// Longest a stored listing waits to become searchable while the store is
/// busy (when it is idle, each batch is committed at once).
pub const COMMIT_EVERY: Duration = Duration::from_millis(500);
/// How many times each part of a service is written into its one words
/// field: a word in the name counts most, then category, organisation,
/// description, address. One field instead of one per part keeps a typed
/// word a single posting list (a union of five made every intersection
/// seek through all five, the most of a two-word search's time), and BM25
/// still ranks a name match above a description match by its frequency.
const WEIGHTS: [(TextField, usize); 5] = [
    (TextField::Name, 4),
    (TextField::Taxonomy, 3),
    (TextField::Organization, 2),
    (TextField::Description, 1),
    (TextField::Address, 1),
];
/// Most terms one typed word (a prefix) stands for: "a" must not become a
/// query of every word in the region.
const MAX_EXPANSIONS: usize = 64;
/// Sizes of the grid cells a place is filed under, in degrees, finest
/// first (about 1.1 km, 11 km, 111 km and 1,100 km north-south). A search
/// near a point asks for the cells of the finest grid that covers its
/// circle in at most [`MAX_CELLS`] cells: a handful of small posting lists
/// instead of two range queries over every place's row and column.
const CELL_DEGREES: [f64; 4] = [0.01, 0.1, 1.0, 10.0];
/// Most cells one search near a point asks for (the coarsest grid is used
/// whatever its count).
const MAX_CELLS: i64 = 256;
/// Times to try for the writer's lock, 0.1 s apart.
const LOCK_TRIES: u32 = 50;
/// Memory for the index writer's buffers (shared by its threads).
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
enum TextField {
    Name,
    Taxonomy,
    Organization,
    Description,
    Address,
}

/// The fields of the schema, looked up once.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields {
    /// [`KIND_SERVICE`] or [`KIND_LOCATION`].
    pub(super) kind: Field,
    /// The service's Open Referral id, or the `service_at_location`'s, as
    /// the UUID's 16 bytes ([`hsds_id_term`]).
    pub(super) hsds_id: Field,
    pub(super) org_id: Field,
    pub(super) term_id: Field,
    pub(super) taxonomy_id: Field,
    /// Full postcodes (`FY1 6JH`) and districts (`district:FY1`).
    pub(super) postcode: Field,
    pub(super) open_day: Field,
    pub(super) loc_position: Field,
    /// The service's `minimum_age` and `maximum_age`, when it names them.
    pub(super) min_age: Field,
    pub(super) max_age: Field,
    pub(super) key: Field,
    /// The service as published (JSON), stored on its service document.
    service: Field,
    /// Lower-cased town of a location (location documents).
    town: Field,
    hub: Field,
    position: Field,
    name_order: Field,
    zone: Field,
    /// Every part's words, each as often as its weight ([`WEIGHTS`]).
    words: Field,
    category: Field,
    category_shown: Field,
    /// The grid cells of its places ([`cell_terms`]).
    cell: Field,
    places: Field,
    open_hour: Field,
    spans: Field,
    /// Per organisation, term and taxonomy of a service:
    /// `id \u{1f} label \u{1f} parent id` (for the distinct lists).
    pub(super) org_entry: Field,
    pub(super) term_entry: Field,
    pub(super) taxonomy_entry: Field,
}

/// The `kind` of a service's document.
pub(super) const KIND_SERVICE: &str = "s";
/// The `kind` of the document of one of a service's locations (a
/// `service_at_location`).
pub(super) const KIND_LOCATION: &str = "l";
/// Separates the parts of a distinct-list entry.
pub(super) const ENTRY_SEPARATOR: char = '\u{1f}';

/// The tokenizer of the words field: [`prepare`] has already made each
/// word a term ([`text::terms`]: folded, lower-cased, stemmed) and joined
/// them with spaces, so indexing only splits them again (handing tantivy
/// pre-tokenized text costs a JSON round trip of every token).
const TERMS_TOKENIZER: &str = "signpost_terms";

/// Each segment's documents in name order ([`rank_text`]).
fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        sort_by_field: Some(tantivy::IndexSortByField {
            field: "name_order".into(),
            order: tantivy::Order::Asc,
        }),
        ..tantivy::IndexSettings::default()
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TERMS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs)
            .set_fieldnorms(true),
    );
    let fields = Fields {
        kind: b.add_text_field("kind", STRING),
        hsds_id: b.add_bytes_field("hsds_id", INDEXED),
        org_id: b.add_text_field("org_id", STRING),
        term_id: b.add_text_field("term_id", STRING),
        taxonomy_id: b.add_text_field("taxonomy_id", STRING),
        postcode: b.add_text_field("postcode", STRING),
        open_day: b.add_text_field("open_day", STRING),
        loc_position: b.add_u64_field("loc_position", FAST),
        min_age: b.add_u64_field("min_age", INDEXED),
        max_age: b.add_u64_field("max_age", INDEXED),
        org_entry: b.add_text_field("org_entry", FAST),
        term_entry: b.add_text_field("term_entry", FAST),
        taxonomy_entry: b.add_text_field("taxonomy_entry", FAST),
        key: b.add_u64_field("key", INDEXED | FAST),
        service: b.add_text_field("service", STORED),
        town: b.add_text_field("town", STRING),
        hub: b.add_text_field("hub", STRING | FAST | STORED),
        position: b.add_u64_field("position", FAST),
        name_order: b.add_text_field("name_order", FAST),
        zone: b.add_text_field("zone", STRING | FAST),
        words: b.add_text_field("words", words),
        category: b.add_text_field("category", STRING),
        category_shown: b.add_text_field("category_shown", FAST),
        cell: b.add_text_field("cell", STRING),
        places: b.add_u64_field("places", FAST),
        open_hour: b.add_text_field("open_hour", STRING),
        spans: b.add_u64_field("spans", FAST),
    };
    (b.build(), fields)
}

/// A service read into what the index keeps. Made by [`prepare`] where the
/// listing is verified, on every core, so the store writer only files it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The terms of every part, each part as often as its weight
    /// ([`WEIGHTS`]), joined by spaces.
    words: String,
    /// (lower-cased, as published)
    categories: Vec<(String, String)>,
    /// Packed places ([`pack_place`]).
    places: Vec<u64>,
    /// Grid cell terms of its places.
    cells: Vec<String>,
    /// Packed weekly spans ([`pack_span`]).
    spans: Vec<u64>,
    /// (weekday, hour) in which the service is open at some minute.
    open_hours: Vec<(u8, u8)>,
    name: String,
    oruk: Oruk,
    /// The service as published, stored for pages and feeds to show.
    json: String,
}

/// What the Open Referral API asks of a service, derived as
/// [`crate::hsds::map`] derives its ids (hub-scoped).
#[derive(Debug, Clone)]
struct Oruk {
    service_id: uuid::Uuid,
    /// (minimum_age, maximum_age)
    ages: (Option<u8>, Option<u8>),
    /// (id, name)
    organization: (String, String),
    /// (id, name, taxonomy id)
    terms: Vec<(String, String, Option<String>)>,
    /// (id, name)
    taxonomies: Vec<(String, String)>,
    locations: Vec<OrukLocation>,
}

#[derive(Debug, Clone)]
struct OrukLocation {
    /// The `service_at_location` id.
    id: uuid::Uuid,
    postcode: Option<String>,
    /// Lower-cased town, for placing a typed town name.
    town: Option<String>,
    place: Option<(f64, f64)>,
}

fn oruk(service: &Service, hub_id: &str, hub_name: &str) -> Oruk {
    use crate::hsds::map;
    // The ids map::scoped gives, without copying the service.
    let service_id = map::scoped_service_uuid(hub_id, &service.id);
    let scoped_service = service_id.hyphenated().to_string();
    let organization = match &service.organization {
        Some(org) => (map::scoped_organization_id(hub_id, org), org.name.clone()),
        None => (map::hub_organization_id(hub_id), hub_name.to_owned()),
    };
    let mut terms = Vec::new();
    let mut taxonomies: Vec<(String, String)> = Vec::new();
    for (id, t) in map::all_terms_with_ids(service) {
        let taxonomy = t
            .taxonomy
            .as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty());
        let taxonomy_id = taxonomy.map(map::taxonomy_id);
        if let (Some(name), Some(id)) = (taxonomy, &taxonomy_id) {
            if !taxonomies.iter().any(|(i, _)| i == id) {
                taxonomies.push((id.clone(), name.to_owned()));
            }
        }
        terms.push((id, t.name, taxonomy_id));
    }
    let locations = service
        .locations
        .iter()
        .map(|l| OrukLocation {
            id: map::service_at_location_uuid(
                &scoped_service,
                &map::scoped_location_id(hub_id, &l.id),
            ),
            postcode: l
                .address
                .as_ref()
                .and_then(|a| a.postal_code.as_deref())
                .and_then(crate::search::place::Postcode::parse)
                .and_then(|p| match p {
                    crate::search::place::Postcode::Full(p) => Some(p),
                    crate::search::place::Postcode::District(_) => None,
                }),
            place: l.latitude.zip(l.longitude),
            town: l
                .address
                .as_ref()
                .and_then(|a| a.city.as_deref())
                .map(town_term)
                .filter(|t| !t.is_empty()),
        })
        .collect();
    Oruk {
        ages: (service.minimum_age, service.maximum_age),
        service_id,
        organization,
        terms,
        taxonomies,
        locations,
    }
}

/// The terms a postcode is found by: itself and its district.
pub(super) fn postcode_terms(postcode: &str) -> [String; 2] {
    let district = postcode.split(' ').next().unwrap_or(postcode);
    [postcode.to_owned(), format!("district:{district}")]
}

/// A town as the index files it (and is asked for it).
pub(crate) fn town_term(town: &str) -> String {
    town.trim().to_lowercase()
}

/// Bits of a service key that hold the service's position in its listing
/// (a listing holds at most `Limits::max_services`, 5,000).
const POSITION_BITS: u32 = 20;

/// The key of a service in the index: its hub's row in the store and its
/// position in the hub's listing. Stable while the hub's listing is; the
/// Open Referral lists order by it.
pub fn service_key(hub_key: i64, position: u32) -> i64 {
    (hub_key << POSITION_BITS) | i64::from(position & ((1 << POSITION_BITS) - 1))
}

/// A service to add, with where it is in the store.
pub struct Entry<'a> {
    /// Its [`service_key`].
    pub key: i64,
    /// Its position in the hub's listing.
    pub position: u32,
    /// What [`prepare`] made of it.
    pub prepared: &'a Prepared,
}

/// Reads a service for the index; `hub_id` and `hub_name` are those of
/// the hub that published it (its Open Referral ids are scoped by them).
pub fn prepare(service: &Service, hub_id: &str, hub_name: &str) -> Prepared {
    let mut words = String::new();
    let mut part = String::new();
    for (field, times) in WEIGHTS {
        part.clear();
        let mut add = |value: &str| {
            text::terms(value, |t| {
                part.push_str(t);
                part.push(' ');
            })
        };
        match field {
            TextField::Name => add(&service.name),
            TextField::Taxonomy => {
                for term in &service.taxonomy_terms {
                    add(&term.name);
                }
            }
            TextField::Organization => {
                if let Some(org) = &service.organization {
                    add(&org.name);
                }
            }
            TextField::Description => add(service.description.as_deref().unwrap_or("")),
            TextField::Address => {
                for location in &service.locations {
                    if let Some(address) = &location.address {
                        add(&address_text(address));
                    }
                }
            }
        }
        for _ in 0..times {
            words.push_str(&part);
        }
    }
    let mut categories: Vec<(String, String)> = Vec::new();
    for t in &service.taxonomy_terms {
        let key = t.name.to_lowercase();
        if !categories.iter().any(|(k, _)| *k == key) {
            categories.push((key, t.name.clone()));
        }
    }
    let points: Vec<(f64, f64)> = service
        .locations
        .iter()
        .filter_map(|l| Some((l.latitude?, l.longitude?)))
        .collect();
    let mut cells: Vec<String> = points.iter().flat_map(|&(a, o)| cell_terms(a, o)).collect();
    cells.sort_unstable();
    cells.dedup();
    let weekly = hours::weekly_spans(&service.schedules);
    let mut open_hours: Vec<(u8, u8)> = Vec::new();
    for s in &weekly {
        let closes = s.closes_min.min(24 * 60);
        if closes <= s.opens_min {
            continue;
        }
        for hour in s.opens_min / 60..=(closes - 1) / 60 {
            open_hours.push((s.weekday % 7, hour as u8));
        }
    }
    open_hours.sort_unstable();
    open_hours.dedup();
    Prepared {
        words,
        categories,
        places: points.iter().map(|&(a, o)| pack_place(a, o)).collect(),
        cells,
        spans: weekly
            .iter()
            .map(|s| {
                pack_span(&Span {
                    weekday: s.weekday % 7,
                    opens: s.opens_min,
                    closes: s.closes_min,
                    from: day_number(s.valid_from.as_deref()),
                    to: day_number(s.valid_to.as_deref()),
                })
            })
            .collect(),
        open_hours,
        name: service.name.to_lowercase(),
        oruk: oruk(service, hub_id, hub_name),
        // Serialising a typed service cannot fail (no maps with non-string keys).
        json: serde_json::to_string(service).unwrap_or_default(),
    }
}

/// The cell of a place in the grid of `level` ([`CELL_DEGREES`]).
fn cell(level: usize, lat: f64, lon: f64) -> (i64, i64) {
    let size = CELL_DEGREES[level];
    ((lat / size).floor() as i64, (lon / size).floor() as i64)
}

fn cell_term(level: usize, (lat, lon): (i64, i64)) -> String {
    format!("{level}:{lat}:{lon}")
}

/// The terms a place is filed under: its cell in each grid.
fn cell_terms(lat: f64, lon: f64) -> impl Iterator<Item = String> {
    (0..CELL_DEGREES.len()).map(move |level| cell_term(level, cell(level, lat, lon)))
}

/// Where a document stands in name order, as one string that sorts as
/// (lower-cased name, hub, position in the listing, position among the
/// service's locations) do: the field each segment's documents are sorted
/// by, so that within a segment a lower document number is a better
/// place in name order and breaks every tie of the score or distance.
/// That lets a search by name stop once its page is full, and block-max
/// WAND skip a tie at the page's edge instead of testing it.
fn rank_text(name: &str, hub_id: &str, position: u32, location: usize) -> String {
    let name: String = name.chars().filter(|c| *c >= ' ').collect();
    format!(
        "{name}{RANK_SEPARATOR}{hub_id}{RANK_SEPARATOR}{position:07}{RANK_SEPARATOR}{location:05}"
    )
}

/// Below every character of a name (control characters are left out).
const RANK_SEPARATOR: char = '\u{1}';

/// A place as one number: micro-degrees of latitude and longitude, offset
/// to be positive (a tenth of a metre is finer than any address).
fn pack_place(lat: f64, lon: f64) -> u64 {
    let lat = ((lat.clamp(-90.0, 90.0) + 90.0) * 1e6).round() as u64;
    let lon = ((lon.clamp(-180.0, 180.0) + 180.0) * 1e6).round() as u64;
    (lat << 32) | lon
}

pub(super) fn unpack_place(packed: u64) -> (f64, f64) {
    let lat = (packed >> 32) as f64 / 1e6 - 90.0;
    let lon = (packed & 0xFFFF_FFFF) as f64 / 1e6 - 180.0;
    (lat, lon)
}

/// A weekly opening span; dates as [`day_number`]s, 0 for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    weekday: u8,
    opens: u16,
    closes: u16,
    from: u16,
    to: u16,
}

fn pack_span(s: &Span) -> u64 {
    (u64::from(s.weekday) << 54)
        | (u64::from(s.opens.min(2047)) << 43)
        | (u64::from(s.closes.min(2047)) << 32)
        | (u64::from(s.from) << 16)
        | u64::from(s.to)
}

fn unpack_span(v: u64) -> Span {
    Span {
        weekday: ((v >> 54) & 0x7) as u8,
        opens: ((v >> 43) & 0x7FF) as u16,
        closes: ((v >> 32) & 0x7FF) as u16,
        from: ((v >> 16) & 0xFFFF) as u16,
        to: (v & 0xFFFF) as u16,
    }
}

/// A `YYYY-MM-DD` date as a small number that keeps date order (1 is the
/// first of January 2000; dates before it become 1, after 2175 the last);
/// 0 for none or unreadable.
fn day_number(date: Option<&str>) -> u16 {
    let Some(date) = date else { return 0 };
    let digits: String = date.chars().filter(char::is_ascii_digit).collect();
    let (Some(y), Some(m), Some(d)) = (
        digits.get(0..4).and_then(|v| v.parse::<i64>().ok()),
        digits.get(4..6).and_then(|v| v.parse::<i64>().ok()),
        digits.get(6..8).and_then(|v| v.parse::<i64>().ok()),
    ) else {
        return 0;
    };
    let n = (y - 2000) * 372 + (m - 1).clamp(0, 11) * 31 + (d - 1).clamp(0, 30) + 1;
    n.clamp(1, i64::from(u16::MAX)) as u16
}

fn open_hour_term(zone: &str, weekday: u8, hour: u8) -> String {
    format!("{zone}|{weekday}|{hour}")
}

/// What the commit payload records.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    schema: u32,
    change: i64,
}

#[derive(Debug)]
struct Progress {
    /// The highest change number applied to the writer.
    applied: i64,
    /// The highest change number in the last commit.
    committed: i64,
    /// Changes applied since the last commit.
    dirty: bool,
    /// Applying or committing failed: catch up from the store.
    failed: bool,
    /// When the last commit ended.
    last_commit: Instant,
}

/// Categories with their counts, as of one searcher generation.
type CategoryCounts = (u64, Vec<(String, u64)>);

/// The search index (see the module's text). Cheap to share: searches use
/// the reader, the store writer adds through the writer.
pub struct SearchIndex {
    pub(super) fields: Fields,
    pub(super) reader: IndexReader,
    /// None after a rollback failed (tantivy's writer cannot be used
    /// again then): the next rollback opens a new one.
    writer: RwLock<Option<IndexWriter>>,
    /// To open a new writer, and how many threads it gets.
    index: Index,
    threads: usize,
    progress: Mutex<Progress>,
    /// The categories list, per searcher generation.
    categories: Mutex<Option<CategoryCounts>>,
    /// The Open Referral distinct lists, per searcher generation.
    pub(super) distinct: Mutex<Option<(u64, super::oruk::DistinctLists)>>,
}

/// The keys of one page of results, with the total.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// `(key, distance in km when asked)` in result order.
    pub page: Vec<(i64, Option<f64>)>,
    /// Matches, counted up to `MAX_OFFSET + 1`.
    pub total: u64,
}

impl Found {
    fn none() -> Found {
        Found {
            page: Vec::new(),
            total: 0,
        }
    }
}

/// A service as published, and the hub that published it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredService {
    /// The hub's id.
    pub hub_id: String,
    /// The service (JSON of [`signpost_spec::Service`]).
    pub json: String,
}

/// A place typed by someone, as the index can find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A whole postcode as filed (`FY1 6JH`).
    Postcode(String),
    /// A postcode district (`FY1`).
    District(String),
    /// A town or city name, any case.
    Town(String),
}

/// Most locations read to place one typed place (their middle is the
/// answer; more would not move it).
const MAX_PLACE_POINTS: usize = 10_000;

/// Indexing threads: two where there are two cores or more (more would
/// only add segments to merge at a directory's scale).
fn writer_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2)
}

pub(super) fn tantivy_error(what: &str) -> impl Fn(tantivy::TantivyError) -> Error + '_ {
    move |e| Error::Setup(format!("search index: {what}: {e}"))
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when missing and recreating it
    /// (empty) when it cannot be read or has another schema version; the
    /// caller then fills it from the store from [`Self::committed_change`].
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        match Self::open_existing(dir) {
            Ok(Some(index)) => return Ok(index),
            Ok(None) => {
                tracing::info!(dir = %dir.display(), "no search index yet: building it from the store")
            }
            Err(why) => {
                tracing::warn!(dir = %dir.display(), reason = %why, "the search index cannot be used: rebuilding it from the store");
                std::fs::remove_dir_all(dir).map_err(|e| {
                    Error::Setup(format!(
                        "the search index in {} cannot be removed to rebuild it: {e}",
                        dir.display()
                    ))
                })?;
            }
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Setup(format!(
                "the search index folder {} cannot be made: {e}",
                dir.display()
            ))
        })?;
        let (schema, _) = schema();
        let index = Index::builder()
            .schema(schema)
            .settings(settings())
            .create_in_dir(dir)
            .map_err(tantivy_error("create"))?;
        Self::from_index(index, 0, writer_threads())
    }

    /// An index in memory only, written by one thread (for tests and
    /// measurements that keep nothing).
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, _) = schema();
        let index = Index::builder()
            .schema(schema)
            .settings(settings())
            .create_in_ram()
            .map_err(tantivy_error("create"))?;
        Self::from_index(index, 0, 1)
    }

    /// Ok(None) when there is no index in `dir`; Err(why) when there is
    /// one that cannot be used.
    fn open_existing(dir: &Path) -> std::result::Result<Option<SearchIndex>, String> {
        if !dir.join("meta.json").exists() {
            if dir.exists() && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
                return Err("its meta.json is missing".into());
            }
            return Ok(None);
        }
        let directory = MmapDirectory::open(dir).map_err(|e| e.to_string())?;
        let index = Index::open(directory).map_err(|e| e.to_string())?;
        let metas = index.load_metas().map_err(|e| e.to_string())?;
        let change = match metas.payload.as_deref() {
            None => 0,
            Some(text) => {
                let payload: Payload = serde_json::from_str(text)
                    .map_err(|e| format!("its commit payload is unreadable: {e}"))?;
                if payload.schema != SCHEMA_VERSION {
                    return Err(format!(
                        "it has schema version {}, this build uses {SCHEMA_VERSION}",
                        payload.schema
                    ));
                }
                payload.change
            }
        };
        let (expected, _) = schema();
        if index.schema() != expected {
            return Err("its fields are not this build's".into());
        }
        if index.settings().sort_by_field != settings().sort_by_field {
            return Err("its documents are not sorted as this build's are".into());
        }
        // Every segment's files must be there and readable.
        let reader = index.reader().map_err(|e| e.to_string())?;
        let searcher = reader.searcher();
        for segment in searcher.segment_readers() {
            segment
                .fast_fields()
                .u64("key")
                .map_err(|e| format!("a segment is unreadable: {e}"))?;
        }
        Self::from_index(index, change, writer_threads())
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn from_index(index: Index, change: i64, threads: usize) -> Result<SearchIndex> {
        let (_, fields) = schema();
        index.tokenizers().register(
            TERMS_TOKENIZER,
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
        );
        let writer = open_writer(&index, threads)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_error("open the reader"))?;
        Ok(SearchIndex {
            fields,
            reader,
            writer: RwLock::new(Some(writer)),
            index,
            threads,
            progress: Mutex::new(Progress {
                applied: change,
                committed: change,
                dirty: false,
                failed: false,
                last_commit: Instant::now() - COMMIT_EVERY,
            }),
            categories: Mutex::new(None),
            distinct: Mutex::new(None),
        })
    }

    /// The last change number the index holds on disk: the store's changes
    /// above it are to be applied again.
    pub fn committed_change(&self) -> i64 {
        self.progress.lock().map_or(0, |p| p.committed)
    }

    /// Replaces everything indexed for a hub with these services (none for
    /// a withdrawal or a delisting), as of store change `change`. Becomes
    /// searchable at the next commit.
    pub fn replace_hub(
        &self,
        hub_id: &str,
        timezone: &str,
        entries: &[Entry<'_>],
        change: i64,
    ) -> Result<()> {
        let f = &self.fields;
        let writer = self.writer.read().unwrap_or_else(|p| p.into_inner());
        let writer = writer.as_ref().ok_or_else(no_writer)?;
        writer.delete_term(Term::from_field_text(f.hub, hub_id));
        for entry in entries {
            let p = entry.prepared;
            let o = &p.oruk;
            // What a service's document and its locations' share: where it
            // is in the store and the listing, its order, and what the
            // Open Referral filters ask of the service.
            let shared = |doc: &mut TantivyDocument| {
                doc.add_u64(f.key, entry.key as u64);
                doc.add_text(f.hub, hub_id);
                doc.add_u64(f.position, u64::from(entry.position));
                doc.add_text(f.zone, timezone);
                doc.add_text(f.org_id, &o.organization.0);
                if let Some(age) = o.ages.0 {
                    doc.add_u64(f.min_age, u64::from(age));
                }
                if let Some(age) = o.ages.1 {
                    doc.add_u64(f.max_age, u64::from(age));
                }
                for (id, _, _) in &o.terms {
                    doc.add_text(f.term_id, id);
                }
                for (id, _) in &o.taxonomies {
                    doc.add_text(f.taxonomy_id, id);
                }
                let mut days: Vec<u8> = p.open_hours.iter().map(|(d, _)| *d).collect();
                days.dedup();
                for day in days {
                    doc.add_text(f.open_day, day.to_string());
                }
                for &span in &p.spans {
                    doc.add_u64(f.spans, span);
                }
            };
            let mut doc = TantivyDocument::new();
            shared(&mut doc);
            doc.add_text(f.name_order, rank_text(&p.name, hub_id, entry.position, 0));
            doc.add_text(f.kind, KIND_SERVICE);
            doc.add_bytes(f.hsds_id, o.service_id.as_bytes());
            doc.add_text(f.service, &p.json);
            if !p.words.is_empty() {
                doc.add_text(f.words, &p.words);
            }
            for (key, shown) in &p.categories {
                doc.add_text(f.category, key);
                doc.add_text(f.category_shown, shown);
            }
            for term in &p.cells {
                doc.add_text(f.cell, term);
            }
            for &place in &p.places {
                doc.add_u64(f.places, place);
            }
            for &(day, hour) in &p.open_hours {
                doc.add_text(f.open_hour, open_hour_term(timezone, day, hour));
            }
            let sep = ENTRY_SEPARATOR;
            doc.add_text(
                f.org_entry,
                format!("{}{sep}{}{sep}", o.organization.0, o.organization.1),
            );
            for (id, name, parent) in &o.terms {
                doc.add_text(
                    f.term_entry,
                    format!("{id}{sep}{name}{sep}{}", parent.as_deref().unwrap_or("")),
                );
            }
            for (id, name) in &o.taxonomies {
                doc.add_text(f.taxonomy_entry, format!("{id}{sep}{name}{sep}"));
            }
            writer
                .add_document(doc)
                .map_err(tantivy_error("add a service"))?;
            for (i, l) in o.locations.iter().enumerate() {
                let mut loc = TantivyDocument::new();
                shared(&mut loc);
                loc.add_text(f.name_order, rank_text(&p.name, hub_id, entry.position, i));
                loc.add_text(f.kind, KIND_LOCATION);
                loc.add_bytes(f.hsds_id, l.id.as_bytes());
                loc.add_u64(f.loc_position, i as u64);
                if let Some(postcode) = &l.postcode {
                    for term in postcode_terms(postcode) {
                        loc.add_text(f.postcode, term);
                    }
                }
                if let Some(town) = &l.town {
                    loc.add_text(f.town, town);
                }
                if let Some((a, o)) = l.place {
                    for term in cell_terms(a, o) {
                        loc.add_text(f.cell, term);
                    }
                    loc.add_u64(f.places, pack_place(a, o));
                }
                writer
                    .add_document(loc)
                    .map_err(tantivy_error("add a location"))?;
            }
        }
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.applied = progress.applied.max(change);
        progress.dirty = true;
        Ok(())
    }

    /// Commits what was applied since the last commit (with the change
    /// number reached) and makes it searchable; does nothing when nothing
    /// changed.
    pub fn commit_if_dirty(&self) -> Result<()> {
        let mut writer = self.writer.write().unwrap_or_else(|p| p.into_inner());
        let change = {
            let progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
            if !progress.dirty {
                return Ok(());
            }
            progress.applied
        };
        let payload = serde_json::to_string(&Payload {
            schema: SCHEMA_VERSION,
            change,
        })
        .map_err(|e| Error::Setup(format!("search index payload: {e}")))?;
        let mut prepared = writer
            .as_mut()
            .ok_or_else(no_writer)?
            .prepare_commit()
            .map_err(tantivy_error("prepare a commit"))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(tantivy_error("commit"))?;
        drop(writer);
        {
            let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
            progress.committed = change;
            progress.dirty = false;
            progress.last_commit = Instant::now();
        }
        self.reader.reload().map_err(tantivy_error("reload"))?;
        Ok(())
    }

    /// Commits when something changed and the last commit is at least
    /// [`COMMIT_EVERY`] old, and says whether it did: what the directory's
    /// index thread does when nothing is waiting. An idle directory's
    /// listing is so searchable at once, while a busy one commits about
    /// twice a second, not after every batch: each commit writes a segment
    /// (a term dictionary per field) that merges then rewrite, which was
    /// the largest part of ingest (docs/benchmarks.md).
    pub fn commit_if_due(&self) -> Result<bool> {
        let due = {
            let progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
            progress.dirty && progress.last_commit.elapsed() >= COMMIT_EVERY
        };
        if due {
            self.commit_if_dirty()?;
        }
        Ok(due)
    }

    /// Records that the store's changes up to `change` are all applied
    /// (the next commit says so, even when they added nothing).
    pub fn reached(&self, change: i64) {
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.applied = progress.applied.max(change);
        progress.dirty = true;
    }

    /// Removes every service, to be filed again from change 0.
    pub fn clear(&self) -> Result<()> {
        let writer = self.writer.read().unwrap_or_else(|p| p.into_inner());
        writer
            .as_ref()
            .ok_or_else(no_writer)?
            .delete_all_documents()
            .map_err(tantivy_error("clear"))?;
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.applied = 0;
        progress.committed = 0;
        progress.dirty = true;
        Ok(())
    }

    /// Notes that applying or committing failed (a full disk, say): the
    /// index is behind the store until [`Self::take_failure`]'s caller
    /// rolls back and catches up.
    pub fn failed(&self, error: &Error) {
        tracing::error!(error = %error, "the search index could not keep up with the store; it will catch up");
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.failed = true;
    }

    /// True (once) after [`Self::failed`].
    pub fn take_failure(&self) -> bool {
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut progress.failed)
    }

    /// Throws away what was applied since the last commit (after a failed
    /// commit, so the next one starts from the last good state).
    /// A writer that failed to roll back (after its threads died of a
    /// full disk, say) is dropped and a new one opened, here or at the
    /// next call.
    pub fn rollback(&self) -> Result<()> {
        let mut writer = self.writer.write().unwrap_or_else(|p| p.into_inner());
        let rolled_back = match writer.as_mut() {
            Some(w) => w.rollback().map(|_| ()).map_err(tantivy_error("roll back")),
            None => Err(Error::Setup("search index: no writer".into())),
        };
        if let Err(why) = rolled_back {
            // Drop the old writer first: it may still hold the folder's lock.
            *writer = None;
            tracing::warn!(reason = %why, "the search index's writer is opened again");
            *writer = Some(open_writer(&self.index, self.threads)?);
        }
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.applied = progress.committed;
        progress.dirty = false;
        Ok(())
    }

    /// Every hub the index holds services of.
    pub fn hubs(&self) -> Result<Vec<String>> {
        field_terms(&self.reader.searcher(), self.fields.hub)
    }

    /// The services of these keys as published, with their hubs: what a
    /// page of results shows. A key no longer held is left out.
    pub fn stored(&self, keys: &[i64]) -> Result<HashMap<i64, StoredService>> {
        let searcher = self.reader.searcher();
        let query = BooleanQuery::new(vec![
            (Occur::Must, self.kind_query(KIND_SERVICE)),
            (
                Occur::Must,
                Box::new(tantivy::query::TermSetQuery::new(
                    keys.iter()
                        .map(|k| Term::from_field_u64(self.fields.key, *k as u64)),
                )),
            ),
        ]);
        let docs = searcher
            .search(&query, &tantivy::collector::DocSetCollector)
            .map_err(tantivy_error("find services"))?;
        let mut out = HashMap::with_capacity(docs.len());
        for address in docs {
            let key = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .u64("key")
                .map_err(tantivy_error("read a key"))?
                .first(address.doc_id);
            let doc: TantivyDocument = searcher
                .doc(address)
                .map_err(tantivy_error("read a service"))?;
            if let (Some(key), Some(stored)) = (key, self.stored_service(&doc)) {
                out.insert(key as i64, stored);
            }
        }
        Ok(out)
    }

    /// One service as published, by its hub and the id the hub gave it.
    pub fn service(&self, hub_id: &str, service_id: &str) -> Result<Option<StoredService>> {
        let searcher = self.reader.searcher();
        let id = crate::hsds::map::derived_uuid("service", &[hub_id, service_id]);
        let query = BooleanQuery::new(vec![
            (Occur::Must, self.kind_query(KIND_SERVICE)),
            (Occur::Must, self.term_query(self.fields.hub, hub_id)),
            (Occur::Must, self.hsds_id_query(&id)),
        ]);
        let found = searcher
            .search(&query, &tantivy::collector::DocSetCollector)
            .map_err(tantivy_error("find a service"))?;
        let Some(address) = found.into_iter().next() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher
            .doc(address)
            .map_err(tantivy_error("read a service"))?;
        Ok(self.stored_service(&doc))
    }

    /// Visits every service held, as published, a segment at a time (the
    /// coordinator reports' one scan).
    pub fn for_each_service(
        &self,
        mut visit: impl FnMut(StoredService) -> Result<()>,
    ) -> Result<()> {
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            let store = segment
                .get_store_reader(1)
                .map_err(|e| Error::Setup(format!("search index: read stored services: {e}")))?;
            for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
                let doc = doc.map_err(tantivy_error("read a service"))?;
                if let Some(stored) = self.stored_service(&doc) {
                    visit(stored)?;
                }
            }
        }
        Ok(())
    }

    fn stored_service(&self, doc: &TantivyDocument) -> Option<StoredService> {
        use tantivy::schema::Value;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        Some(StoredService {
            hub_id: text(self.fields.hub)?,
            json: text(self.fields.service)?,
        })
    }

    /// Coordinates of the locations held at a place: a whole postcode
    /// (`FY1 6JH`), a district (`FY1`) or a town (any case).
    pub fn place_points(&self, place: &Place) -> Result<Vec<(f64, f64)>> {
        let searcher = self.reader.searcher();
        let (field, value) = match place {
            Place::Postcode(p) => (self.fields.postcode, p.clone()),
            Place::District(d) => (self.fields.postcode, format!("district:{d}")),
            Place::Town(t) => (self.fields.town, town_term(t)),
        };
        let query = BooleanQuery::new(vec![
            (Occur::Must, self.kind_query(KIND_LOCATION)),
            (Occur::Must, self.term_query(field, &value)),
        ]);
        let docs = searcher
            .search(&query, &tantivy::collector::DocSetCollector)
            .map_err(tantivy_error("find a place"))?;
        let mut points = Vec::new();
        for address in docs.into_iter().take(MAX_PLACE_POINTS) {
            let places = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .u64("places")
                .map_err(tantivy_error("read a place"))?;
            points.extend(places.values_for_doc(address.doc_id).map(unpack_place));
        }
        Ok(points)
    }

    /// Runs a search and gives the keys of the asked page.
    pub fn search(&self, params: &SearchParams) -> Result<Found> {
        let searcher = self.reader.searcher();
        let words = params
            .q
            .as_deref()
            .map(|q| text::query_terms(q, super::MAX_QUERY_WORDS));
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        if let Some(words) = &words {
            if words.is_empty() {
                return Ok(Found::none());
            }
            match self.words_query(&searcher, words)? {
                Some(q) => must.push(q),
                None => return Ok(Found::none()),
            }
        }
        if !params.taxonomy.is_empty() {
            let any: Vec<(Occur, Box<dyn Query>)> = params
                .taxonomy
                .iter()
                .map(|t| {
                    let term = Term::from_field_text(self.fields.category, &t.to_lowercase());
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>,
                    )
                })
                .collect();
            must.push(Box::new(BooleanQuery::new(any)));
        }
        if let Some(hub) = &params.hub {
            must.push(Box::new(TermQuery::new(
                Term::from_field_text(self.fields.hub, hub),
                IndexRecordOption::Basic,
            )));
        }
        if let Some((lat, lon, km)) = params.near {
            must.push(self.near_query(lat, lon, km));
        }
        let mut moments: HashMap<String, LocalMoment> = HashMap::new();
        if let Some(at) = params.open_at {
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for zone in self.zones(&searcher)? {
                let m = hours::local_moment(at, &zone);
                let term = open_hour_term(&zone, m.weekday % 7, (m.minute / 60) as u8);
                any.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.fields.open_hour, &term),
                        IndexRecordOption::Basic,
                    )),
                ));
                moments.insert(zone, m);
            }
            if any.is_empty() {
                return Ok(Found::none());
            }
            must.push(Box::new(BooleanQuery::new(any)));
        }
        // Words, categories and opening hours are only on services'
        // documents: a search that asks for one of them needs no other
        // clause (and a search of words alone stays a plain union of terms
        // that block-max WAND can prune, see `PageCollector::count_up_to`).
        if words.is_none() && params.taxonomy.is_empty() && params.open_at.is_none() {
            must.push(self.kind_query(KIND_SERVICE));
        }
        let query: Box<dyn Query> = match must.len() {
            1 => must.remove(0),
            _ => Box::new(BooleanQuery::new(
                must.into_iter().map(|q| (Occur::Must, q)).collect(),
            )),
        };
        let offset = (params.page.saturating_sub(1) as usize) * params.per_page as usize;
        let collector = PageCollector {
            order: params.order,
            keep: offset + params.per_page as usize,
            near: params.near,
            moments: params.open_at.is_some().then_some(moments),
            count_up_to: Some(u64::from(MAX_OFFSET) + 1),
            ..PageCollector::default()
        };
        let (total, ranked) = searcher
            .search(&query, &collector)
            .map_err(tantivy_error("search"))?;
        let want_distance = params.near.is_some();
        Ok(Found {
            page: ranked
                .into_iter()
                .skip(offset)
                .map(|c| (c.key, want_distance.then_some(c.distance)))
                .collect(),
            total: total.min(u64::from(MAX_OFFSET) + 1),
        })
    }

    /// Documents with a place within `km` of a point (roughly: the cells
    /// around it; the exact distance is the collector's test).
    pub(super) fn near_query(&self, lat: f64, lon: f64, km: f64) -> Box<dyn Query> {
        let last = CELL_DEGREES.len() - 1;
        for level in 0..=last {
            let ((lat_low, lon_low), (lat_high, lon_high)) = cell_box(level, lat, lon, km);
            let count = (lat_high - lat_low + 1).saturating_mul(lon_high - lon_low + 1);
            if count > MAX_CELLS && level < last {
                continue;
            }
            let terms = (lat_low..=lat_high).flat_map(|a| {
                (lon_low..=lon_high).map(move |o| {
                    Term::from_field_text(self.fields.cell, &cell_term(level, (a, o)))
                })
            });
            return Box::new(tantivy::query::TermSetQuery::new(terms));
        }
        Box::new(tantivy::query::EmptyQuery)
    }

    /// Documents of one kind.
    pub(super) fn kind_query(&self, kind: &str) -> Box<dyn Query> {
        self.term_query(self.fields.kind, kind)
    }

    /// Documents with `value` in `field` (an untokenized field).
    pub(super) fn term_query(&self, field: Field, value: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    }

    /// The documents of an Open Referral id ([`Fields::hsds_id`]).
    pub(super) fn hsds_id_query(&self, id: &uuid::Uuid) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_bytes(self.fields.hsds_id, id.as_bytes()),
            IndexRecordOption::Basic,
        ))
    }

    /// Every zone the index holds services in.
    fn zones(&self, searcher: &Searcher) -> Result<Vec<String>> {
        field_terms(searcher, self.fields.zone)
    }

    /// Each word must match (as a prefix) in some field; a word's terms
    /// are weighted by field. None when a word matches nothing.
    pub(super) fn words_query(
        &self,
        searcher: &Searcher,
        words: &[String],
    ) -> Result<Option<Box<dyn Query>>> {
        let mut all: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in words {
            let mut any: Vec<Box<dyn Query>> = expand(searcher, self.fields.words, word)?
                .into_iter()
                .map(|term| {
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.fields.words, &term),
                        IndexRecordOption::WithFreqs,
                    )) as Box<dyn Query>
                })
                .collect();
            // A word that is one term (the usual case) is that term's
            // posting list itself, which an intersection seeks by its skip
            // list instead of through a union.
            let query = match any.len() {
                0 => return Ok(None),
                1 => any.remove(0),
                _ => Box::new(BooleanQuery::new(
                    any.into_iter().map(|q| (Occur::Should, q)).collect(),
                )),
            };
            all.push((Occur::Must, query));
        }
        // One word is its union of terms itself (which block-max WAND can
        // prune); more are an intersection of unions.
        if all.len() == 1 {
            return Ok(all.pop().map(|(_, q)| q));
        }
        Ok(Some(Box::new(BooleanQuery::new(all))))
    }

    /// Every key matching the words, best first (at most `limit`), for
    /// other lists that filter by text (the Open Referral API).
    pub fn text_keys(&self, q: &str, limit: usize) -> Result<Vec<i64>> {
        let searcher = self.reader.searcher();
        let words = text::query_terms(q, super::MAX_QUERY_WORDS);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let Some(query) = self.words_query(&searcher, &words)? else {
            return Ok(Vec::new());
        };
        let query = BooleanQuery::new(vec![
            (Occur::Must, query),
            (Occur::Must, self.kind_query(KIND_SERVICE)),
        ]);
        let collector = PageCollector {
            order: Order::Relevance,
            keep: limit,
            ..PageCollector::default()
        };
        let (_, ranked) = searcher
            .search(&query, &collector)
            .map_err(tantivy_error("search"))?;
        Ok(ranked.into_iter().map(|c| c.key).collect())
    }

    /// Categories with how many services each has, the commonest first
    /// (at most `limit`), for the directory's category filter. Counted
    /// once per index generation.
    pub fn categories(&self, limit: usize) -> Result<Vec<(String, u64)>> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        if let Some((g, all)) = &*self.categories.lock().unwrap_or_else(|p| p.into_inner()) {
            if *g == generation {
                return Ok(all.iter().take(limit).cloned().collect());
            }
        }
        // Per lower-cased name: services, and each spelling's count.
        let mut counts: HashMap<String, (u64, HashMap<String, u64>)> = HashMap::new();
        for segment in searcher.segment_readers() {
            let Some(column) = segment
                .fast_fields()
                .str("category_shown")
                .map_err(tantivy_error("read categories"))?
            else {
                continue;
            };
            let mut per_ord = vec![0u64; column.num_terms()];
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                for ord in column.term_ords(doc) {
                    if let Some(n) = per_ord.get_mut(ord as usize) {
                        *n += 1;
                    }
                }
            }
            let mut shown = String::new();
            for (ord, n) in per_ord.into_iter().enumerate() {
                if n == 0 || !column.ord_to_str(ord as u64, &mut shown).unwrap_or(false) {
                    continue;
                }
                let entry = counts.entry(shown.to_lowercase()).or_default();
                entry.0 += n;
                *entry.1.entry(shown.clone()).or_default() += n;
            }
        }
        let mut all: Vec<(String, u64)> = counts
            .into_values()
            .map(|(n, spellings)| {
                let shown = spellings
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                    .map(|(s, _)| s)
                    .unwrap_or_default();
                (shown, n)
            })
            .collect();
        // A service with two spellings of one category counts once per
        // spelling above; that is rare enough to leave.
        all.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
        });
        let page = all.iter().take(limit).cloned().collect();
        *self.categories.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, all));
        Ok(page)
    }

    /// Services searchable now.
    pub fn len(&self) -> usize {
        self.reader
            .searcher()
            .search(&*self.kind_query(KIND_SERVICE), &tantivy::collector::Count)
            .unwrap_or(0)
    }

    /// True when nothing is searchable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Opens the index's writer. Its lock may still be held for a moment by
/// a writer just dropped in this process (its threads end
/// asynchronously); another running node keeps it, and is named in the
/// error.
fn open_writer(index: &Index, threads: usize) -> Result<IndexWriter> {
    let mut tries = 0;
    loop {
        match index.writer_with_num_threads(threads, WRITER_MEMORY) {
            Err(tantivy::TantivyError::LockFailure(..)) if tries < LOCK_TRIES => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            other => {
                return other.map_err(|e| {
                    Error::Setup(format!(
                    "search index: open the writer (is another node running on this folder?): {e}"
                ))
                })
            }
        }
    }
}

/// The error of a write while the writer is being opened again.
fn no_writer() -> Error {
    Error::Setup("search index: its writer is being opened again after a failure".into())
}

/// Every distinct term of an untokenized field, over all segments (a
/// term of deleted documents may remain until a merge).
fn field_terms(searcher: &Searcher, field: Field) -> Result<Vec<String>> {
    let mut found = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let inverted = segment
            .inverted_index(field)
            .map_err(tantivy_error("read terms"))?;
        let mut terms = inverted
            .terms()
            .stream()
            .map_err(|e| Error::Setup(format!("search index: read terms: {e}")))?;
        while terms.advance() {
            if let Ok(term) = std::str::from_utf8(terms.key()) {
                found.insert(term.to_owned());
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// The terms of `field` that start with `prefix`, the word itself first,
/// at most [`MAX_EXPANSIONS`].
fn expand(searcher: &Searcher, field: Field, prefix: &str) -> Result<Vec<String>> {
    let mut found = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let inverted = segment
            .inverted_index(field)
            .map_err(tantivy_error("read terms"))?;
        let mut terms = inverted
            .terms()
            .range()
            .ge(prefix.as_bytes())
            .into_stream()
            .map_err(|e| Error::Setup(format!("search index: read terms: {e}")))?;
        let mut taken = 0;
        while terms.advance() && taken < MAX_EXPANSIONS {
            let key = terms.key();
            if !key.starts_with(prefix.as_bytes()) {
                break;
            }
            if let Ok(t) = std::str::from_utf8(key) {
                found.insert(t.to_owned());
            }
            taken += 1;
        }
    }
    Ok(found.into_iter().take(MAX_EXPANSIONS).collect())
}

/// The range of grid cells around a point that holds every place within
/// `km` of it.
fn cell_box(level: usize, lat: f64, lon: f64, km: f64) -> ((i64, i64), (i64, i64)) {
    let dlat = (km / EARTH_RADIUS_KM).to_degrees();
    let cos = lat.to_radians().cos();
    let dlon = if cos < 1e-6 || lat.abs() + dlat >= 89.0 {
        180.0
    } else {
        (dlat / cos).min(180.0)
    };
    if dlon >= 180.0 {
        return (
            cell(level, lat - dlat, -180.0),
            cell(level, lat + dlat, 180.0),
        );
    }
    (
        cell(level, lat - dlat, lon - dlon),
        cell(level, lat + dlat, lon + dlon),
    )
}

/// Filters exactly (distance, "open at"), counts, and keeps the best
/// `keep` matches in the asked order.
#[derive(Default)]
pub(super) struct PageCollector {
    pub(super) order: Order,
    pub(super) keep: usize,
    pub(super) near: Option<(f64, f64, f64)>,
    /// Per zone, the moment asked about as the zone sees it.
    pub(super) moments: Option<HashMap<String, LocalMoment>>,
    /// Opening times asked of a list: (weekday, opens at or after, closes
    /// at or before), all of one span.
    pub(super) schedule: Option<(Option<u8>, Option<u16>, Option<u16>)>,
    /// Instead of the score: each key's rank (best first), for lists
    /// whose words were matched first.
    pub(super) rank: Option<std::sync::Arc<HashMap<u64, f64>>>,
    /// Count matches only up to this many (over all segments), which lets
    /// a relevance search skip blocks of postings that cannot reach the
    /// page (block-max WAND) instead of scoring every match, and any other
    /// search test only the matches that would enter the page once the
    /// count is reached.
    pub(super) count_up_to: Option<u64>,
    /// Matches counted by the segments collected so far.
    pub(super) counted: std::sync::atomic::AtomicU64,
}

impl PageCollector {
    /// True when the page is the best scores and nothing else is asked
    /// of a match (no exact filter, no other order, a capped count).
    fn prunes(&self) -> bool {
        self.order == Order::Relevance
            && self.rank.is_none()
            && self.near.is_none()
            && self.moments.is_none()
            && self.schedule.is_none()
            && self.count_up_to.is_some()
            && self.keep > 0
    }
}

/// A match as one segment ranks it: by the score (or distance, or
/// rank), then by the document's number, which is its place in name order
/// ([`rank_text`]).
#[derive(Debug, Clone, Copy)]
struct Local {
    primary: f64,
    doc: DocId,
    distance: f64,
}

impl PartialEq for Local {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Local {}
impl PartialOrd for Local {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Local {
    fn cmp(&self, other: &Self) -> Ordering {
        self.primary
            .total_cmp(&other.primary)
            .then(self.doc.cmp(&other.doc))
    }
}

/// A match ready to be merged across segments.
#[derive(Debug, Clone)]
pub(super) struct Ranked {
    primary: f64,
    /// Its [`rank_text`].
    name: String,
    /// The service's position in its listing, then (for a location) the
    /// location's in the service: 16 bits each.
    position: u64,
    pub(super) key: i64,
    pub(super) distance: f64,
}

impl Ranked {
    /// The location's position in its service (0 for a service).
    pub(super) fn location(&self) -> usize {
        (self.position & 0xFFFF) as usize
    }
}

fn by_rank(a: &Ranked, b: &Ranked) -> Ordering {
    a.primary
        .total_cmp(&b.primary)
        .then_with(|| a.name.cmp(&b.name))
}

/// The "open at" test of one segment: each zone ordinal's moment.
struct OpenTest {
    /// Per zone ordinal: (weekday, minute, day number).
    moments: Vec<Option<(u8, u16, u16)>>,
    zone: StrColumn,
    spans: Column<u64>,
}

impl OpenTest {
    fn is_open(&self, doc: DocId) -> bool {
        // A segment of one zone (the usual case) needs no look-up.
        let ord = if self.moments.len() == 1 {
            0
        } else {
            match self.zone.term_ords(doc).next() {
                Some(ord) => ord,
                None => return false,
            }
        };
        let Some(Some((weekday, minute, date))) = self.moments.get(ord as usize).copied() else {
            return false;
        };
        self.spans.values_for_doc(doc).any(|packed| {
            let s = unpack_span(packed);
            s.weekday == weekday
                && s.opens <= minute
                && s.closes > minute
                && (s.from == 0 || s.from <= date)
                && (s.to == 0 || s.to >= date)
        })
    }
}

pub(super) struct PageSegment {
    order: Order,
    keep: usize,
    near: Option<(f64, f64, f64)>,
    open: Option<OpenTest>,
    schedule: Option<(Option<u8>, Option<u16>, Option<u16>)>,
    spans: Column<u64>,
    rank: Option<std::sync::Arc<HashMap<u64, f64>>>,
    loc_position: Column<u64>,
    key: Column<u64>,
    places: Column<u64>,
    name: StrColumn,
    position: Column<u64>,
    heap: BinaryHeap<Local>,
    count: u64,
    /// Matches still to count; past it, a match is tested only when it
    /// would enter the page.
    cap: u64,
}

impl Collector for PageCollector {
    type Fruit = (u64, Vec<Ranked>);
    type Child = PageSegment;

    fn for_segment(
        &self,
        _segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<PageSegment> {
        let fast = segment.fast_fields();
        let missing =
            |name: &str| tantivy::TantivyError::SchemaError(format!("no fast field {name}"));
        let open = match &self.moments {
            None => None,
            Some(moments) => {
                let zone = fast.str("zone")?.ok_or_else(|| missing("zone"))?;
                let mut by_ord = Vec::with_capacity(zone.num_terms());
                let mut text = String::new();
                for ord in 0..zone.num_terms() as u64 {
                    let known = zone.ord_to_str(ord, &mut text)?;
                    by_ord.push(if known {
                        moments
                            .get(&text)
                            .map(|m| (m.weekday % 7, m.minute, day_number(Some(&m.date))))
                    } else {
                        None
                    });
                }
                Some(OpenTest {
                    moments: by_ord,
                    zone,
                    spans: fast.u64("spans")?,
                })
            }
        };
        Ok(PageSegment {
            order: self.order,
            keep: self.keep,
            near: self.near,
            open,
            schedule: self.schedule,
            spans: fast.u64("spans")?,
            rank: self.rank.clone(),
            loc_position: fast.u64("loc_position")?,
            key: fast.u64("key")?,
            places: fast.u64("places")?,
            name: fast
                .str("name_order")?
                .ok_or_else(|| missing("name_order"))?,
            position: fast.u64("position")?,
            heap: BinaryHeap::new(),
            count: 0,
            cap: self.count_up_to.map_or(u64::MAX, |cap| {
                cap.saturating_sub(self.counted.load(std::sync::atomic::Ordering::Relaxed))
            }),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.order == Order::Relevance && self.rank.is_none()
    }

    fn collect_segment(
        &self,
        weight: &dyn tantivy::query::Weight,
        segment_ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<(u64, Vec<Ranked>)> {
        let mut child = self.for_segment(segment_ord, reader)?;
        let alive = reader.alive_bitset();
        let is_alive = |doc: DocId| alive.is_none_or(|a| a.is_alive(doc));
        match self.count_up_to.filter(|_| self.prunes()) {
            Some(_) => {
                // The best scores, skipping what cannot beat the page's
                // worst (ties included: they may win on the name).
                weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
                    if is_alive(doc) {
                        child.collect(doc, score);
                    }
                    child.threshold()
                })?;
                // The count, without scores, up to what is left of the cap.
                let mut count = 0;
                if child.cap > 0 {
                    let mut scorer = weight.scorer(reader, 1.0)?;
                    let mut doc = scorer.doc();
                    while doc != tantivy::TERMINATED && count < child.cap {
                        count += u64::from(is_alive(doc));
                        doc = scorer.advance();
                    }
                }
                child.count = count;
            }
            // In name order the documents come best first: stop once the
            // page is full and the count reached.
            None if self.order == Order::Name && self.rank.is_none() => {
                let mut scorer = weight.scorer(reader, 1.0)?;
                let mut doc = scorer.doc();
                while doc != tantivy::TERMINATED && !child.done() {
                    if is_alive(doc) {
                        child.collect(doc, 0.0);
                    }
                    doc = scorer.advance();
                }
            }
            None if self.requires_scoring() => {
                weight.for_each(reader, &mut |doc, score| {
                    if is_alive(doc) {
                        child.collect(doc, score);
                    }
                })?;
            }
            None => {
                weight.for_each_no_score(reader, &mut |docs| {
                    for &doc in docs {
                        if is_alive(doc) {
                            child.collect(doc, 0.0);
                        }
                    }
                })?;
            }
        }
        let fruit = child.harvest();
        self.counted
            .fetch_add(fruit.0, std::sync::atomic::Ordering::Relaxed);
        Ok(fruit)
    }

    fn merge_fruits(&self, fruits: Vec<(u64, Vec<Ranked>)>) -> tantivy::Result<(u64, Vec<Ranked>)> {
        let total = fruits.iter().map(|f| f.0).sum();
        let mut all: Vec<Ranked> = fruits.into_iter().flat_map(|f| f.1).collect();
        all.sort_unstable_by(by_rank);
        all.truncate(self.keep);
        Ok((total, all))
    }
}

impl PageSegment {
    /// The exact tests (distance, open at a moment, opening times): the
    /// distance in km (NaN when none was asked), or None when the match
    /// fails one.
    fn passes(&self, doc: DocId) -> Option<f64> {
        let mut distance = f64::NAN;
        if let Some((lat, lon, km)) = self.near {
            distance = self
                .places
                .values_for_doc(doc)
                .map(|p| {
                    let (a, o) = unpack_place(p);
                    distance_km(a, o, lat, lon)
                })
                .fold(f64::INFINITY, f64::min);
            if distance > km {
                return None;
            }
        }
        if let Some(open) = &self.open {
            if !open.is_open(doc) {
                return None;
            }
        }
        if let Some((weekday, from, by)) = self.schedule {
            let fits = self.spans.values_for_doc(doc).map(unpack_span).any(|s| {
                weekday.is_none_or(|d| s.weekday == d)
                    && from.is_none_or(|m| s.opens >= m)
                    && by.is_none_or(|m| s.closes <= m)
            });
            if !fits {
                return None;
            }
        }
        Some(distance)
    }

    /// What a match is ranked by first (lower is better).
    fn primary(&self, doc: DocId, score: Score, distance: f64) -> f64 {
        match (&self.rank, self.order) {
            (Some(rank), _) => {
                let key = self.key.first(doc).unwrap_or(0);
                rank.get(&key).copied().unwrap_or(f64::MAX)
            }
            (None, Order::Relevance) => -f64::from(score),
            (None, Order::Distance) => distance,
            (None, Order::Name) => 0.0,
        }
    }

    /// True when a match cannot enter the full page whatever its tests
    /// say: its score (or rank) is worse than the page's worst, or equal
    /// and so behind it in name order. (By distance, the distance is the
    /// test itself.)
    fn loses(&self, doc: DocId, score: Score) -> bool {
        if self.heap.len() < self.keep || (self.order == Order::Distance && self.rank.is_none()) {
            return false;
        }
        let Some(worst) = self.heap.peek() else {
            return false;
        };
        let primary = self.primary(doc, score, f64::NAN);
        Local {
            primary,
            doc,
            distance: f64::NAN,
        } > *worst
    }

    /// The score a match must beat to enter the page (when it is full):
    /// the worst kept, since a match of equal score comes after it in
    /// name order.
    fn threshold(&self) -> Score {
        match self.heap.peek() {
            Some(worst) if self.heap.len() >= self.keep => -worst.primary as Score,
            _ => Score::MIN,
        }
    }

    /// True when no later match of the segment can change the page or the
    /// count: in name order, once the page is full and the count reached.
    fn done(&self) -> bool {
        self.count >= self.cap && self.heap.len() >= self.keep
    }
}

impl SegmentCollector for PageSegment {
    type Fruit = (u64, Vec<Ranked>);

    fn collect(&mut self, doc: DocId, score: Score) {
        let counting = self.count < self.cap;
        if !counting && (self.keep == 0 || self.loses(doc, score)) {
            return;
        }
        let Some(distance) = self.passes(doc) else {
            return;
        };
        if counting {
            self.count += 1;
        }
        if self.keep == 0 {
            return;
        }
        let candidate = Local {
            primary: self.primary(doc, score, distance),
            doc,
            distance,
        };
        if self.heap.len() < self.keep {
            self.heap.push(candidate);
        } else if self.heap.peek().is_some_and(|worst| candidate < *worst) {
            self.heap.pop();
            self.heap.push(candidate);
        }
    }

    fn harvest(self) -> (u64, Vec<Ranked>) {
        let mut name = String::new();
        let ranked = self
            .heap
            .into_iter()
            .map(|l| {
                name.clear();
                let ord = self.name.term_ords(l.doc).next().unwrap_or(0);
                let _ = self.name.ord_to_str(ord, &mut name);
                Ranked {
                    primary: l.primary,
                    name: name.clone(),
                    // A location's place in its service's list breaks the
                    // last ties.
                    position: (self.position.first(l.doc).unwrap_or(0) << 16)
                        | self.loc_position.first(l.doc).unwrap_or(0).min(0xFFFF),
                    key: self.key.first(l.doc).unwrap_or(0) as i64,
                    distance: l.distance,
                }
            })
            .collect();
        (self.count, ranked)
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

    fn keys(index: &SearchIndex, pairs: &[(&str, &str)]) -> Vec<i64> {
        index
            .search(&params(pairs))
            .expect("search")
            .page
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    fn add(index: &SearchIndex, hub: &str, services: &[(i64, Service)], change: i64) {
        let prepared: Vec<Prepared> = services
            .iter()
            .map(|(_, s)| prepare(s, hub, "Hub"))
            .collect();
        let entries: Vec<Entry<'_>> = services
            .iter()
            .zip(&prepared)
            .enumerate()
            .map(|(i, ((key, _), prepared))| Entry {
                key: *key,
                position: i as u32,
                prepared,
            })
            .collect();
        index
            .replace_hub(hub, "Europe/London", &entries, change)
            .expect("replace");
        index.commit_if_dirty().expect("commit");
    }

    #[test]
    fn pruned_relevance_pages_are_the_exhaustive_ones() {
        let index = SearchIndex::in_memory().expect("index");
        let names = [
            "Food bank",
            "Food and warm food space",
            "Community food pantry",
            "Warm space",
            "Foodbank drop-in",
        ];
        // Two hubs, so ties on the score are broken by name and hub.
        for (h, hub) in ["ed25519:a", "ed25519:b"].into_iter().enumerate() {
            let services: Vec<(i64, Service)> = (0..250)
                .map(|i| {
                    let name = format!("{} {}", names[i % names.len()], i % 7);
                    let key = (h * 1000 + i) as i64;
                    (
                        key,
                        service(&format!("s{i}"), &name, "Food", (53.8, -3.0), "MO"),
                    )
                })
                .collect();
            add(&index, hub, &services, h as i64 + 1);
        }
        let searcher = index.reader.searcher();
        for (word, page) in [("food", "1"), ("food", "3"), ("warm", "2"), ("pantry", "1")] {
            let asked = params(&[("q", word), ("page", page), ("per_page", "10")]);
            let pruned = index.search(&asked).expect("search");
            let words = text::query_terms(word, 8);
            let query = index
                .words_query(&searcher, &words)
                .expect("query")
                .expect("matches");
            let every = PageCollector {
                order: Order::Relevance,
                keep: asked.page as usize * 10,
                ..PageCollector::default()
            };
            let (total, ranked) = searcher.search(&*query, &every).expect("search");
            let exhaustive: Vec<i64> = ranked
                .iter()
                .skip((asked.page as usize - 1) * 10)
                .map(|r| r.key)
                .collect();
            let got: Vec<i64> = pruned.page.iter().map(|(k, _)| *k).collect();
            assert_eq!(got, exhaustive, "{word}, page {page}");
            assert_eq!(
                pruned.total, total,
                "{word}: the count is exact below the cap"
            );
        }
    }

    #[test]
    fn capped_counts_keep_the_exhaustive_page_in_every_order() {
        let index = SearchIndex::in_memory().expect("index");
        // Three commits, so three segments; equal names across hubs, so
        // name order needs the hub and the position to break ties.
        for (h, hub) in ["ed25519:c", "ed25519:a", "ed25519:b"]
            .into_iter()
            .enumerate()
        {
            let services: Vec<(i64, Service)> = (0..120)
                .map(|i| {
                    let name = format!("Warm space {}", (i * 7 + h) % 40);
                    let place = (53.80 + (i % 10) as f64 * 0.01, -3.0);
                    let day = if i % 3 == 0 { "MO" } else { "TU" };
                    (
                        (h * 1000 + i) as i64,
                        service(&format!("s{i}"), &name, "Warmth", place, day),
                    )
                })
                .collect();
            add(&index, hub, &services, h as i64 + 1);
        }
        let searcher = index.reader.searcher();
        assert!(searcher.segment_readers().len() >= 2, "several segments");
        let monday = hours::local_moment(
            "2026-11-30T10:00:00Z".parse().expect("a moment"),
            "Europe/London",
        );
        for (order, words, open, near) in [
            (Order::Name, None, false, None),
            (Order::Name, None, true, None),
            (Order::Relevance, Some("warm"), false, None),
            (Order::Relevance, Some("warm"), true, None),
            (Order::Distance, None, false, Some((53.80, -3.0, 5.0))),
        ] {
            let query: Box<dyn Query> = match words {
                Some(w) => index
                    .words_query(&searcher, &text::query_terms(w, 8))
                    .expect("query")
                    .expect("matches"),
                None => index.kind_query(KIND_SERVICE),
            };
            let run = |cap: Option<u64>, page: usize| {
                let moments =
                    open.then(|| HashMap::from([("Europe/London".to_owned(), monday.clone())]));
                let collector = PageCollector {
                    order,
                    keep: page * 10,
                    near,
                    moments,
                    count_up_to: cap,
                    ..PageCollector::default()
                };
                let (total, ranked) = searcher.search(&*query, &collector).expect("search");
                let keys: Vec<i64> = ranked.iter().skip((page - 1) * 10).map(|r| r.key).collect();
                (total, keys)
            };
            for page in [1, 3] {
                let (all, every) = run(None, page);
                let (capped, pruned) = run(Some(25), page);
                assert_eq!(
                    pruned, every,
                    "{order:?} {words:?} open {open}, page {page}"
                );
                assert_eq!(capped, all.min(25), "{order:?}: counted up to the cap");
                assert!(all > 25, "{order:?}: more matches than the cap ({all})");
            }
        }
    }

    fn sample(index: &SearchIndex) {
        add(
            index,
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
            1,
        );
        add(
            index,
            "ed25519:b",
            &[(
                4,
                service("4", "Café de Paris lunch", "Food", (53.80, -3.04), "WE"),
            )],
            2,
        );
    }

    fn in_memory() -> SearchIndex {
        let index = SearchIndex::in_memory().expect("index");
        sample(&index);
        index
    }

    #[test]
    fn words_match_as_stemmed_prefixes_and_all_must_match() {
        let index = in_memory();
        assert_eq!(keys(&index, &[("q", "pantry"), ("order", "name")]), [1, 2]);
        assert_eq!(keys(&index, &[("q", "pan")]).len(), 2);
        assert_eq!(keys(&index, &[("q", "cafe")]), [4]);
        assert_eq!(keys(&index, &[("q", "food pantry")]), [1, 2]);
        assert!(keys(&index, &[("q", "nothing")]).is_empty());
        // The name counts more than the category.
        assert_eq!(keys(&index, &[("q", "food")])[0], 1);
    }

    #[test]
    fn categories_places_hubs_and_hours_filter() {
        let index = in_memory();
        assert_eq!(keys(&index, &[("taxonomy", "employment")]), [3]);
        assert_eq!(keys(&index, &[("taxonomy", "Nope")]), Vec::<i64>::new());
        let near = index
            .search(&params(&[("near", "53.81,-3.05"), ("within_km", "3")]))
            .expect("search");
        let found: Vec<i64> = near.page.iter().map(|p| p.0).collect();
        assert_eq!(found.len(), 3);
        assert!(!found.contains(&2), "Lancaster is 30 km away");
        assert!(near.page[0].1.is_some_and(|d| d < 0.01));
        let mut one_hub = params(&[]);
        one_hub.hub = Some("ed25519:b".into());
        assert_eq!(index.search(&one_hub).expect("search").page, [(4, None)]);
        one_hub.hub = Some("ed25519:unknown".into());
        assert!(index.search(&one_hub).expect("search").page.is_empty());
        // Monday 2026-11-30 10:00 in London.
        let monday = [("open_at", "2026-11-30T10:00:00Z"), ("order", "name")];
        assert_eq!(keys(&index, &monday), [1, 3]);
        let evening = [("open_at", "2026-11-30T18:00:00Z")];
        assert!(keys(&index, &evening).is_empty());
        // 16:59 is open, 17:00 is not (the hour's term matches both).
        assert_eq!(
            keys(&index, &[("open_at", "2026-11-30T16:59:00Z")]).len(),
            2
        );
        assert!(keys(&index, &[("open_at", "2026-11-30T17:00:00Z")]).is_empty());
        assert_eq!(
            index.categories(10).expect("categories"),
            [("Food".to_owned(), 3), ("Employment".to_owned(), 1)]
        );
    }

    #[test]
    fn replacing_a_hub_removes_its_old_services() {
        let index = in_memory();
        add(
            &index,
            "ed25519:a",
            &[(
                9,
                service("9", "Warm space", "Warmth", (53.81, -3.05), "MO"),
            )],
            3,
        );
        assert!(keys(&index, &[("q", "pantry")]).is_empty());
        assert_eq!(keys(&index, &[("q", "warm")]), [9]);
        assert_eq!(index.len(), 2);
        assert_eq!(index.text_keys("cafe", 10).expect("text"), [4]);
        assert_eq!(index.hubs().expect("hubs"), ["ed25519:a", "ed25519:b"]);
    }

    #[test]
    fn totals_and_pages() {
        let index = in_memory();
        let all = index
            .search(&params(&[("per_page", "2"), ("page", "2")]))
            .expect("search");
        assert_eq!(all.total, 4);
        assert_eq!(all.page.len(), 2);
        let beyond = index
            .search(&params(&[("per_page", "2"), ("page", "3")]))
            .expect("search");
        assert!(beyond.page.is_empty());
        // Name order across pages is the whole order.
        let names: Vec<i64> = (1..=4)
            .flat_map(|p| {
                let page = p.to_string();
                keys(&index, &[("per_page", "1"), ("page", page.as_str())])
            })
            .collect();
        assert_eq!(names, [4, 1, 3, 2]);
    }

    #[test]
    fn the_index_persists_with_its_change_number_and_is_rebuilt_when_unusable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("index");
        {
            let index = SearchIndex::open(&path).expect("open");
            assert_eq!(index.committed_change(), 0);
            sample(&index);
            assert_eq!(index.committed_change(), 2);
        }
        let index = SearchIndex::open(&path).expect("reopen");
        assert_eq!(index.committed_change(), 2);
        assert_eq!(keys(&index, &[("q", "cafe")]), [4]);
        drop(index);
        // A damaged index is recreated empty, to be filled from the store.
        std::fs::write(path.join("meta.json"), b"{not json").expect("damage");
        let index = SearchIndex::open(&path).expect("rebuilt");
        assert_eq!(index.committed_change(), 0);
        assert!(index.is_empty());
    }

    #[test]
    fn packing_round_trips() {
        let (a, o) = unpack_place(pack_place(53.8236, -3.0160));
        assert!((a - 53.8236).abs() < 1e-6 && (o + 3.0160).abs() < 1e-6);
        let s = Span {
            weekday: 6,
            opens: 1320,
            closes: 1440,
            from: day_number(Some("2026-12-01")),
            to: day_number(Some("2027-01-31")),
        };
        assert_eq!(unpack_span(pack_span(&s)), s);
        assert!(day_number(Some("2026-12-31")) < day_number(Some("2027-01-01")));
        assert_eq!(day_number(None), 0);
    }
}
