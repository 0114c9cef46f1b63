//! Freshness: how old each hub's listing is, how many of its services
//! nobody reviewed lately, and the spreadsheet of it.

use super::*;

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
}
