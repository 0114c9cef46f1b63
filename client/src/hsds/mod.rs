//! Open Referral (HSDS 3 and its UK profile, ORUK 3.0): how a listing's
//! services read as Open Referral objects, for the `/hsds/` API, exports
//! and the search index's Open Referral ids.

pub mod map;
