//! The listing payload: a hub's profile and its services, with field names
//! that follow Open Referral HSDS 3.0 so that mapping to HSDS/ORUK is direct.
//!
//! Unknown fields are ignored by verifiers (so minor versions can add
//! fields), but they still count towards the size and depth limits.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::envelope::Envelope;

/// The protocol version this crate writes and reads.
pub const PROTOCOL_VERSION: &str = "1";

/// A hub's complete, signed description of itself and its services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// Protocol version, `"1"`.
    pub signpost: String,
    /// Who publishes this listing.
    pub hub: HubProfile,
    /// Strictly increasing with each publication (rollback protection).
    pub seq: u64,
    /// When the hub signed it.
    pub issued_at: Timestamp,
    /// After this the listing is stale and verifiers refuse it.
    pub expires_at: Timestamp,
    /// A signed farewell: the hub has left the network (no services then).
    #[serde(default, skip_serializing_if = "is_false")]
    pub withdrawn: bool,
    /// Key-rotation statements from the hub's first key to the key that
    /// signed this listing, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotations: Vec<Envelope>,
    /// The hub's services.
    pub services: Vec<Service>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Who the hub is, and what kind of hub (the Lancashire report's dimensions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HubProfile {
    /// `ed25519:` key id of the hub's first key.
    pub id: String,
    /// The name people know the hub by.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The hub's own web site (not the listing URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Plain words for the area served, e.g. "Grange Park estate, Blackpool".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_served: Option<String>,
    /// Where the hub itself is, if it has a place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// IANA time zone that opening times are written in.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// The four hub dimensions.
    pub dimensions: Dimensions,
}

/// The default time zone: the hubs in the seed reports are all in the UK.
pub fn default_timezone() -> String {
    "Europe/London".to_owned()
}

/// The Lancashire report's four dimensions of a community hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dimensions {
    /// One or more kinds of space (a hub can be pop-up and virtual at once).
    pub space: Vec<Space>,
    pub governance: Governance,
    pub focus: Focus,
    pub coordination: Coordination,
}

/// Where the hub happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Space {
    /// A central physical place of its own.
    Dedicated,
    /// Temporary physical places (a shopping centre stall, a borrowed room).
    PopUp,
    /// Digital: online signposting or a virtual network.
    Virtual,
}

/// Who leads the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Governance {
    /// Led by the voluntary, community, faith and social enterprise sector.
    CommunityLed,
    /// Led by public agencies (NHS, local authority).
    StatutoryLed,
    /// Jointly led.
    Partnership,
}

/// How broad the hub's offer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Focus {
    /// Many services in a one-stop shop.
    Generic,
    /// One area of need (mental health, a life stage, nature and wellbeing).
    Specialised,
}

/// Whether the hub delivers services or coordinates other hubs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Coordination {
    /// Delivers services at community level.
    FirstLevel,
    /// Networks hubs and facilitates other initiatives.
    SecondLevel,
}

/// One service, shaped like an HSDS 3.0 `service` with its children inline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// UUID, lowercase hyphenated, stable across edits.
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub status: ServiceStatus,
    /// The organisation that runs the service, when it is not the hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Who the service is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility_description: Option<String>,
    /// The youngest age, in whole years, the service is for (HSDS 3
    /// `minimum_age`); absent: no lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<u8>,
    /// The oldest age, in whole years, the service is for (HSDS 3
    /// `maximum_age`); absent: no upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_age: Option<u8>,
    /// What it costs, in words ("Free", "£3 a meal").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees_description: Option<String>,
    /// How to get it, in words ("Drop in", "Ask your GP to refer you").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_process: Option<String>,
    /// How people reach the service; machine-readable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<AccessRoute>,
    /// When the hub last checked this entry was right (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assured_date: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Language>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_areas: Vec<ServiceArea>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxonomy_terms: Vec<TaxonomyTerm>,
}

