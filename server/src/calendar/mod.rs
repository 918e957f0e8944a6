//! School calendars, and their alignment into bookable slots.
//!
//! Each school keeps its own local rules — terms and closures, bell
//! schedules with a Week A/B (or longer) cycle — in its own IANA zone
//! ([`model`]). Files come in through [`import`]; [`time`] is the one place
//! local times become instants; [`align`] turns two schools' rules and the
//! partnership's policy into concrete slots in UTC, each with both schools'
//! local view.

pub mod align;
pub mod http;
pub mod import;
pub mod model;
pub mod store;
pub mod time;

#[cfg(test)]
mod tests;
