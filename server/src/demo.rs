//! `mentorbridge demo`: a fresh database with two partner schools in it, so a
//! newcomer can sign in as every role and see the product working; and a
//! third school, in Doha, teaching Sunday to Thursday, in a second
//! partnership of Hillside's with its slots set up.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use mentorbridge_signalling::hub::RoomEvent;
use mentorbridge_signalling::protocol::LeaveReason;
use mentorbridge_signalling::token::CallRole;
use uuid::Uuid;

use crate::auth::Actor;
use crate::booking::Session;
use crate::calendar::PolicyInput;
use crate::calendar::align::Slot;
use crate::calendar::capacity::CapacityInput;
use crate::calendar::store::{declare_capacity, import_bells, import_term_dates, parse_policy};
use crate::error::{Error, Result};
use crate::matching::MatchRecord;
use crate::people::accounts::{ParsedAccount, StaffInput, StudentInput, User};
use crate::people::mentors::{FreePeriod, Level, Offer, ProfileInput, TrainingInput};
use crate::people::partnerships::Partnership;
use crate::people::referrals::{ConsentInput, ReferralInput, ReferralStatus};
use crate::people::schools::{NewSchool, School, SchoolInput};
use crate::store::Store;

// The two schools' numbers are those of a real project's first year (23
// mentors trained, 12 mentees referred, 11 matched), so the demo's report
// reads like the ones schools write.

// The demo schools' calendars: the same kinds of file a coordinator uploads,
// and examples for anyone preparing their own (see `server/demo/`).
const HILLSIDE_TERMS: &str = include_str!("../demo/hillside-terms.csv");
const HILLSIDE_BELLS: &str = include_str!("../demo/hillside-bells.csv");
const COLUMBA_TERMS: &str = include_str!("../demo/st-columbas-terms.ics");
const COLUMBA_BELLS: &str = include_str!("../demo/st-columbas-bells.csv");
const POLICY: &str = include_str!("../demo/policy.toml");
const GULF_TERMS: &str = include_str!("../demo/gulf-crescent-terms.csv");
const GULF_BELLS: &str = include_str!("../demo/gulf-crescent-bells.csv");
const GULF_POLICY: &str = include_str!("../demo/gulf-crescent-policy.toml");
const CAPACITY: &str = include_str!("../demo/capacity.toml");
/// St Columba's new Year 7, imported from the school's roster with no
/// passwords yet: the students page offers their sign-in cards.
const COLUMBA_YEAR_7: &str = include_str!("../demo/st-columbas-year7-roster.csv");

/// Every demo account shares this password, so the sign-in list stays short.
pub const DEMO_PASSWORD: &str = "bridge-demo-2026";

/// How many accounts [`seed`] makes: an administrator, three staff at each
/// of the three schools, Hillside's mentors and St Columba's mentees.
pub const ACCOUNT_COUNT: u64 = (1 + 3 * 3 + HILLSIDE_MENTORS.len() + COLUMBA_MENTEES.len()) as u64;

/// One account a newcomer can sign in as.
#[derive(Clone, Debug)]
pub struct DemoLogin {
    /// What the account is, in words.
    pub who: String,
    pub username: String,
}

struct DemoSchool {
    input: SchoolInput,
    staff: [(&'static str, &'static str, &'static str, &'static str); 3],
    students: &'static [(&'static str, &'static str, &'static str)],
    year_group: i64,
    kind: &'static str,
}

const HILLSIDE_MENTORS: &[(&str, &str, &str)] = &[
    ("Aisha", "Rahman", "Maths,Further Maths"),
    ("Ben", "Clarke", "English,History"),
    ("Chloe", "Nowak", "Biology,Chemistry"),
    ("Dev", "Sharma", "Maths,Physics"),
    ("Ella", "Thompson", "English,Drama"),
    ("Finn", "Gallagher", "Geography,History"),
    ("Grace", "Adeyemi", "French,Spanish"),
    ("Harry", "Wilson", "Computer Science,Maths"),
    ("Isla", "Fraser", "Chemistry,Maths"),
    ("Jamal", "Hussain", "English,Religious Studies"),
    ("Kacper", "Zielinski", "Physics,Maths"),
    ("Leah", "Goldberg", "English,Psychology"),
    ("Mohammed", "Ali", "Biology,Maths"),
    ("Olivia", "Brennan", "History,English"),
    ("Priya", "Kaur", "Science,Chemistry"),
    ("Ravi", "Mistry", "Computer Science,Physics"),
    ("Sophie", "Walker", "French,English"),
    ("Tyler", "Jackson", "Geography,Maths"),
    ("Usman", "Iqbal", "Maths,Economics"),
    ("Yasmin", "Begum", "Spanish,French"),
    ("Zara", "Hollis", "Art,English"),
    ("Oscar", "Lindqvist", "Music,History"),
    ("Maya", "Osei", "Biology,English"),
];

