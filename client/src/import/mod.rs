//! The files hubs already keep, read into services and written back: CSV
//! spreadsheets, Excel and LibreOffice workbooks, and Open Referral HSDS 3
//! / ORUK JSON. (Planning what an
//! import changes in a hub's own services is the node's hub role.)

pub mod csv;
pub mod hours;
pub mod hsds;
pub mod workbook;
