//! The matrix's rows for groups of schools and reports. A report is
//! counts and averages, but of a school's pupils: its coordinators and
//! safeguarding leads read it (not every teacher), a partnership's both
//! schools', and a group's only its scheme lead. The scheme lead is named
//! in no other row of the matrix.

use super::*;

pub(super) const REPORTS: &[Row] = &[
    Row {
        method: "GET",
        path: "/api/groups",
        allowed: &[Admin, CoordA, CoordB, CoordC, SchemeLead],
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/groups",
        allowed: &[Admin],
        body: |n| Body::Json(json!({"name": format!("Group {n}")})),
    },
    Row {
        method: "GET",
        path: "/api/groups/{group_id}",
        allowed: &[Admin, SchemeLead],
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/groups/{group_id}/schools",
        allowed: &[Admin],
        body: |_| Body::Json(json!({"school": "school-c"})),
    },
    Row {
        method: "POST",
        path: "/api/groups/{group_id}/leads",
        allowed: &[Admin],
        body: |n| {
            Body::Json(json!({
                "username": format!("lead{n}"),
                "password": PASSWORD,
                "given_name": "Lead",
                "family_name": "Person",
            }))
        },
    },
    // Each school answers for itself, through its own coordinator.
    Row {
        method: "POST",
        path: "/api/groups/{group_id}/agree",
        allowed: ANY_COORDINATOR,
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "POST",
        path: "/api/groups/{group_id}/leave",
        allowed: ANY_COORDINATOR,
        body: |_| Body::Json(json!({})),
    },
    Row {
        method: "GET",
        path: "/groups",
        allowed: &[Admin, CoordA, CoordB, CoordC, SchemeLead],
        body: none,
    },
    Row {
        method: "POST",
        path: "/groups/{group_id}/agree",
        allowed: ANY_COORDINATOR,
        body: |_| Body::Form(vec![]),
    },
    Row {
        method: "POST",
        path: "/groups/{group_id}/leave",
        allowed: ANY_COORDINATOR,
        body: |_| Body::Form(vec![]),
    },
    Row {
        method: "GET",
        path: "/api/reports/schools/{school_id}",
        allowed: &[CoordA, DslA],
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/reports/partnerships/{partnership_id}",
        allowed: &[CoordA, DslA, CoordB],
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/reports/groups/{group_id}",
        allowed: &[SchemeLead],
        body: none,
    },
    // The reader's own: their school's, or a scheme lead's group's.
    Row {
        method: "GET",
        path: "/reports",
        allowed: &[CoordA, DslA, CoordB, CoordC, SchemeLead],
        body: none,
    },
    Row {
        method: "GET",
        path: "/reports/partnerships/{partnership_id}",
        allowed: &[CoordA, DslA, CoordB],
        body: none,
    },
    Row {
        method: "GET",
        path: "/reports/groups/{group_id}",
        allowed: &[SchemeLead],
        body: none,
    },
];