const COLUMBA_MENTEES: &[(&str, &str, &str)] = &[
    ("Aoife", "Murphy", "Maths"),
    ("Cian", "O'Neill", "English"),
    ("Erin", "McCann", "Science"),
    ("Liam", "Quinn", "Maths"),
    ("Niamh", "Doherty", "English,History"),
    ("Oisin", "Kelly", "French"),
    ("Roisin", "Devlin", "Science,Maths"),
    ("Sean", "Hughes", "History"),
    ("Tara", "Boyle", "English"),
    ("Ultan", "Reid", "Computer Science"),
    ("Aaron", "Farrell", "Maths"),
    ("Grainne", "Lynch", "English"),
    ("Padraig", "Moore", "Geography"),
];

fn demo_schools() -> [DemoSchool; 2] {
    [
        DemoSchool {
            input: SchoolInput {
                slug: "hillside".into(),
                name: "Hillside Academy".into(),
                time_zone: "Europe/London".into(),
                country: Some("GB".into()),
                region: Some("GB-ENG".into()),
            },
            staff: [
                ("rpatel", "Rachel", "Patel", "coordinator"),
                ("tokafor", "Tom", "Okafor", "teacher"),
                ("hmarsh", "Helen", "Marsh", "safeguarding_lead"),
            ],
            students: HILLSIDE_MENTORS,
            year_group: 12,
            kind: "mentor",
        },
        DemoSchool {
            input: SchoolInput {
                slug: "st-columbas".into(),
                name: "St Columba's College".into(),
                time_zone: "Europe/London".into(),
                country: Some("GB".into()),
                region: Some("GB-NIR".into()),
            },
            staff: [
                ("cbyrne", "Ciara", "Byrne", "coordinator"),
                ("dwalsh", "Declan", "Walsh", "teacher"),
                ("skelly", "Siobhan", "Kelly", "safeguarding_lead"),
            ],
            students: COLUMBA_MENTEES,
            year_group: 8,
            kind: "mentee",
        },
    ]
}

fn student_username(given: &str, family: &str) -> String {
    let family: String = family.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    format!("{}.{}", given.to_lowercase(), family.to_lowercase())
}

/// Fills an empty database with the demo schools, people and partnership.
/// `progress` is called after each account is made ([`ACCOUNT_COUNT`] in all).
pub async fn seed(store: &Store, mut progress: impl FnMut(&str)) -> Result<Vec<DemoLogin>> {
    if !store.list_schools().await?.is_empty() {
        return Err(Error::conflict(
            "database_url",
            "the demo needs an empty database; this one already has schools in it",
        ));
    }
    let mut logins = vec![seed_admin(store, &mut progress).await?];
    let mut school_ids = Vec::new();
    for demo in demo_schools() {
        let school = store
            .create_school(&NewSchool::parse(&demo.input)?, None)
            .await?;
        school_ids.push(school.id);
        logins.extend(seed_staff(store, &demo, &school, &mut progress).await?);
        logins.extend(seed_students(store, &demo, &school, &mut progress).await?);
    }
    if let [hillside, columba] = school_ids[..] {
        logins.extend(seed_partnership(store, hillside, columba).await?);
        let year_7 = crate::people::rosters::parse_roster_csv(
            "st-columbas-year7-roster.csv",
            COLUMBA_YEAR_7,
        )?;
        crate::people::rosters::import_roster(store, columba, &year_7).await?;
        logins.push(DemoLogin {
            who: "Scheme lead, Riverside Learning Trust (both schools' reports)".into(),
            username: crate::people::groups::seed_demo(store, &[hillside, columba], DEMO_PASSWORD)
                .await?
                .into(),
        });
        // Hillside's coordinator follows changes by one email a day; the
        // supervising teachers get the invites themselves.
        let rpatel = as_user(store, "rpatel").await?;
        store.set_digest(rpatel.user.id, true).await?;
        crate::certificates::demo_certificates(store).await?;
        logins.extend(seed_gulf_crescent(store, hillside, &mut progress).await?);
    }
    Ok(logins)
}

