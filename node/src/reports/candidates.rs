//! Finding the pairs worth scoring as duplicates without comparing every
//! pair: services that share one of their rarest name tokens (a prefix of
//! each one's tokens, rarest first), or stand in the same or a
//! neighbouring grid cell.

use super::duplicates::{name_similarity, Features, MIN_NAME_BY_PLACE, NEAR_KM};
use super::*;

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
pub(super) fn candidates(
    rows: &[&Row],
    features: &[Features],
    grid: &grid::Grid,
) -> Vec<Vec<usize>> {
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
