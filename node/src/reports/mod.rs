//! Seeing the whole picture across hubs: probable duplicate services,
//! coverage and gaps by category, and freshness. Coordinators asked for
//! exactly this in the seed reports. Reports never change or hide data:
//! hubs own their listings; a coordinator can only mark a pair "not a
//! duplicate", which is remembered across recrawls.

use signpost_client::store::aggregator::Staleness;
use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::Connection;
use serde::Serialize;
use signpost_spec::Service;

use crate::error::{NodeError, Result};
use signpost_client::search::distance_km;
use signpost_client::search::index::SearchIndex;
use signpost_client::spreadsheet::write_row;

pub mod areas;

pub use areas::Areas;
use areas::PointIndex;

/// A pair of services as (hub, service, hub, service), the lesser first.
pub type PairKey = (String, String, String, String);

/// Score at or above which a pair is reported.
pub const DUPLICATE_THRESHOLD: f64 = 0.6;

/// A service as the reports see it.
struct Row {
    hub_id: String,
    hub_name: String,
    service: Service,
}

/// Names of the active hubs, from the store.
fn active_hub_names(conn: &Connection) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare("SELECT hub_id, name FROM agg_hubs WHERE state = 'active'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every active hub's services from the search index (the one engine
/// every reader goes through), in a stable order (hub, then service id).
fn load(conn: &Connection, index: &SearchIndex) -> Result<Vec<Row>> {
    let names = active_hub_names(conn)?;
    let mut out = Vec::new();
    index.for_each_service(|stored| {
        let Some(hub_name) = names.get(&stored.hub_id) else {
            return Ok(());
        };
        let service: Service = serde_json::from_str(&stored.json).map_err(|e| {
            signpost_client::Error::Setup(format!("a stored service is unreadable: {e}"))
        })?;
        out.push(Row {
            hub_id: stored.hub_id,
            hub_name: hub_name.clone(),
            service,
        });
        Ok(())
    })?;
    out.sort_by(|a, b| {
        (a.hub_id.as_str(), a.service.id.as_str()).cmp(&(b.hub_id.as_str(), b.service.id.as_str()))
    });
    Ok(out)
}

/// Every active hub's services, read and parsed once, so the coordinator
/// page's duplicates and coverage share one scan of the store (freshness
/// needs only a column of it and reads that alone).
pub struct Snapshot {
    rows: Vec<Row>,
}

impl Snapshot {
    /// Reads every service of every active hub.
    pub fn load(conn: &Connection, index: &SearchIndex) -> Result<Snapshot> {
        Ok(Snapshot {
            rows: load(conn, index)?,
        })
    }
}

/// Lower-case words of a name, without filler words.
fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    const FILLER: &[&str] = &["the", "and", "of", "for", "a", "at", "in", "on", "with"];
    name.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !FILLER.contains(&w.as_str()))
}

/// Character trigrams of a name, for fuzzy comparison.
fn trigrams(name: &str) -> impl Iterator<Item = [char; 3]> {
    let text: Vec<char> = format!("  {}  ", name.to_lowercase()).chars().collect();
    (0..text.len().saturating_sub(2)).map(move |i| [text[i], text[i + 1], text[i + 2]])
}

/// Jaccard similarity of two sorted sets without repeats.
fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Numbers for words and trigrams, so each name becomes two small sorted
/// sets that compare by merging, not by hashing strings per pair.
#[derive(Default)]
struct Interner {
    words: HashMap<String, u32>,
    trigrams: HashMap<[char; 3], u32>,
}