/// Gulf Crescent British School in Doha: it teaches Sunday to Thursday and
/// has proposed a partnership with Hillside, which Hillside accepted; both
/// have set their share of its slots, so its slots page shows its week
/// (Sunday first) and the days both teach. Nobody is matched yet.
async fn seed_gulf_crescent(
    store: &Store,
    hillside: Uuid,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<DemoLogin>> {
    let demo = DemoSchool {
        input: SchoolInput {
            slug: "gulf-crescent".into(),
            name: "Gulf Crescent British School".into(),
            time_zone: "Asia/Qatar".into(),
            country: Some("QA".into()),
            region: None,
        },
        staff: [
            ("nhaddad", "Nadia", "Haddad", "coordinator"),
            ("jmorgan", "James", "Morgan", "teacher"),
            ("lfarouk", "Layla", "Farouk", "safeguarding_lead"),
        ],
        students: &[],
        year_group: 9,
        kind: "mentee",
    };
    let school = store
        .create_school(&NewSchool::parse(&demo.input)?, None)
        .await?;
    let logins = seed_staff(store, &demo, &school, progress).await?;
    let days = crate::calendar::model::TeachingDays::parse("Sun-Thu")
        .map_err(|e| Error::internal(format!("demo teaching days: {e}")))?;
    crate::calendar::store::change_teaching_days(store, school.id, days, false).await?;
    import_term_dates(store, school.id, "gulf-crescent-terms.csv", GULF_TERMS).await?;
    import_bells(
        store,
        school.id,
        "gulf-crescent-bells.csv",
        GULF_BELLS,
        None,
    )
    .await?;
    declare_capacity(
        store,
        school.id,
        &CapacityInput {
            from: None,
            capacity: crate::calendar::capacity::SchoolCapacity {
                devices: 3,
                supervisors: vec!["jmorgan".into()],
                ..Default::default()
            },
        },
    )
    .await?;
    let partnership = store
        .create_accepted_partnership(school.id, hillside)
        .await?;
    let input: PolicyInput = toml::from_str(GULF_POLICY)
        .map_err(|e| Error::internal_from("demo gulf-crescent-policy.toml", e))?;
    let policy = parse_policy(store, &partnership, &input, None).await?;
    store.put_slot_policy(partnership.id, &policy).await?;
    Ok(logins)
}

async fn seed_admin(store: &Store, progress: &mut impl FnMut(&str)) -> Result<DemoLogin> {
    let admin = ParsedAccount::admin("admin", DEMO_PASSWORD, "Platform admin")?
        .hash()
        .await?;
    store.create_user(&admin, None).await?;
    progress("admin");
    Ok(DemoLogin {
        who: "Platform administrator".into(),
        username: "admin".into(),
    })
}

async fn seed_staff(
    store: &Store,
    demo: &DemoSchool,
    school: &School,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<DemoLogin>> {
    let mut logins = Vec::new();
    for (username, given, family, role) in demo.staff {
        let input = StaffInput {
            username: username.into(),
            password: DEMO_PASSWORD.into(),
            given_name: given.into(),
            family_name: family.into(),
            role: role.into(),
            // `.example` is reserved (RFC 2606): demo invites can never
            // reach a real mailbox.
            email: Some(format!("{username}@{}.example", demo.input.slug)),
        };
        let account = ParsedAccount::staff(&input)?;
        let label = account.role().label();
        store
            .create_user(&account.hash().await?, Some(school.id))
            .await?;
        progress(username);
        logins.push(DemoLogin {
            who: format!("{label} at {}", school.name),
            username: username.into(),
        });
    }
    Ok(logins)
}

async fn seed_students(
    store: &Store,
    demo: &DemoSchool,
    school: &School,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<DemoLogin>> {
    let mut logins = Vec::new();
    for (i, (given, family, subjects)) in demo.students.iter().enumerate() {
        let username = student_username(given, family);
        let input = StudentInput {
            username: username.clone(),
            password: DEMO_PASSWORD.into(),
            given_name: (*given).into(),
            family_name: (*family).into(),
            year_group: demo.year_group,
            kind: demo.kind.into(),
            subjects: subjects.split(',').map(str::to_owned).collect(),
        };
        store
            .create_user(
                &ParsedAccount::student(&input)?.hash().await?,
                Some(school.id),
            )
            .await?;
        progress(&username);
        // Two of each are enough to show students' pages.
        if i < 2 {
            logins.push(DemoLogin {
                who: format!("Year {} {} at {}", demo.year_group, demo.kind, school.name),
                username,
            });
        }
    }
    Ok(logins)
}

/// The two schools' partnership: calendars, slot policy, ready mentors,
/// referred mentees, approved matches with their sessions, and the demo
/// call. Returns the logins of the pair in that call.
async fn seed_partnership(store: &Store, hillside: Uuid, columba: Uuid) -> Result<Vec<DemoLogin>> {
    let partnership = store.create_accepted_partnership(hillside, columba).await?;
    for (school, terms_name, terms, bells) in [
        (
            hillside,
            "hillside-terms.csv",
            HILLSIDE_TERMS,
            HILLSIDE_BELLS,
        ),
        (
            columba,
            "st-columbas-terms.ics",
            COLUMBA_TERMS,
            COLUMBA_BELLS,
        ),
    ] {
        import_term_dates(store, school, terms_name, terms).await?;
        import_bells(store, school, "bells.csv", bells, None).await?;
    }
    let capacity: BTreeMap<String, CapacityInput> =
        toml::from_str(CAPACITY).map_err(|e| Error::internal_from("demo capacity.toml", e))?;
    for (slug, input) in &capacity {
        let school = store.school_by_slug(slug).await?;
        declare_capacity(store, school.id, input).await?;
    }
    let input: PolicyInput =
        toml::from_str(POLICY).map_err(|e| Error::internal_from("demo policy.toml", e))?;
    let policy = parse_policy(store, &partnership, &input, None).await?;
    store.put_slot_policy(partnership.id, &policy).await?;
    ready_mentors(store, hillside).await?;
    refer_mentees(store, columba).await?;
    // Both coordinators approve, so the demo has sessions booked and
    // in everyone's calendar; one referral still waits for its
    // countersignature, for a newcomer to approve and match.
    let proposal = store.run_matching(&partnership, None).await?;
    for coordinator in ["rpatel", "cbyrne"] {
        let actor = as_user(store, coordinator).await?;
        store
            .approve_proposal(&partnership, proposal.id, &actor)
            .await?;
    }
    demo_history(store, &partnership).await?;
    let logins = demo_calls(store, &partnership).await?;
    demo_cancellations(store, &partnership).await?;
    Ok(logins)
}

/// How many weeks of sessions the demo has already held.
const HISTORY_WEEKS: i64 = 13;

/// A term of history for every pair: their weekly session for the last
/// [`HISTORY_WEEKS`] weeks (one series each, as the signalling recorded
/// them: most held, a few missed), each mentor's notes, check-ins,
/// action plans with progress, a review, and two programmes that ended
/// this week with their exit check-ins and feedback.
async fn demo_history(store: &Store, partnership: &Partnership) -> Result<()> {
    use crate::record::store::Side;
    let matches = store.partnership_matches(partnership.id).await?;
    let today = Utc::now().date_naive();
    // The last ten days stay clear for the demo call's own sessions.
    let slots = crate::calendar::store::partnership_slots(
        store,
        partnership,
        today - Duration::weeks(HISTORY_WEEKS),
        today - Duration::days(10),
    )
    .await?
    .alignment
    .slots;
    let tokafor = as_user(store, "tokafor").await?;
    let cbyrne = as_user(store, "cbyrne").await?;
    let dwalsh = as_user(store, "dwalsh").await?;
    for (i, record) in matches.iter().enumerate() {
        let weekly: Vec<&Slot> = slots
            .iter()
            .filter(|s| crate::matching::weekly::key_of(s) == record.slot.key)
            .collect();
        let run = store.book_series(record, &weekly).await?;
        for (n, past) in run.booked.iter().enumerate() {
            // Every fifth pair's mentee missed their fourth session.
            let mentee_came = !(n == 3 && i % 5 == 1);
            for event in &past_events(record, past, mentee_came) {
                store.record_room_event(event).await?;
            }
        }
        store.settle_sessions(Utc::now()).await?;
        let mentee = store.user(record.mentee_id).await?;
        let mentor = store.user(record.mentor_id).await?;
        let school = mentee.school_id.unwrap_or_default();
        let identifiers = store.record_identifiers(school).await?;
        // The baseline spreads over 3 to 6; at the exit each identifier
        // has risen by 1 to 3, by how much depending on the pair, so the
        // report's averages differ from one identifier to the next.
        let scores = |exit: bool| -> BTreeMap<String, i64> {
            identifiers
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let k = i64::try_from(k).unwrap_or(0);
                    let n = i64::try_from(i).unwrap_or(0);
                    let baseline = 3 + (k * 3 + n) % 4;
                    let gain = if exit { 1 + (k + 2 * n) % 3 } else { 0 };
                    (id.key.clone(), (baseline + gain).clamp(1, 10))
                })
                .collect()
        };
        let checked = |stage, view, scores, note: &str| {
            crate::record::check_assessment(
                &crate::record::AssessmentInput {
                    stage,
                    view,
                    scores,
                    note: note.into(),
                },
                &identifiers,
            )
        };
        let referral = record.referral_id;
        store
            .save_assessment(
                referral,
                mentee.id,
                &checked(
                    crate::record::Stage::Baseline,
                    crate::record::View::Mentee,
                    scores(false),
                    "",
                )?,
            )
            .await?;
        let subject = mentee.subjects.first().cloned().unwrap_or("school".into());
        let targets = [
            (
                format!("Ask one question in every {subject} lesson"),
                "A tally in my planner, checked at each session",
            ),
            (
                "Hand in every homework on time".to_owned(),
                "Homework planner signed by my form tutor each Friday",
            ),
        ];
        let mut first_target = None;
        for (what, measure) in targets {
            let target = store
                .add_target(
                    referral,
                    mentor.id,
                    Side::Mentor,
                    &crate::record::CheckedTarget {
                        what,
                        measure: measure.into(),
                        by_date: today + Duration::weeks(4),
                        review_date: Some(today + Duration::weeks(2)),
                    },
                )
                .await?;
            store.agree_target(target.id, Side::Mentee).await?;
            first_target.get_or_insert(target);
        }
        for (n, past) in run.booked.iter().enumerate() {
            if store.session(past.id).await?.status != crate::booking::SessionStatus::Completed {
                continue;
            }
            let (did, next) = DEMO_NOTES[(n + i) % DEMO_NOTES.len()];
            store
                .save_session_note(
                    past.id,
                    mentor.id,
                    crate::record::NoteKind::Mentor,
                    &did.replace("{subject}", &subject),
                    next,
                )
                .await?;
            if n % 4 == 1 {
                store
                    .save_session_note(
                        past.id,
                        tokafor.user.id,
                        crate::record::NoteKind::Observer,
                        "Settled quickly and talked easily; good rapport on both sides.",
                        "",
                    )
                    .await?;
            }
            if n == 2
                && let Some(target) = &first_target
            {
                store
                    .add_progress(
                        target.id,
                        mentee.id,
                        Some(past.id),
                        "Asked two questions this week, one in front of the whole class",
                    )
                    .await?;
            }
        }
        match i {
            1 => {
                let review = crate::record::check_review(
                    &crate::record::ReviewInput {
                        decision: Some(crate::record::Decision::Continue),
                        note: format!(
                            "{} attends every week and is more settled in {subject}; keep going to the planned end.",
                            mentee.given_name
                        ),
                        plan_reviewed: true,
                        next_review: Some(today + Duration::weeks(6)),
                        exit_reason: None,
                    },
                    today,
                )?;
                store.add_review(referral, cbyrne.user.id, &review).await?;
            }
            2 | 3 => {
                if let Some(target) = &first_target {
                    let met = store.target(target.id).await?;
                    store
                        .set_outcome(&met, mentor.id, crate::record::Outcome::Met, "")
                        .await?;
                }
                store
                    .save_assessment(
                        referral,
                        mentee.id,
                        &checked(
                            crate::record::Stage::Exit,
                            crate::record::View::Mentee,
                            scores(true),
                            "",
                        )?,
                    )
                    .await?;
                let review = crate::record::check_review(
                    &crate::record::ReviewInput {
                        decision: Some(crate::record::Decision::Close),
                        note: format!(
                            "{} has met the targets set with {}: mentoring closes at the planned length.",
                            mentee.given_name, mentor.given_name
                        ),
                        plan_reviewed: true,
                        next_review: None,
                        exit_reason: Some(crate::record::ExitReason::PlannedLengthEnded),
                    },
                    today,
                )?;
                store.add_review(referral, cbyrne.user.id, &review).await?;
                for (who, from, rating, well) in [
                    (
                        mentee.id,
                        crate::record::FeedbackFrom::Mentee,
                        5,
                        "Having someone older to ask things. I am not scared of fractions now.",
                    ),
                    (
                        mentor.id,
                        crate::record::FeedbackFrom::Mentor,
                        4,
                        "Seeing my mentee grow in confidence week by week.",
                    ),
                    (
                        dwalsh.user.id,
                        crate::record::FeedbackFrom::Teacher,
                        4,
                        "Noticeably more willing to answer in class; homework handed in.",
                    ),
                ] {
                    store
                        .add_feedback(
                            referral,
                            who,
                            from,
                            &crate::record::FeedbackInput {
                                stage: crate::record::FeedbackStage::End,
                                rating: Some(rating),
                                went_well: well.into(),
                                even_better: "Longer sessions, or two a week".into(),
                            },
                        )
                        .await?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// What demo mentors wrote after their sessions, and their next step.
const DEMO_NOTES: &[(&str, &str)] = &[
    (
        "Got to know each other: hobbies, favourite lessons, what is hard about {subject}.",
        "Bring this week's {subject} homework",
    ),
    (
        "Went through the {subject} homework together; talked about the test coming up.",
        "Make a revision card for the test",
    ),
    (
        "Practised asking for help in class with a role play.",
        "Try asking one question in a lesson",
    ),
    (
        "Looked back at the week: two homeworks in on time, one late.",
        "Plan homework nights in the planner",
    ),
    (
        "Talked about friendships at break and how to join in.",
        "Say hello to someone new",
    ),
];

/// Cancellations to undo: the last pair's sessions from five weeks on (for
/// "Book again" on the Sessions page, as after a term-dates file that
/// dropped a term; beyond the page's four weeks, so those stay as they
/// were), and the second pair's next session (for "Restore").
async fn demo_cancellations(store: &Store, partnership: &Partnership) -> Result<()> {
    let matches = store.partnership_matches(partnership.id).await?;
    let now = Utc::now();
    let next_of = |record: &MatchRecord, after: DateTime<Utc>| {
        let id = record.id;
        async move {
            Ok::<_, Error>(
                store
                    .sessions_of_match(id)
                    .await?
                    .into_iter()
                    .find(|s| s.status.is_live() && s.starts_at > after),
            )
        }
    };
    // The first pair is the demo call's; leave it be. Which pairs still
    // have sessions to come depends on the day the demo is made (planned
    // lengths, holidays) and on the order of matches approved in the same
    // instant, so each cancellation goes to the first pair it can apply to
    // rather than to a fixed one.
    let mut restore_pair = None;
    for record in matches.iter().skip(1) {
        if let Some(next) = next_of(record, now).await? {
            restore_pair = Some(record.id);
            store
                .cancel_session(
                    &next,
                    "Cancelled by mistake: restore it from the Sessions page",
                )
                .await?;
            break;
        }
    }
    for record in matches.iter().skip(1).rev() {
        if Some(record.id) == restore_pair {
            continue;
        }
        if let Some(first) = next_of(record, now + Duration::days(35)).await? {
            store
                .cancel_series(
                    &first,
                    "Cancelled by mistake: book the pair again from the Sessions page",
                )
                .await?;
            // A pair whose history already fills its planned weeks has none
            // to book again; the next one is tried.
            let unbooked = store.unbooked_pairs(partnership.id).await?;
            if unbooked.iter().any(|u| u.match_id == record.id) {
                break;
            }
        }
    }
    Ok(())
}

/// For the first pair: a call open now (so a newcomer can join it from two
/// browsers), and two sessions last week with what the signalling
/// recorded: one both came to, one the mentee missed. Returns the pair's
/// logins.
async fn demo_calls(store: &Store, partnership: &Partnership) -> Result<Vec<DemoLogin>> {
    let Some(record) = store
        .partnership_matches(partnership.id)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(Vec::new());
    };
    let today = Utc::now().date_naive();
    let Some(template) = crate::calendar::store::partnership_slots(
        store,
        partnership,
        today,
        today + Duration::days(21),
    )
    .await?
    .alignment
    .slots
    .into_iter()
    .next() else {
        return Ok(Vec::new());
    };
    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|_| Utc::now());
    let start = now + Duration::minutes(5);
    clear_around(store, &record, start).await?;
    store
        .book_session(&record, &slot_at(&template, start))
        .await?;
    for (days, mentee_came) in [(7, true), (6, false)] {
        let past = store
            .book_session(&record, &slot_at(&template, start - Duration::days(days)))
            .await?;
        for event in &past_events(&record, &past, mentee_came) {
            store.record_room_event(event).await?;
        }
    }
    store.settle_sessions(Utc::now()).await?;
    let mentee = store.user(record.mentee_id).await?;
    let mentor = store.user(record.mentor_id).await?;
    demo_thread(store, record.id, &mentor, &mentee).await?;
    Ok(vec![
        DemoLogin {
            who: "mentee in the demo call open now (Join the call on their home page)".into(),
            username: mentee.username,
        },
        DemoLogin {
            who: "mentor in the demo call open now".into(),
            username: mentor.username,
        },
    ])
}

/// The demo pair's thread: a few messages through the real moderation, one
/// held for Hillside's safeguarding lead, and an open concern.
async fn demo_thread(store: &Store, thread: Uuid, mentor: &User, mentee: &User) -> Result<()> {
    use crate::messaging::{NewMessage, Status};
    use crate::safeguarding::moderate::Action;
    let moderator = crate::safeguarding::Moderator::default();
    let lines = [
        (
            mentor,
            "Hi! I'm looking forward to our sessions. What would you like help with?",
            50,
        ),
        (
            mentee,
            "Fractions please, and I'm a bit nervous about my maths test next week",
            40,
        ),
        (
            mentor,
            "That's fine, lots of people are. Bring the worksheet to our call and we'll go through question 4 together",
            30,
        ),
        (
            mentor,
            "add me on snapchat, it's easier to send you the answers there",
            20,
        ),
        (mentee, "Thanks! See you on Monday", 10),
    ];
    for (from, text, minutes_ago) in lines {
        let to = if from.id == mentor.id { mentee } else { mentor };
        let (Some(a), Some(b)) = (from.school_id, to.school_id) else {
            continue;
        };
        let at = Utc::now() - Duration::minutes(minutes_ago);
        let Ok(decision) = moderator.decide(store, text, a, b, at).await? else {
            continue;
        };
        let status = match decision.verdict.action {
            Action::Deliver => Status::Delivered,
            Action::Hold => Status::Held,
            Action::Block => Status::Blocked,
        };
        store
            .post_message(&NewMessage {
                match_id: thread,
                sender_id: from.id,
                session_id: None,
                text: &decision.checked.text,
                status,
                category: decision.verdict.category.map(|c| c.as_str()),
                findings: serde_json::to_string(&decision.checked.findings)
                    .map_err(|e| Error::internal_from("demo findings", e))?,
                sent_at: at,
                visible_at: (status == Status::Delivered).then_some(at),
            })
            .await?;
    }
    store
        .raise_concern(
            mentee.id,
            thread,
            None,
            "Someone in my class keeps sending me mean messages about my mentoring",
        )
        .await?;
    Ok(())
}

/// The slot `template` moved to start at `start`, its local times with it
/// (both demo schools are in London).
fn slot_at(template: &Slot, start: DateTime<Utc>) -> Slot {
    let length = template.end_utc - template.start_utc;
    let mut slot = template.clone();
    slot.start_utc = start;
    slot.end_utc = start + length;
    let local = |t: DateTime<Utc>| t.with_timezone(&chrono_tz::Europe::London);
    for end in slot.schools.values_mut() {
        end.date = local(start).date_naive();
        end.start = local(start).time();
        end.end = local(start + length).time();
    }
    slot
}

/// Makes room for the demo call: a booked session of the pair near `start`
/// moves aside.
async fn clear_around(store: &Store, record: &MatchRecord, start: DateTime<Utc>) -> Result<()> {
    for s in store
        .sessions_of_student(
            record.mentee_id,
            start - Duration::hours(2),
            start + Duration::hours(2),
        )
        .await?
    {
        if s.status.is_live() {
            store
                .cancel_session(&s, "Replaced by the demo call")
                .await?;
        }
    }
    Ok(())
}

/// What the signalling would have recorded of a past session: the mentor
/// there throughout, the mentee too when `mentee_came`.
fn past_events(record: &MatchRecord, past: &Session, mentee_came: bool) -> Vec<RoomEvent> {
    let at = |minutes: i64| past.starts_at + Duration::minutes(minutes);
    let joined = |user, role, minutes| RoomEvent::Joined {
        session: past.id,
        user,
        role,
        at: at(minutes),
    };
    let left = |user| RoomEvent::Left {
        session: past.id,
        user,
        reason: LeaveReason::Left,
        at: at(20),
    };
    let connected = |user| RoomEvent::Media {
        session: past.id,
        user,
        state: "connected".into(),
        at: at(2),
    };
    let mut events = vec![
        joined(record.mentor_id, CallRole::Mentor, -2),
        left(record.mentor_id),
    ];
    if mentee_came {
        events.extend([
            joined(record.mentee_id, CallRole::Mentee, 1),
            connected(record.mentee_id),
            connected(record.mentor_id),
            left(record.mentee_id),
        ]);
    }
    events
}

/// Someone acting in the demo, as if signed in.
async fn as_user(store: &Store, username: &str) -> Result<Actor> {
    let (user, _) = store
        .user_for_sign_in(username)
        .await?
        .ok_or_else(|| Error::internal(format!("demo account {username} is missing")))?;
    Ok(Actor {
        user,
        csrf_token: String::new(),
    })
}

/// Every Hillside mentor offers their subjects, is trained, and all but one
/// are cleared (so the demo shows a mentor still waiting).
async fn ready_mentors(store: &Store, school: Uuid) -> Result<()> {
    let dsl = as_user(store, "hmarsh").await?;
    let trained = NaiveDate::from_ymd_opt(2026, 9, 24).unwrap_or_default();
    for (i, mentor) in store.mentor_profiles(school).await?.into_iter().enumerate() {
        let user = store.user(mentor.user_id).await?;
        let offers = user
            .subjects
            .iter()
            .map(|s| Offer {
                subject: s.clone(),
                level: if i % 3 == 0 {
                    Level::ALevel
                } else {
                    Level::Gcse
                },
            })
            .collect();
        let free = ["Mon", "Wed"]
            .iter()
            .map(|d| FreePeriod {
                week: "A".into(),
                day: (*d).into(),
                period: "TUT".into(),
            })
            .chain(["Tue", "Thu"].iter().map(|d| FreePeriod {
                week: "B".into(),
                day: (*d).into(),
                period: "TUT".into(),
            }))
            .collect();
        let input = ProfileInput {
            offers,
            capacity: if i % 2 == 0 { 2 } else { 1 },
            free_periods: free,
        };
        store.set_mentor_profile(user.id, &input).await?;
        store
            .record_training(
                user.id,
                &TrainingInput {
                    course: "Peer mentoring: listening and safeguarding".into(),
                    date: trained,
                },
            )
            .await?;
        if i + 1 != HILLSIDE_MENTORS.len() {
            store.clear_mentor(user.id, &dsl).await?;
        }
    }
    Ok(())
}

/// St Columba's refers its mentees: most approved, one still waiting for a
/// countersignature, one a draft.
async fn refer_mentees(store: &Store, school: Uuid) -> Result<()> {
    let teacher = as_user(store, "dwalsh").await?;
    let coordinator = as_user(store, "cbyrne").await?;
    let consent_date = NaiveDate::from_ymd_opt(2026, 10, 12).unwrap_or_default();
    let mentees: Vec<_> = store
        .users_at_school(school, &[crate::people::accounts::Role::Student])
        .await?
        .into_iter()
        .filter(|u| u.kind == Some(crate::people::accounts::StudentKind::Mentee))
        .collect();
    for (i, mentee) in mentees.iter().enumerate() {
        let input = ReferralInput {
            mentee_id: mentee.id,
            priority: u8::try_from(3 - i % 3).unwrap_or(2),
            strengths: "Kind to others; works hard when encouraged".into(),
            concerns: vec![["confidence", "reading", "organisation", "exam anxiety"][i % 4].into()],
            reasons: format!(
                "{} has lost confidence in {} since moving up to Year 8",
                mentee.given_name,
                mentee.subjects.join(" and ")
            ),
            focus: mentee.subjects.clone(),
            support_received: "Form tutor check-ins".into(),
            strategies_tried: "Homework club".into(),
            agencies: String::new(),
            consent: Some(ConsentInput {
                given_by: format!("Parent of {}", mentee.given_name),
                date: consent_date,
            }),
            entry_criteria_met: true,
            planned_weeks: if i % 2 == 0 { 12 } else { 6 },
            review_date: NaiveDate::from_ymd_opt(2027, 2, 1),
            // One mentee has a music lesson in Tuesday form time, which
            // the optimiser keeps clear.
            unavailable: if i == 3 {
                vec![crate::people::referrals::Unavailable {
                    week: None,
                    day: "Tue".into(),
                    period: Some("FORM".into()),
                }]
            } else {
                Vec::new()
            },
            // Another is calmer at the end of the week.
            preferred_days: if i == 5 {
                vec!["Thu".into(), "Fri".into()]
            } else {
                Vec::new()
            },
        };
        let referral = store.create_referral(school, &teacher, &input).await?;
        if i + 1 == COLUMBA_MENTEES.len() {
            continue;
        }
        let referral = store
            .set_referral_status(&referral, &teacher, ReferralStatus::Submitted, None)
            .await?;
        if i + 2 != COLUMBA_MENTEES.len() {
            store
                .set_referral_status(&referral, &coordinator, ReferralStatus::Approved, None)
                .await?;
        }
    }
    Ok(())
}