/// HSDS 3.0 service status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceStatus {
    #[default]
    #[serde(rename = "active")]
    Active,
    #[serde(rename = "inactive")]
    Inactive,
    #[serde(rename = "defunct")]
    Defunct,
    #[serde(rename = "temporarily closed")]
    TemporarilyClosed,
}

impl ServiceStatus {
    /// Every status, in the order forms and error messages list them.
    pub const ALL: [ServiceStatus; 4] = [
        ServiceStatus::Active,
        ServiceStatus::Inactive,
        ServiceStatus::Defunct,
        ServiceStatus::TemporarilyClosed,
    ];

    /// The status's word as HSDS and spreadsheets write it (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Active => "active",
            ServiceStatus::Inactive => "inactive",
            ServiceStatus::Defunct => "defunct",
            ServiceStatus::TemporarilyClosed => "temporarily closed",
        }
    }
}

/// A status word that is none of HSDS's four; callers say so in their own
/// words (a spreadsheet cell, an HSDS field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl std::fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} is not active, inactive, defunct or temporarily closed",
            self.0
        )
    }
}

impl std::error::Error for UnknownStatus {}

/// Reads a status word, case ignored (`"Temporarily closed"` too): the one
/// reading that spreadsheets and HSDS files share.
impl std::str::FromStr for ServiceStatus {
    type Err = UnknownStatus;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        ServiceStatus::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(word))
            .ok_or_else(|| UnknownStatus(word.to_owned()))
    }
}

/// How a person gets to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessRoute {
    /// Turn up during opening times.
    WalkIn,
    /// Contact the service yourself (phone, form, email).
    SelfReferral,
    /// A GP, social prescriber or other professional must refer you.
    ProfessionalReferral,
}

/// The organisation running a service (HSDS `organization`, reduced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// UUID, when the hub tracks organisations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// HSDS `language`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Language {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ISO 639 code, e.g. `en`, `ro`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// HSDS `service_area`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceArea {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// HSDS `location` with its physical address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// UUID, unique within the service.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// Step-free access, hearing loops, ... in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibility: Option<String>,
}

/// HSDS `address` (physical).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `GB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// HSDS `phone`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phone {
    pub number: String,
    /// `voice`, `text`, `fax`, ... as HSDS.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// HSDS `contact`: a named person or role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// HSDS `schedule`, restricted to weekly opening times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Days as iCal two-letter codes, comma-separated: `MO,WE,FR`.
    pub byday: String,
    /// Local opening time `HH:MM` or `HH:MM:SS` in the hub's time zone.
    pub opens_at: String,
    /// Local closing time; earlier than `opens_at` means it closes after
    /// midnight.
    pub closes_at: String,
    /// First date (`YYYY-MM-DD`) the schedule applies, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// Last date the schedule applies, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// Words for people ("Term time only").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The location this schedule is for, when the service has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
}

impl Schedule {
    /// A plain weekly session (every week, no dates, words or location of
    /// its own): what forms, imports and tests make most.
    pub fn weekly(byday: &str, opens_at: &str, closes_at: &str) -> Schedule {
        Schedule {
            byday: byday.into(),
            opens_at: opens_at.into(),
            closes_at: closes_at.into(),
            valid_from: None,
            valid_to: None,
            description: None,
            location_id: None,
        }
    }
}

/// HSDS `taxonomy_term`: what kind of service this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxonomyTerm {
    /// Code within the taxonomy, e.g. `food-bank`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub name: String,
    /// Which vocabulary, e.g. `signpost` or `esd` (LGA service types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_reads_back_from_its_word_in_any_case() {
        for s in ServiceStatus::ALL {
            assert_eq!(s.as_str().parse::<ServiceStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        assert_eq!(
            "Temporarily Closed".parse::<ServiceStatus>(),
            Ok(ServiceStatus::TemporarilyClosed)
        );
        assert!("open".parse::<ServiceStatus>().is_err());
    }
}