impl Interner {
    fn set<T: std::hash::Hash + Eq>(
        map: &mut HashMap<T, u32>,
        items: impl Iterator<Item = T>,
    ) -> Vec<u32> {
        let mut out: Vec<u32> = items
            .map(|t| {
                let next = map.len() as u32;
                *map.entry(t).or_insert(next)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// What the duplicate score compares, worked out once per service.
struct Features {
    trigrams: Vec<u32>,
    words: Vec<u32>,
    /// Phone numbers' digits, those of six digits or more.
    phones: Vec<String>,
    email: Option<String>,
    site: Option<String>,
    /// The organisation's name as given, and lower-cased for comparing.
    organization: Option<(String, String)>,
    points: Vec<(f64, f64)>,
}

impl Features {
    fn of(s: &Service, names: &mut Interner) -> Features {
        let mut phones: Vec<String> = s
            .phones
            .iter()
            .map(|p| digits(&p.number))
            .filter(|d| d.len() >= 6)
            .collect();
        phones.sort_unstable();
        phones.dedup();
        Features {
            trigrams: Interner::set(&mut names.trigrams, trigrams(&s.name)),
            words: Interner::set(&mut names.words, words(&s.name)),
            phones,
            email: s.email.as_ref().map(|e| e.to_ascii_lowercase()),
            site: s.url.as_deref().map(site),
            organization: s
                .organization
                .as_ref()
                .map(|o| (o.name.clone(), o.name.to_ascii_lowercase())),
            points: points_of(s).collect(),
        }
    }
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

fn site(url: &str) -> String {
    url.trim_end_matches('/')
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .to_lowercase()
}

/// One side of a probable duplicate.
#[derive(Debug, Clone, Serialize)]
pub struct PairSide {
    /// The publishing hub.
    pub hub_id: String,
    /// Its name.
    pub hub_name: String,
    /// The service's id at that hub.
    pub service_id: String,
    /// The service's name.
    pub name: String,
}

/// Two services, from different hubs, that are probably the same.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    /// From 0 to 1.
    pub score: f64,
    /// Why, in words, strongest first.
    pub reasons: Vec<String>,
    /// One service.
    pub a: PairSide,
    /// The other.
    pub b: PairSide,
}

fn side(r: &Row) -> PairSide {
    PairSide {
        hub_id: r.hub_id.clone(),
        hub_name: r.hub_name.clone(),
        service_id: r.service.id.clone(),
        name: r.service.name.clone(),
    }
}

/// Evidence weights: what each shared detail adds to the name's share.
const PHONE_WEIGHT: f64 = 0.35;
const EMAIL_WEIGHT: f64 = 0.35;
const SITE_WEIGHT: f64 = 0.25;
const ORGANIZATION_WEIGHT: f64 = 0.2;
const SAME_PLACE_WEIGHT: f64 = 0.2;
const NEAR_WEIGHT: f64 = 0.1;
/// Within this distance two services are "near each other", km.
const NEAR_KM: f64 = 1.0;
/// Within this, "the same place", km.
const SAME_PLACE_KM: f64 = 0.2;
/// Below this name similarity, no evidence makes a duplicate.
const MIN_NAME: f64 = 0.3;
/// The name's share of the score.
const NAME_WEIGHT: f64 = 0.6;
/// The least name similarity a pair needs when all it shares is a place:
/// candidates found only by place are filtered on it at once (a hair
/// lower, so rounding never drops a pair exactly at the threshold).
const MIN_NAME_BY_PLACE: f64 = (DUPLICATE_THRESHOLD - SAME_PLACE_WEIGHT) / NAME_WEIGHT - 1e-9;

/// Scores a pair: name similarity is the base, and shared contact details,
/// organisation or place add evidence; both are needed. Returns the score
/// and reasons.
#[cfg(test)]
fn score(a: &Service, b: &Service) -> (f64, Vec<String>) {
    let mut names = Interner::default();
    let (fa, fb) = (Features::of(a, &mut names), Features::of(b, &mut names));
    score_features(&fa, &fb).unwrap_or((0.0, Vec::new()))
}

/// How alike two names are: the better of trigram and word Jaccard.
fn name_similarity(a: &Features, b: &Features) -> f64 {
    jaccard(&a.trigrams, &b.trigrams).max(jaccard(&a.words, &b.words))
}

/// What two services share, besides their names.
struct Shared {
    phone: bool,
    email: bool,
    site: bool,
    organization: bool,
    /// Distance between their nearest locations, km (infinite: none).
    nearest_km: f64,
}

impl Shared {
    fn of(a: &Features, b: &Features) -> Shared {
        Shared {
            phone: a.phones.iter().any(|p| b.phones.binary_search(p).is_ok()),
            email: a.email.is_some() && a.email == b.email,
            site: a.site.is_some() && a.site == b.site,
            organization: matches!((&a.organization, &b.organization),
                (Some((_, x)), Some((_, y))) if x == y),
            nearest_km: a
                .points
                .iter()
                .flat_map(|(la, lo)| {
                    b.points
                        .iter()
                        .map(move |(lb, ob)| distance_km(*la, *lo, *lb, *ob))
                })
                .fold(f64::INFINITY, f64::min),
        }
    }

    fn evidence(&self) -> f64 {
        let place = if self.nearest_km <= SAME_PLACE_KM {
            SAME_PLACE_WEIGHT
        } else if self.nearest_km <= NEAR_KM {
            NEAR_WEIGHT
        } else {
            0.0
        };
        [
            (self.phone, PHONE_WEIGHT),
            (self.email, EMAIL_WEIGHT),
            (self.site, SITE_WEIGHT),
            (self.organization, ORGANIZATION_WEIGHT),
        ]
        .iter()
        .filter(|(shared, _)| *shared)
        .map(|(_, w)| w)
        .sum::<f64>()
            + place
    }

    /// Why, in words, strongest first.
    fn reasons(&self, name: f64, a: &Features) -> Vec<String> {
        let mut reasons = Vec::new();
        if name >= 0.5 {
            reasons.push(format!("similar names ({:.0}% alike)", name * 100.0));
        }
        if self.phone {
            reasons.push("same phone number".to_owned());
        }
        if self.email {
            reasons.push("same email".to_owned());
        }
        if self.site {
            reasons.push("same web address".to_owned());
        }
        if let (true, Some((shown, _))) = (self.organization, &a.organization) {
            reasons.push(format!("same organisation ({shown})"));
        }
        if self.nearest_km <= SAME_PLACE_KM {
            reasons.push(format!(
                "same place ({:.0} m apart)",
                self.nearest_km * 1000.0
            ));
        } else if self.nearest_km <= NEAR_KM {
            reasons.push(format!("near each other ({:.1} km)", self.nearest_km));
        }
        reasons
    }
}

/// [`score`] over prepared features, with the reasons only for a pair that
/// reaches [`DUPLICATE_THRESHOLD`]; None below it (the common case, found
/// without making any text).
fn score_features(a: &Features, b: &Features) -> Option<(f64, Vec<String>)> {
    let name = name_similarity(a, b);
    // A name that shares little cannot be made a duplicate by evidence
    // alone; nor can a name alone, with nothing else shared: two "Warm
    // space"s in two towns are two warm spaces. So only pairs that share a
    // phone, email, site, organisation or place need comparing, which is
    // how [`duplicates`] finds candidates.
    if name < MIN_NAME {
        return None;
    }
    let shared = Shared::of(a, b);
    let evidence = shared.evidence();
    let score = (name * NAME_WEIGHT + evidence).min(1.0);
    if evidence == 0.0 || score < DUPLICATE_THRESHOLD {
        return None;
    }
    Some((score, shared.reasons(name, a)))
}

/// Probable duplicates across hubs, best first, without pairs a
/// coordinator marked "not a duplicate".
pub fn duplicates(conn: &Connection, index: &SearchIndex) -> Result<Vec<DuplicatePair>> {
    Snapshot::load(conn, index)?.duplicates(conn)
}

impl Snapshot {
    /// The duplicates report over this snapshot; `conn` gives the
    /// coordinators' decisions.
    pub fn duplicates(&self, conn: &Connection) -> Result<Vec<DuplicatePair>> {
        duplicates_of(&self.rows, conn)
    }

    /// The coverage report over this snapshot.
    pub fn coverage(&self, within_km: f64, division: Division) -> CoverageReport {
        coverage_of(&self.rows, within_km, division)
    }
}

/// Each token's place in one order of all tokens, rarest first (ties by
/// number), for [`Prefix`].
fn ranks<'a>(sets: impl Iterator<Item = &'a [u32]> + Clone) -> Vec<u32> {
    let size = sets
        .clone()
        .flat_map(|s| s.iter())
        .max()
        .map_or(0, |m| *m as usize + 1);
    let mut frequency = vec![0u32; size];
    for set in sets {
        for &t in set {
            frequency[t as usize] += 1;
        }
    }
    let mut order: Vec<u32> = (0..size as u32).collect();
    order.sort_unstable_by_key(|&t| (frequency[t as usize], t));
    let mut rank = vec![0u32; size];
    for (r, t) in order.into_iter().enumerate() {
        rank[t as usize] = r as u32;
    }
    rank
}

/// Most prefix tokens kept inline; a longer prefix is not used to filter.
const PREFIX_CAP: usize = 14;

/// A set's rarest tokens (prefix filtering): two sets whose Jaccard
/// similarity is at least [`MIN_NAME_BY_PLACE`] always share one of them,
/// when both are taken under the same order ([`ranks`]). Kept inline, so
/// comparing neighbours reads one small record each.
#[derive(Clone, Copy)]
struct Prefix {
    /// How many of `ranks` are used; `u8::MAX`: too many, never filter.
    len: u8,
    /// The rarest tokens' ranks, ascending.
    ranks: [u32; PREFIX_CAP],
}

impl Prefix {
    fn of(set: &[u32], rank: &[u32]) -> Prefix {
        let n = set.len();
        let keep = n.saturating_sub((MIN_NAME_BY_PLACE * n as f64).ceil() as usize) + 1;
        let keep = keep.min(n);
        let mut prefix = Prefix {
            len: u8::MAX,
            ranks: [0; PREFIX_CAP],
        };
        if keep <= PREFIX_CAP {
            let mut ranked: Vec<u32> = set.iter().map(|&t| rank[t as usize]).collect();
            ranked.sort_unstable();
            prefix.ranks[..keep].copy_from_slice(&ranked[..keep]);
            prefix.len = keep as u8;
        }
        prefix
    }

    /// False only when the two sets cannot be alike enough.
    fn meets(&self, other: &Prefix) -> bool {
        if self.len == u8::MAX || other.len == u8::MAX {
            return true;
        }
        let (a, b) = (
            &self.ranks[..self.len as usize],
            &other.ranks[..other.len as usize],
        );
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }
}

/// Candidate partners of each service (later ones only): the services that
/// share a piece of evidence with it (phone, email, site, organisation: by
/// exact key; place: within [`NEAR_KM`], through `grid`'s cells of that
/// size). Every pair the score can report is among them, so nothing is
/// missed, and a region of 100,000 services is never compared pair by pair.
fn candidates(rows: &[&Row], features: &[Features], grid: &areas::Grid) -> Vec<Vec<usize>> {
    // Hubs by number, so "same hub?" is an integer comparison.
    let mut hub_numbers: HashMap<&str, u32> = HashMap::new();
    let hub: Vec<u32> = rows
        .iter()
        .map(|r| {
            let next = hub_numbers.len() as u32;
            *hub_numbers.entry(r.hub_id.as_str()).or_insert(next)
        })
        .collect();
    let mut blocks: HashMap<(u8, &str), Vec<usize>> = HashMap::new();
    for (i, f) in features.iter().enumerate() {
        for p in &f.phones {
            blocks.entry((0, p.as_str())).or_default().push(i);
        }
        if let Some(e) = &f.email {
            blocks.entry((1, e.as_str())).or_default().push(i);
        }
        if let Some(s) = &f.site {
            blocks.entry((2, s.as_str())).or_default().push(i);
        }
        if let Some((_, o)) = &f.organization {
            blocks.entry((3, o.as_str())).or_default().push(i);
        }
    }
    let mut partners: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    for members in blocks.values() {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                if hub[i] != hub[j] {
                    partners[i].push(j);
                }
            }
        }
    }
    // Places: pairs within NEAR_KM, through cells of that size. A pair
    // that shares only a place needs names at least MIN_NAME_BY_PLACE
    // alike, checked at once; one that shares more is in a block above.
    // Services come in the order of their cells (see `duplicates_of`), so
    // neighbours' features lie near each other in memory. Most neighbours
    // are told apart by their names' rarest tokens alone (see `Prefix`).
    let trigram_rank = ranks(features.iter().map(|f| f.trigrams.as_slice()));
    let word_rank = ranks(features.iter().map(|f| f.words.as_slice()));
    let prefixes: Vec<(Prefix, Prefix)> = features
        .iter()
        .map(|f| {
            (
                Prefix::of(&f.trigrams, &trigram_rank),
                Prefix::of(&f.words, &word_rank),
            )
        })
        .collect();
    type Cells = HashMap<(i64, i64), Vec<(usize, u32, (f64, f64))>>;
    let mut cells: Cells = HashMap::new();
    for (i, f) in features.iter().enumerate() {
        for &p in &f.points {
            cells
                .entry(grid.key(p.0, p.1))
                .or_default()
                .push((i, hub[i], p));
        }
    }
    // Each pair of neighbouring cells is looked at from one side only: a
    // cell with itself, and with the four neighbours after it.
    const AFTER: [(i64, i64); 4] = [(0, 1), (1, -1), (1, 0), (1, 1)];
    let alike = |i: usize, j: usize| {
        (prefixes[i].0.meets(&prefixes[j].0) || prefixes[i].1.meets(&prefixes[j].1))
            && name_similarity(&features[i], &features[j]) >= MIN_NAME_BY_PLACE
    };
    for (i, f) in features.iter().enumerate() {
        for &p in &f.points {
            let (r, c) = grid.key(p.0, p.1);
            for &(j, h, q) in cells.get(&(r, c)).into_iter().flatten() {
                if j > i && h != hub[i] && grid.within(p, q, NEAR_KM) && alike(i, j) {
                    partners[i].push(j);
                }
            }
            for (dr, dc) in AFTER {
                for &(j, h, q) in cells.get(&(r + dr, c + dc)).into_iter().flatten() {
                    if j != i && h != hub[i] && grid.within(p, q, NEAR_KM) && alike(i, j) {
                        partners[i.min(j)].push(i.max(j));
                    }
                }
            }
        }
    }
    for list in &mut partners {
        list.sort_unstable();
        list.dedup();
    }
    partners
}

fn duplicates_of(rows: &[Row], conn: &Connection) -> Result<Vec<DuplicatePair>> {
    let dismissed: HashSet<PairKey> = {
        let mut stmt =
            conn.prepare("SELECT a_hub, a_service, b_hub, b_service FROM agg_not_duplicates")?;
        let r = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        r.collect::<rusqlite::Result<_>>()?
    };
    let started = std::time::Instant::now();
    // In the order of their cells of NEAR_KM, so that services near each
    // other on the map are near each other in memory too.
    let points: Vec<(f64, f64)> = rows.iter().flat_map(|r| points_of(&r.service)).collect();
    let grid = areas::Grid::new(&points, NEAR_KM);
    let mut rows: Vec<&Row> = rows.iter().collect();
    rows.sort_by_cached_key(|r| {
        points_of(&r.service)
            .next()
            .map(|p| grid.key(p.0, p.1))
            .unwrap_or((i64::MAX, i64::MAX))
    });
    let mut names = Interner::default();
    let features: Vec<Features> = rows
        .iter()
        .map(|r| Features::of(&r.service, &mut names))
        .collect();
    let featured = started.elapsed();
    let candidates = candidates(&rows, &features, &grid);
    tracing::debug!(
        services = rows.len(),
        candidates = candidates.iter().map(Vec::len).sum::<usize>(),
        features_ms = featured.as_millis() as u64,
        candidates_ms = (started.elapsed() - featured).as_millis() as u64,
        "duplicates: candidates found"
    );
    let mut pairs = Vec::new();
    fn key(r: &Row) -> (&str, &str) {
        (r.hub_id.as_str(), r.service.id.as_str())
    }
    for (i, partners) in candidates.into_iter().enumerate() {
        for j in partners {
            // The lesser (hub, service) first, in the pair and its reasons.
            let (x, y) = if key(rows[i]) <= key(rows[j]) {
                (i, j)
            } else {
                (j, i)
            };
            let Some((s, reasons)) = score_features(&features[x], &features[y]) else {
                continue;
            };
            let (first, second) = (rows[x], rows[y]);
            if dismissed.contains(&ordered(first, second)) {
                continue;
            }
            pairs.push(DuplicatePair {
                score: (s * 100.0).round() / 100.0,
                reasons,
                a: side(first),
                b: side(second),
            });
        }
    }
    tracing::debug!(
        pairs = pairs.len(),
        ms = started.elapsed().as_millis() as u64,
        "duplicates: scored"
    );
    pairs.sort_by(|p, q| {
        q.score
            .total_cmp(&p.score)
            .then_with(|| p.a.name.cmp(&q.a.name))
            .then_with(|| (&p.a.hub_id, &p.a.service_id).cmp(&(&q.a.hub_id, &q.a.service_id)))
            .then_with(|| (&p.b.hub_id, &p.b.service_id).cmp(&(&q.b.hub_id, &q.b.service_id)))
    });
    Ok(pairs)
}

fn ordered(a: &Row, b: &Row) -> PairKey {
    let x = (a.hub_id.clone(), a.service.id.clone());
    let y = (b.hub_id.clone(), b.service.id.clone());
    let (p, q) = if x <= y { (x, y) } else { (y, x) };
    (p.0, p.1, q.0, q.1)
}

/// Records a coordinator's decision that two services are not the same.
pub fn dismiss(conn: &Connection, a: (&str, &str), b: (&str, &str), now: i64) -> Result<()> {
    signpost_client::store::aggregator::not_duplicates(conn, a, b, now)
}

/// Where and when one category is offered, and where it is missing.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// The category.
    pub term: String,
    /// How many services offer it.
    pub services: usize,
    /// Which hubs publish them.
    pub hubs: Vec<String>,
    /// Opening minutes per weekday, Monday first, summed over services.
    pub minutes_by_weekday: [u32; 7],
    /// Grid cells (or the operator's areas) with none within `within_km`.
    pub gaps: Vec<Gap>,
}

