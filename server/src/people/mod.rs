//! The people a scheme is made of, in the order a school sets itself up:
//! [`schools`] and their staff and students ([`accounts`]), the
//! [`partnerships`] that pair two schools, the [`rosters`] that bring students
//! in from the school's own system, the [`mentors`] who are trained and
//! cleared, and the [`referrals`] that put a mentee forward; [`groups`]
//! gather schools into a scheme a local authority or a trust runs, led by
//! scheme leads who see only its aggregate reports.
//!
//! Each has the same parts, and only those it needs: `mod.rs` (types, rules
//! and the domain's authorized steps), `store.rs` (SQL on its own table:
//! `schools`, `users` and sign-in `sessions`, `partnerships`,
//! `mentor_profiles`, `referrals`, `school_groups` and their members), `http.rs` (JSON API) and `pages.rs`
//! (HTML). [`rosters`] has no table: it writes students through
//! `accounts::store`, and its upload form is the Students page's. One domain
//! reaches another only through that domain's `mod.rs` or `store.rs`.

pub mod accounts;
pub mod groups;
pub mod mentors;
pub mod partnerships;
pub mod referrals;
pub mod rosters;
pub mod schools;
