//! The matrix's rows for mentors' volunteering certificates: a coordinator
//! of the mentor's school issues one, the mentor and that coordinator
//! download it, and anyone at all checks a code.

use super::*;

pub(super) const CERTIFICATES: &[Row] = &[
    Row {
        method: "POST",
        path: "/api/mentors/{user_id}/certificates",
        allowed: &[CoordA],
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "GET",
        path: "/api/mentors/{user_id}/certificates",
        allowed: &[CoordA, MentorA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/school/mentors/{user_id}/certificate",
        allowed: &[CoordA],
        body: |_| Body::Form(vec![]),
    },
    Row {
        method: "GET",
        path: "/certificates/{code}/pdf",
        allowed: &[CoordA, MentorA],
        body: none,
    },
    // The check needs no sign-in: it is for assessors and admissions tutors.
    Row {
        method: "GET",
        path: "/certificates/{code}",
        allowed: EVERYONE,
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/certificates/{code}",
        allowed: EVERYONE,
        body: none,
    },
];