/// An area with no service of a category within the distance asked.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    /// The cell's centre, or a point inside the named area.
    pub latitude: f64,
    /// The cell's centre, or a point inside the named area.
    pub longitude: f64,
    /// Distance to the nearest service of the category, km (None: none at all).
    pub nearest_km: Option<f64>,
    /// Services of any category in this cell or area (where people are
    /// served at all).
    pub services_here: usize,
    /// The area's name, when the operator gave areas (absent for a grid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// Which of [`CoverageReport::regions`] this is.
    #[serde(skip)]
    pub region: usize,
}

/// How the aggregator's region is divided to find gaps.
#[derive(Debug, Clone, Copy)]
pub enum Division<'a> {
    /// Square cells of `cell_km` over the region's services; only cells
    /// holding some service count (where the region has people), and a
    /// cell's distance to a service is from its centre.
    Grid {
        /// The cells' side, km.
        cell_km: f64,
    },
    /// The operator's areas (`aggregator.coverage_areas`), each counted
    /// whether or not it holds services; distances follow the rule in
    /// [`areas`].
    Areas(&'a Areas),
}

/// The shape of one part of the division, for drawing it on a map.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A grid cell: south, west, north, east.
    Cell([f64; 4]),
    /// The `n`th of the operator's areas.
    Area(usize),
}

