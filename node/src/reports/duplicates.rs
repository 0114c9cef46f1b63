//! Probable duplicate services across hubs: names compared by words and
//! trigrams, with phone, email, web site, organisation and place as
//! further evidence; candidate pairs found through rare shared tokens and
//! the area grid, never by comparing every pair.

use super::candidates::candidates;
use super::*;

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
pub(super) struct Features {
    pub(super) trigrams: Vec<u32>,
    pub(super) words: Vec<u32>,
    /// Phone numbers' digits, those of six digits or more.
    pub(super) phones: Vec<String>,
    pub(super) email: Option<String>,
    pub(super) site: Option<String>,
    /// The organisation's name as given, and lower-cased for comparing.
    pub(super) organization: Option<(String, String)>,
    pub(super) points: Vec<(f64, f64)>,
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
pub(super) const NEAR_KM: f64 = 1.0;
/// Within this, "the same place", km.
const SAME_PLACE_KM: f64 = 0.2;
/// Below this name similarity, no evidence makes a duplicate.
const MIN_NAME: f64 = 0.3;
/// The name's share of the score.
const NAME_WEIGHT: f64 = 0.6;
/// The least name similarity a pair needs when all it shares is a place:
/// candidates found only by place are filtered on it at once (a hair
/// lower, so rounding never drops a pair exactly at the threshold).
pub(super) const MIN_NAME_BY_PLACE: f64 =
    (DUPLICATE_THRESHOLD - SAME_PLACE_WEIGHT) / NAME_WEIGHT - 1e-9;

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
pub(super) fn name_similarity(a: &Features, b: &Features) -> f64 {
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

pub(super) fn duplicates_of(rows: &[Row], conn: &Connection) -> Result<Vec<DuplicatePair>> {
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
    let grid = grid::Grid::new(&points, NEAR_KM);
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

#[cfg(test)]
mod tests {
    use super::*;

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
