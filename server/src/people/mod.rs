//! The people a scheme is made of, in the order a school sets itself up:
//! [`schools`] and their staff and students ([`accounts`]), the
//! [`partnerships`] that pair two schools, the [`rosters`] that bring students
//! in from the school's own system, the [`mentors`] who are trained and
//! cleared, and the [`referrals`] that put a mentee forward.

pub mod accounts;
pub mod mentors;
pub mod partnerships;
pub mod referrals;
pub mod rosters;
pub mod schools;