/// One part of the division: a grid cell holding services, or an area.
#[derive(Debug, Clone)]
pub struct Region {
    /// Its label point (latitude, longitude).
    pub point: (f64, f64),
    /// Its name, for areas.
    pub name: Option<String>,
    /// Services (grid: service locations) in it, of any category.
    pub services_here: usize,
    /// Its outline.
    pub shape: Shape,
}

/// The coverage report with what a map of it needs.
#[derive(Debug, Clone)]
pub struct CoverageReport {
    /// Per category, alphabetical.
    pub items: Vec<Coverage>,
    /// The parts the region was divided into (gaps point into these).
    pub regions: Vec<Region>,
    /// Per category (same order as `items`): where it is offered, as
    /// (latitude, longitude, service name, hub name).
    pub offered: Vec<Vec<(f64, f64, String, String)>>,
}

/// Coverage by category; a part of the division with no service of a
/// category within `within_km` is a gap. See [`coverage_report`] for the
/// shapes too.
pub fn coverage(
    conn: &Connection,
    index: &SearchIndex,
    within_km: f64,
    division: Division,
) -> Result<Vec<Coverage>> {
    Ok(coverage_report(conn, index, within_km, division)?.items)
}

/// Divides the region (once, for every category): the parts, and for
/// areas the services inside each (by index into `rows`, in order; empty
/// lists for a grid, whose distances are from cell centres).
fn regions(rows: &[Row], division: Division) -> (Vec<Region>, Vec<Vec<usize>>) {
    match division {
        Division::Grid { cell_km } => {
            let dlat = cell_km / 111.0;
            let mut cells: BTreeMap<(i64, i64), Region> = BTreeMap::new();
            for (lat, lon) in rows.iter().flat_map(|r| points_of(&r.service)) {
                // Cells are as wide as tall at their band's middle latitude,
                // whichever point of the band comes first.
                let band = (lat / dlat).floor() as i64;
                let middle = (band as f64 + 0.5) * dlat;
                let dlon = cell_km / (111.0 * middle.to_radians().cos().max(0.1));
                let key = (band, (lon / dlon).floor() as i64);
                let cell = cells.entry(key).or_insert_with(|| Region {
                    point: ((key.0 as f64 + 0.5) * dlat, (key.1 as f64 + 0.5) * dlon),
                    name: None,
                    services_here: 0,
                    shape: Shape::Cell([
                        key.0 as f64 * dlat,
                        key.1 as f64 * dlon,
                        (key.0 + 1) as f64 * dlat,
                        (key.1 + 1) as f64 * dlon,
                    ]),
                });
                cell.services_here += 1;
            }
            let regions: Vec<Region> = cells.into_values().collect();
            let reps = regions.iter().map(|_| Vec::new()).collect();
            (regions, reps)
        }
        Division::Areas(areas) => {
            // Which services lie inside each area (distance 0), in order.
            let inside: Vec<Vec<usize>> = areas
                .areas
                .iter()
                .map(|a| {
                    rows.iter()
                        .enumerate()
                        .filter(|(_, r)| points_of(&r.service).any(|(la, lo)| a.contains(la, lo)))
                        .map(|(i, _)| i)
                        .collect()
                })
                .collect();
            let regions = areas
                .areas
                .iter()
                .zip(&inside)
                .enumerate()
                .map(|(n, (a, here))| Region {
                    point: a.inside,
                    name: Some(a.name.clone()),
                    services_here: here.len(),
                    shape: Shape::Area(n),
                })
                .collect();
            (regions, inside)
        }
    }
}

