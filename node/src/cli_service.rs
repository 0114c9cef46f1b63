//! Building a service from command-line flags, through the same rules as a
//! CSV row so the two never disagree.

use signpost_spec::Service;

use crate::error::Result;
use crate::import::csv::row_from_fields;

/// The `service add` flags, named like the CSV columns they fill.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServiceFields {
    /// The service's name, e.g. "Community café".
    #[arg(long)]
    pub name: String,
    /// What it offers, in plain words.
    #[arg(long)]
    pub description: Option<String>,
    /// Who runs it, if not your hub.
    #[arg(long)]
    pub organization: Option<String>,
    /// Web page (http:// or https://).
    #[arg(long)]
    pub url: Option<String>,
    /// Contact email.
    #[arg(long)]
    pub email: Option<String>,
    /// Contact phone number.
    #[arg(long)]
    pub phone: Option<String>,
    /// Who it is for, e.g. "Anyone living in Revoe".
    #[arg(long)]
    pub eligibility: Option<String>,
    /// Youngest age it is for, in years, e.g. 16.
    #[arg(long)]
    pub min_age: Option<String>,
    /// Oldest age it is for, in years, e.g. 25.
    #[arg(long)]
    pub max_age: Option<String>,
    /// What it costs, e.g. "Free" or "£3 a meal".
    #[arg(long)]
    pub fees: Option<String>,
    /// How people get it: walk-in, self-referral, professional-referral (separate several with ;).
    #[arg(long)]
    pub access: Option<String>,
    /// Name of the place, e.g. "Main hall".
    #[arg(long)]
    pub location_name: Option<String>,
    /// First line of the address.
    #[arg(long)]
    pub address: Option<String>,
    /// Town or city.
    #[arg(long)]
    pub city: Option<String>,
    /// Postcode.
    #[arg(long)]
    pub postcode: Option<String>,
    /// Latitude, e.g. 53.8069.
    #[arg(long, allow_hyphen_values = true)]
    pub lat: Option<String>,
    /// Longitude, e.g. -3.0135.
    #[arg(long, allow_hyphen_values = true)]
    pub lon: Option<String>,
    /// Opening hours as people write them, e.g. "Mon-Fri 9am-5pm",
    /// "Tues & Thurs 10-2" or "MO,WE 09:00-12:00; SA 10:00-14:00" (read by
    /// the same reader as a spreadsheet's opening times).
    #[arg(long)]
    pub hours: Option<String>,
    /// Categories, separated by ; e.g. "Food; Advice".
    #[arg(long)]
    pub category: Option<String>,
    /// Language codes, separated by ; e.g. "en; ro".
    #[arg(long)]
    pub languages: Option<String>,
}

impl ServiceFields {
    /// Turns the flags into a service (id empty: the hub assigns one).
    pub fn to_service(&self) -> Result<Service> {
        let fields: Vec<(&str, &str, Option<&String>)> = vec![
            ("name", "--name", Some(&self.name)),
            ("description", "--description", self.description.as_ref()),
            ("organization", "--organization", self.organization.as_ref()),
            ("url", "--url", self.url.as_ref()),
            ("email", "--email", self.email.as_ref()),
            ("phone", "--phone", self.phone.as_ref()),
            ("eligibility", "--eligibility", self.eligibility.as_ref()),
            ("minimum_age", "--min-age", self.min_age.as_ref()),
            ("maximum_age", "--max-age", self.max_age.as_ref()),
            ("fees", "--fees", self.fees.as_ref()),
            ("access", "--access", self.access.as_ref()),
            (
                "location_name",
                "--location-name",
                self.location_name.as_ref(),
            ),
            ("address_1", "--address", self.address.as_ref()),
            ("city", "--city", self.city.as_ref()),
            ("postal_code", "--postcode", self.postcode.as_ref()),
            ("latitude", "--lat", self.lat.as_ref()),
            ("longitude", "--lon", self.lon.as_ref()),
            ("opening_hours", "--hours", self.hours.as_ref()),
            ("taxonomy", "--category", self.category.as_ref()),
            ("languages", "--languages", self.languages.as_ref()),
        ];
        row_from_fields(&fields)
    }
}
