//! The matrix rows of messaging and safeguarding: the pair's thread is
//! theirs and their schools' safeguarding leads'; only a safeguarding lead
//! reviews, handles concerns, searches and reads the record; coordinators
//! keep the word list and rules with them.

use serde_json::json;

use super::{Body, CoordA, CoordB, CoordC, DslA, MenteeB, MentorA, Row, none};

const PAIR: &[super::Who] = &[MentorA, MenteeB];
const RULE_KEEPERS: &[super::Who] = &[CoordA, DslA, CoordB, CoordC];

pub const MESSAGING: &[Row] = &[
    Row {
        method: "GET",
        path: "/api/threads",
        allowed: PAIR,
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/threads/{match_id}",
        allowed: &[MentorA, MenteeB, DslA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/threads/{match_id}/messages",
        allowed: PAIR,
        body: |_| Body::Json(json!({"text": "See you on Monday for fractions!"})),
    },
    Row {
        method: "POST",
        path: "/api/threads/{match_id}/concerns",
        allowed: PAIR,
        body: |_| Body::Json(json!({"text": "Something upset me"})),
    },
    Row {
        method: "GET",
        path: "/messages",
        allowed: PAIR,
        body: none,
    },
    Row {
        method: "GET",
        path: "/messages/{match_id}",
        allowed: &[MentorA, MenteeB, DslA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/messages/{match_id}",
        allowed: PAIR,
        body: |_| Body::Form(vec![("text", "Thanks for today".into())]),
    },
    Row {
        method: "POST",
        path: "/messages/{match_id}/worried",
        allowed: PAIR,
        body: |_| Body::Form(vec![("text", "".into())]),
    },
    Row {
        method: "GET",
        path: "/api/safeguarding/held",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/safeguarding/held/{message_id}",
        allowed: &[DslA],
        body: |_| Body::Json(json!({"decision": "redact"})),
    },
    Row {
        method: "GET",
        path: "/api/safeguarding/concerns",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/safeguarding/concerns/{concern_id}",
        allowed: &[DslA],
        body: |_| Body::Json(json!({"state": "acknowledged"})),
    },
    Row {
        method: "GET",
        path: "/api/safeguarding/messages",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/safeguarding/reads",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/safeguarding/words",
        allowed: RULE_KEEPERS,
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/safeguarding/words",
        allowed: RULE_KEEPERS,
        body: |n| Body::Json(json!({"word": format!("slang{n}")})),
    },
    Row {
        method: "DELETE",
        path: "/api/safeguarding/words/{word}",
        allowed: RULE_KEEPERS,
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/safeguarding/rules",
        allowed: RULE_KEEPERS,
        body: none,
    },
    Row {
        method: "PUT",
        path: "/api/safeguarding/rules",
        allowed: RULE_KEEPERS,
        body: |_| {
            Body::Json(
                json!({"policy": {"swearing": "block", "school_words": "block", "contact": "hold", "meeting": "hold", "secrecy": "hold"}}),
            )
        },
    },
    Row {
        method: "GET",
        path: "/safeguarding",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/safeguarding/held/{message_id}",
        allowed: &[DslA],
        body: |_| Body::Form(vec![("decision", "release".into()), ("note", "".into())]),
    },
    Row {
        method: "POST",
        path: "/safeguarding/concerns/{concern_id}",
        allowed: &[DslA],
        body: |_| {
            Body::Form(vec![
                ("state", "acknowledged".into()),
                ("outcome", "".into()),
            ])
        },
    },
    Row {
        method: "GET",
        path: "/safeguarding/threads/{match_id}",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/sessions/{session_id}/concerns",
        allowed: &[super::TeacherA, DslA, MentorA, CoordB, MenteeB],
        body: |_| Body::Json(json!({"text": "The mentee seemed upset"})),
    },
    Row {
        method: "GET",
        path: "/school/message-rules",
        allowed: RULE_KEEPERS,
        body: none,
    },
    Row {
        method: "POST",
        path: "/school/message-rules",
        allowed: RULE_KEEPERS,
        body: |_| {
            Body::Form(vec![
                ("swearing", "block".into()),
                ("school_words", "block".into()),
                ("contact", "hold".into()),
                ("meeting", "hold".into()),
                ("secrecy", "hold".into()),
                ("hours_from", "07:30".into()),
                ("hours_until", "18:00".into()),
            ])
        },
    },
    Row {
        method: "POST",
        path: "/school/message-rules/words",
        allowed: RULE_KEEPERS,
        body: |n| {
            Body::Form(vec![
                ("word", format!("pageslang{n}")),
                ("action", "add".into()),
            ])
        },
    },
    Row {
        method: "GET",
        path: "/safeguarding/search",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "GET",
        path: "/api/safeguarding/deputies",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/api/safeguarding/deputies",
        allowed: &[DslA],
        body: |_| Body::Json(json!({"user_id": "{fresh_staff}"})),
    },
    Row {
        method: "DELETE",
        path: "/api/safeguarding/deputies/{user_id}",
        allowed: &[DslA],
        body: none,
    },
    Row {
        method: "POST",
        path: "/safeguarding/deputies",
        allowed: &[DslA],
        body: |_| {
            Body::Form(vec![
                ("user_id", "{fresh_staff}".into()),
                ("action", "add".into()),
            ])
        },
    },
    Row {
        method: "POST",
        path: "/sessions/{session_id}/concerns",
        allowed: &[super::TeacherA, DslA, MentorA, CoordB, MenteeB],
        body: |_| Body::Form(vec![("text", "The mentee seemed upset".into())]),
    },
    Row {
        method: "GET",
        path: "/safeguarding/reads",
        allowed: &[DslA],
        body: none,
    },
];