fn points_of(s: &Service) -> impl Iterator<Item = (f64, f64)> + '_ {
    s.locations
        .iter()
        .filter_map(|l| Some((l.latitude?, l.longitude?)))
}

/// The coverage report and the shapes its gaps refer to.
pub fn coverage_report(
    conn: &Connection,
    index: &SearchIndex,
    within_km: f64,
    division: Division,
) -> Result<CoverageReport> {
    Ok(Snapshot::load(conn, index)?.coverage(within_km, division))
}

fn coverage_of(rows: &[Row], within_km: f64, division: Division) -> CoverageReport {
    let mut terms: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        for t in &r.service.taxonomy_terms {
            let list = terms.entry(t.name.as_str()).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    let (regions, inside) = regions(rows, division);
    let mut items = Vec::new();
    let mut offered = Vec::new();
    for (term, services) in terms {
        let mut minutes = [0u32; 7];
        for &i in &services {
            for span in signpost_client::search::hours::weekly_spans(&rows[i].service.schedules) {
                minutes[span.weekday as usize] +=
                    u32::from(span.closes_min.saturating_sub(span.opens_min));
            }
        }
        let term_points: Vec<(f64, f64)> = services
            .iter()
            .flat_map(|&i| points_of(&rows[i].service))
            .collect();
        let index = PointIndex::new(&term_points, within_km);
        let mut gaps = Vec::new();
        for (n, region) in regions.iter().enumerate() {
            let nearest = match division {
                Division::Grid { .. } => index
                    .nearest(region.point.0, region.point.1, f64::INFINITY)
                    .unwrap_or(f64::INFINITY),
                Division::Areas(areas) => {
                    let has_one_inside =
                        inside[n].iter().any(|i| services.binary_search(i).is_ok());
                    if has_one_inside {
                        0.0
                    } else {
                        areas.areas[n].nearest(&index).unwrap_or(f64::INFINITY)
                    }
                }
            };
            if nearest > within_km {
                gaps.push(Gap {
                    latitude: (region.point.0 * 1e4).round() / 1e4,
                    longitude: (region.point.1 * 1e4).round() / 1e4,
                    nearest_km: nearest.is_finite().then(|| (nearest * 10.0).round() / 10.0),
                    services_here: region.services_here,
                    area: region.name.clone(),
                    region: n,
                });
            }
        }
        let mut hubs: Vec<String> = services.iter().map(|&i| rows[i].hub_name.clone()).collect();
        hubs.sort();
        hubs.dedup();
        offered.push(
            services
                .iter()
                .flat_map(|&i| {
                    let r = &rows[i];
                    points_of(&r.service)
                        .map(|(la, lo)| (la, lo, r.service.name.clone(), r.hub_name.clone()))
                })
                .collect(),
        );
        items.push(Coverage {
            term: term.to_owned(),
            services: services.len(),
            hubs,
            minutes_by_weekday: minutes,
            gaps,
        });
    }
    CoverageReport {
        items,
        regions,
        offered,
    }
}

/// A coverage report as GeoJSON features for a map: each gap's outline
/// (a grid cell, or the operator's area) with `layer: "gap"`, and each
/// place a category is offered with `layer: "offered"`. Coordinates are
/// GeoJSON's longitude, latitude.
pub fn map_features(report: &CoverageReport, areas: Option<&Areas>) -> Vec<serde_json::Value> {
    let ring = |r: &[areas::LonLat]| -> Vec<[f64; 2]> { r.iter().map(|p| [p.0, p.1]).collect() };
    let mut out = Vec::new();
    for (item, offered) in report.items.iter().zip(&report.offered) {
        for gap in &item.gaps {
            let Some(region) = report.regions.get(gap.region) else {
                continue;
            };
            let geometry = match &region.shape {
                Shape::Cell([s, w, n, e]) => serde_json::json!({"type": "Polygon",
                    "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}),
                Shape::Area(k) => {
                    let Some(area) = areas.and_then(|a| a.areas.get(*k)) else {
                        continue;
                    };
                    let polygons: Vec<Vec<Vec<[f64; 2]>>> = area
                        .polygons
                        .iter()
                        .map(|p| {
                            std::iter::once(ring(&p.outer))
                                .chain(p.holes.iter().map(|h| ring(h)))
                                .collect()
                        })
                        .collect();
                    serde_json::json!({"type": "MultiPolygon", "coordinates": polygons})
                }
            };
            out.push(serde_json::json!({"type": "Feature", "geometry": geometry,
                "properties": {"layer": "gap", "term": item.term, "name": gap.area,
                    "nearest_km": gap.nearest_km, "services_here": gap.services_here}}));
        }
        for (lat, lon, service, hub) in offered {
            out.push(serde_json::json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"layer": "offered", "term": item.term, "service": service, "hub": hub}}));
        }
    }
    out
}

/// One hub's freshness.
#[derive(Debug, Clone, Serialize)]
pub struct Freshness {
    /// The hub.
    pub hub_id: String,
    /// Its name.
    pub name: String,
    /// `fresh`, `expired` or `unreachable`.
    pub staleness: Staleness,
    /// When this aggregator last accepted a new listing from it (RFC 3339).
    pub last_changed: String,
    /// Services whose `assured_date` is missing or older than `review_days`.
    pub unreviewed_services: usize,
    /// Services in all.
    pub services: usize,
}

/// Freshness of every active hub, stalest first.
pub fn freshness(
    conn: &Connection,
    index: &SearchIndex,
    now_secs: i64,
    review_days: i64,
) -> Result<Vec<Freshness>> {
    freshness_of(conn, index, now_secs, review_days)
}

/// Reads only what freshness needs of each service (its `assured_date`),
/// counted per hub, not whole services.
fn freshness_of(
    conn: &Connection,
    index: &SearchIndex,
    now_secs: i64,
    review_days: i64,
) -> Result<Vec<Freshness>> {
    let (hubs, _) =
        signpost_client::store::aggregator::list_hubs(conn, None, u32::MAX, 0, now_secs)?;
    let cutoff = jiff::Timestamp::from_second(now_secs - review_days * 86_400)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default();
    #[derive(serde::Deserialize)]
    struct Assured {
        assured_date: Option<String>,
    }
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    index.for_each_service(|stored| {
        let assured: Assured = serde_json::from_str(&stored.json).map_err(|e| {
            signpost_client::Error::Setup(format!("a stored service is unreadable: {e}"))
        })?;
        let entry = counts.entry(stored.hub_id).or_default();
        entry.0 += 1;
        entry.1 += usize::from(assured.assured_date.is_none_or(|d| d < cutoff));
        Ok(())
    })?;
    let mut out: Vec<Freshness> = hubs
        .into_iter()
        .filter(|h| h.state == "active")
        .map(|h| {
            let (services, unreviewed) = counts.get(&h.hub_id).copied().unwrap_or_default();
            Freshness {
                unreviewed_services: unreviewed,
                services,
                hub_id: h.hub_id,
                name: h.name,
                staleness: h.staleness,
                last_changed: h.accepted_at,
            }
        })
        .collect();
    // Expired first, then unreachable (the order of [`Staleness`]).
    out.sort_by(|a, b| {
        a.staleness
            .cmp(&b.staleness)
            .then(a.last_changed.cmp(&b.last_changed))
    });
    Ok(out)
}

/// The freshness report as CSV, for a weekly digest. Hub names come from
/// strangers' listings, so cells go through [`signpost_client::spreadsheet`].
pub fn freshness_csv(rows: &[Freshness]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| NodeError::Setup(format!("writing CSV: {e}"));
    write_row(
        &mut w,
        [
            "hub_id",
            "name",
            "staleness",
            "last_changed",
            "services",
            "unreviewed_services",
        ],
    )
    .map_err(fail)?;
    for r in rows {
        write_row(
            &mut w,
            [
                r.hub_id.as_str(),
                r.name.as_str(),
                r.staleness.as_str(),
                r.last_changed.as_str(),
                &r.services.to_string(),
                &r.unreviewed_services.to_string(),
            ],
        )
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| NodeError::Setup(format!("writing CSV: {e}")))
}

/// What the reports read, as one text that changes when any of it does:
/// the feed's last change number (every listing stored, withdrawn or
/// delisted), the "not a duplicate" decisions, and how many sources are
/// failing (freshness calls a hub unreachable by it). Cached reports are
/// served while it stays the same.
pub fn data_version(conn: &Connection) -> Result<String> {
    let changes = signpost_client::store::aggregator::last_change_number(conn)?;
    let (decisions, failing): (i64, i64) = conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM agg_not_duplicates),
                    (SELECT COUNT(*) FROM agg_sources WHERE failures > 0)",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(format!("{changes}-{decisions}-{failing}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_freshness_csv_neutralises_formulas() {
        let row = Freshness {
            hub_id: "h1".into(),
            name: "=HYPERLINK(\"http://x\",\"y\")".into(),
            staleness: Staleness::Fresh,
            last_changed: "2025-01-01T00:00:00Z".into(),
            unreviewed_services: 0,
            services: 1,
        };
        let text = String::from_utf8(freshness_csv(&[row]).unwrap()).unwrap();
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
            "{text}"
        );
    }

    fn service(name: &str, phone: Option<&str>, org: Option<&str>, lat: f64) -> Service {
        let mut v = serde_json::json!({"id": "00000000-0000-4000-8000-000000000001", "name": name,
            "locations": [{"id": "00000000-0000-4000-8000-000000000002", "latitude": lat, "longitude": -2.8}]});
        if let Some(p) = phone {
            v["phones"] = serde_json::json!([{"number": p}]);
        }
        if let Some(o) = org {
            v["organization"] = serde_json::json!({"name": o});
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn duplicates_need_a_similar_name_and_evidence() {
        let a = service(
            "Citizens Advice debt advice surgery",
            Some("01632 960400"),
            Some("Citizens Advice"),
            53.55,
        );
        let b = service(
            "Citizens Advice debt advice surgery (Greenhill)",
            Some("01632960400"),
            Some("Citizens Advice"),
            53.55,
        );
        let (s, reasons) = score(&a, &b);
        assert!(s >= DUPLICATE_THRESHOLD, "{s} {reasons:?}");
        assert!(reasons.iter().any(|r| r == "same phone number"));
        // Same organisation and place, different service: not a duplicate.
        let c = service(
            "Youth club",
            Some("01632 960400"),
            Some("Citizens Advice"),
            53.55,
        );
        assert!(score(&a, &c).0 < DUPLICATE_THRESHOLD);
        // The same name in two towns, nothing else shared: not a duplicate.
        let d = service("Warm space", None, None, 53.82);
        let e = service("Warm space", None, None, 54.05);
        assert_eq!(score(&d, &e).0, 0.0);
    }

    /// Services from a small vocabulary, so that many share words, phones,
    /// organisations, emails, sites and places, at random.
    fn crowd(n: usize) -> Vec<Row> {
        const WORDS: &[&str] = &[
            "food", "bank", "warm", "space", "youth", "club", "debt", "advice", "the", "café",
        ];
        let mut seed = 7u64;
        let mut next = move |m: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % m
        };
        (0..n)
            .map(|i| {
                let name: Vec<&str> = (0..1 + next(3)).map(|_| WORDS[next(WORDS.len())]).collect();
                let mut v = serde_json::json!({"id": format!("s{i}"), "name": name.join(" "),
                    "locations": [{"id": format!("l{i}"), "latitude": 53.8 + next(40) as f64 * 0.002, "longitude": -3.0 + next(40) as f64 * 0.003}]});
                if next(2) == 0 {
                    v["phones"] = serde_json::json!([{"number": format!("01632 96{:04}", next(40))}]);
                }
                if next(3) == 0 {
                    let org = ["Citizens Advice", "citizens advice", "Age UK"][next(3)];
                    v["organization"] = serde_json::json!({ "name": org });
                }
                if next(4) == 0 {
                    v["email"] = serde_json::json!(format!("Team{}@example.org", next(10)));
                }
                if next(4) == 0 {
                    v["url"] = serde_json::json!(format!("https://example.org/{}/", next(10)));
                }
                if next(5) == 0 {
                    v["locations"] = serde_json::json!([]);
                }
                Row {
                    hub_id: format!("hub{}", next(12)),
                    hub_name: "Hub".into(),
                    service: serde_json::from_value(v).unwrap(),
                }
            })
            .collect()
    }

    #[test]
    fn candidates_miss_no_pair_that_comparing_every_pair_finds() {
        let rows = crowd(600);
        let mut conn = Connection::open_in_memory().unwrap();
        let all = signpost_client::store::schema_version();
        signpost_client::store::migrate_to(&mut conn, all).unwrap();
        let fast = duplicates_of(&rows, &conn).unwrap();
        let mut names = Interner::default();
        let features: Vec<Features> = rows
            .iter()
            .map(|r| Features::of(&r.service, &mut names))
            .collect();
        let mut slow = Vec::new();
        for i in 0..rows.len() {
            for j in i + 1..rows.len() {
                if rows[i].hub_id == rows[j].hub_id {
                    continue;
                }
                let key = |r: &Row| (r.hub_id.clone(), r.service.id.clone());
                let (x, y) = if key(&rows[i]) <= key(&rows[j]) {
                    (i, j)
                } else {
                    (j, i)
                };
                if let Some((s, reasons)) = score_features(&features[x], &features[y]) {
                    let key = ordered(&rows[x], &rows[y]);
                    slow.push((key.1, key.3, (s * 100.0).round() / 100.0, reasons));
                }
            }
        }
        let mut fast: Vec<_> = fast
            .into_iter()
            .map(|p| (p.a.service_id, p.b.service_id, p.score, p.reasons))
            .collect();
        fast.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        slow.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        assert!(slow.len() > 50, "the crowd has duplicates: {}", slow.len());
        let by_place_only = slow
            .iter()
            .filter(|p| {
                p.3.iter().all(|r| {
                    r.starts_with("similar") || r.starts_with("near") || r.starts_with("same place")
                })
            })
            .count();
        assert!(
            by_place_only > 5,
            "some found by place alone: {by_place_only}"
        );
        assert_eq!(fast, slow);
        // And a dismissed pair stays out.
        let first = &fast[0];
        let hub = |id: &str| {
            rows.iter()
                .find(|r| r.service.id == id)
                .unwrap()
                .hub_id
                .clone()
        };
        dismiss(
            &conn,
            (&hub(&first.0), &first.0),
            (&hub(&first.1), &first.1),
            0,
        )
        .unwrap();
        assert_eq!(duplicates_of(&rows, &conn).unwrap().len(), fast.len() - 1);
    }
}
