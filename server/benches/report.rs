//! How long a report takes for a local authority's scheme: 50 schools in
//! 25 partnerships, 2,000 mentoring pairs over a school year (about 30
//! weekly sessions each, 60,000 sessions), each pair's programme with
//! baseline and exit assessments of ten identifiers, three targets and
//! three feedback forms. The target is 200 ms for the group's whole report
//! (scope, every figure, by term and by school) on SQLite, the embedded
//! default.
//!
//! The rows are written straight into the tables, as no route makes a
//! year of history in seconds; the report reads them through the same
//! store functions the app uses.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use mentorbridge::reports::{DateRange, Scope, build};
use mentorbridge::store::Store;
use sqlx::SqlitePool;
use uuid::Uuid;

const SCHOOLS: usize = 50;
const PAIRS: usize = 2_000;
const WEEKS: i64 = 30;
const IDENTIFIERS: [&str; 10] = [
    "attendance",
    "punctuality",
    "happiness",
    "calm",
    "presentation",
    "friendships",
    "attitude",
    "homework",
    "cooperation",
    "behaviour",
];

async fn exec<'a>(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    q: sqlx::query::Query<'a, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'a>>,
) {
    q.execute(&mut **tx).await.unwrap();
}

/// A group of `SCHOOLS` schools, all agreed, with a year of mentoring.
async fn scheme(pool: &SqlitePool) -> Uuid {
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 9, 14, 7, 40, 0).unwrap();
    let now = start;
    let mut tx = pool.begin().await.unwrap();
    let group = Uuid::new_v4();
    exec(
        &mut tx,
        sqlx::query(
            "INSERT INTO school_groups (id, name, created_at) VALUES ($1, 'Northshire', $2)",
        )
        .bind(group)
        .bind(now),
    )
    .await;
    let mut schools = Vec::new();
    for n in 0..SCHOOLS {
        let id = Uuid::new_v4();
        schools.push(id);
        exec(&mut tx, sqlx::query("INSERT INTO schools (id, slug, name, time_zone, country, created_at) VALUES ($1, $2, $3, 'Europe/London', 'GB', $4)")
            .bind(id).bind(format!("school-{n:02}")).bind(format!("School {n:02}")).bind(now)).await;
        exec(&mut tx, sqlx::query("INSERT INTO school_group_members (group_id, school_id, invited_at, agreed_at) VALUES ($1, $2, $3, $3)")
            .bind(group).bind(id).bind(now)).await;
        for (label, from, to) in [
            ("Autumn", "2026-09-03", "2026-12-18"),
            ("Spring", "2027-01-05", "2027-03-26"),
            ("Summer", "2027-04-12", "2027-07-21"),
        ] {
            exec(&mut tx, sqlx::query("INSERT INTO calendar_entries (id, school_id, start_date, end_date, kind, label) VALUES ($1, $2, $3, $4, 'term', $5)")
                .bind(Uuid::new_v4()).bind(id).bind(from).bind(to).bind(label)).await;
        }
    }
    let staff: Vec<Uuid> = (0..SCHOOLS).map(|_| Uuid::new_v4()).collect();
    for (n, (school, user)) in schools.iter().zip(&staff).enumerate() {
        exec(&mut tx, sqlx::query("INSERT INTO users (id, school_id, username, password_hash, role, given_name, family_name, created_at) VALUES ($1, $2, $3, '!', 'coordinator', 'C', 'D', $4)")
            .bind(user).bind(school).bind(format!("coord{n}")).bind(now)).await;
    }
    // Partnerships: school 2k mentors school 2k+1's pupils.
    let per = PAIRS / (SCHOOLS / 2);
    let mut pair = 0usize;
    for k in 0..SCHOOLS / 2 {
        let (mentor_school, mentee_school) = (schools[2 * k], schools[2 * k + 1]);
        let (low, high) = if mentor_school < mentee_school {
            (mentor_school, mentee_school)
        } else {
            (mentee_school, mentor_school)
        };
        let partnership = Uuid::new_v4();
        exec(&mut tx, sqlx::query("INSERT INTO partnerships (id, school_low, school_high, proposed_by_school, status, created_at, accepted_at) VALUES ($1, $2, $3, $2, 'accepted', $4, $4)")
            .bind(partnership).bind(low).bind(high).bind(now)).await;
        let proposal = Uuid::new_v4();
        exec(&mut tx, sqlx::query("INSERT INTO match_proposals (id, partnership_id, status, created_at, body) VALUES ($1, $2, 'approved', $3, '{}')")
            .bind(proposal).bind(partnership).bind(now)).await;
        for _ in 0..per {
            let (mentor, mentee, referral, matched) = (
                Uuid::new_v4(),
                Uuid::new_v4(),
                Uuid::new_v4(),
                Uuid::new_v4(),
            );
            exec(&mut tx, sqlx::query("INSERT INTO users (id, school_id, username, password_hash, role, given_name, family_name, year_group, student_kind, created_at) VALUES ($1, $2, $3, '!', 'student', 'M', 'N', 12, 'mentor', $4)")
                .bind(mentor).bind(mentor_school).bind(format!("mentor{pair}")).bind(now - Duration::days(30))).await;
            exec(&mut tx, sqlx::query("INSERT INTO users (id, school_id, username, password_hash, role, given_name, family_name, year_group, student_kind, created_at) VALUES ($1, $2, $3, '!', 'student', 'M', 'N', 8, 'mentee', $4)")
                .bind(mentee).bind(mentee_school).bind(format!("mentee{pair}")).bind(now - Duration::days(30))).await;
            exec(&mut tx, sqlx::query("INSERT INTO mentor_profiles (user_id, offers, capacity, free_periods, training_course, training_date, cleared_by, cleared_at, updated_at) VALUES ($1, '[]', 1, '[]', 'Peer mentoring', '2026-09-05', $2, $3, $3)")
                .bind(mentor).bind(staff[2 * k]).bind(now - Duration::days(5))).await;
            exec(&mut tx, sqlx::query("INSERT INTO referrals (id, school_id, mentee_id, referred_by, countersigned_by, status, priority, strengths, concerns, reasons, focus, support_received, strategies_tried, agencies, entry_criteria_met, planned_weeks, created_at, updated_at) VALUES ($1, $2, $3, $4, $4, 'active', 2, '', '', 'r', 'Maths', '', '', '', TRUE, 30, $5, $5)")
                .bind(referral).bind(mentee_school).bind(mentee).bind(staff[2 * k + 1]).bind(now - Duration::days(7))).await;
            exec(&mut tx, sqlx::query("INSERT INTO matches (id, partnership_id, referral_id, mentee_id, mentor_id, slot_key, mentor_period, slot, proposal_id, status, approved_at) VALUES ($1, $2, $3, $4, $5, 'k', $6, '{}', $7, 'approved', $8)")
                .bind(matched).bind(partnership).bind(referral).bind(mentee).bind(mentor).bind(format!("p{pair}")).bind(proposal).bind(now - Duration::days(2))).await;
            for week in 0..WEEKS {
                let starts = start + Duration::weeks(week) + Duration::minutes((pair % 5) as i64);
                let (status, reason) = match (pair as i64 + week) % 10 {
                    0 => ("missed", None),
                    1 => (
                        "cancelled",
                        Some(if week % 2 == 0 {
                            "School trip"
                        } else {
                            "Exams"
                        }),
                    ),
                    _ if week >= 27 => ("scheduled", None),
                    _ => ("completed", None),
                };
                exec(&mut tx, sqlx::query("INSERT INTO mentoring_sessions (id, match_id, partnership_id, mentee_id, mentor_id, uid, starts_at, ends_at, slot_key, local, status, reason, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'k', '{}', $9, $10, $11, $11)")
                    .bind(Uuid::new_v4()).bind(matched).bind(partnership).bind(mentee).bind(mentor).bind(format!("{pair}-{week}@bench")).bind(starts).bind(starts + Duration::minutes(20)).bind(status).bind(reason).bind(now)).await;
            }
            for (stage, at, base) in [
                ("baseline", start + Duration::weeks(1), 4),
                ("exit", start + Duration::weeks(28), 6),
            ] {
                let assessment = Uuid::new_v4();
                exec(&mut tx, sqlx::query("INSERT INTO record_assessments (id, referral_id, stage, view, by_user, note, at) VALUES ($1, $2, $3, 'mentee', $4, '', $5)")
                    .bind(assessment).bind(referral).bind(stage).bind(mentee).bind(at)).await;
                for (position, key) in IDENTIFIERS.iter().enumerate() {
                    exec(&mut tx, sqlx::query("INSERT INTO record_scores (assessment_id, identifier, label, position, score) VALUES ($1, $2, $2, $3, $4)")
                        .bind(assessment).bind(*key).bind(position as i32).bind(base + ((pair + position) % 4) as i32)).await;
                }
            }
            for (t, outcome) in [Some("met"), Some("partly_met"), None]
                .into_iter()
                .enumerate()
            {
                exec(&mut tx, sqlx::query("INSERT INTO record_targets (id, referral_id, what, measure, by_date, set_by, set_at, outcome, outcome_by, outcome_at) VALUES ($1, $2, $3, 'm', '2027-03-01', $4, $5, $6, $4, $7)")
                    .bind(Uuid::new_v4()).bind(referral).bind(format!("Target {t}")).bind(mentor).bind(start + Duration::weeks(2)).bind(outcome).bind(outcome.map(|_| start + Duration::weeks(20)))).await;
            }
            for (role, by, rating) in [
                ("mentee", mentee, 5),
                ("mentor", mentor, 4),
                ("teacher", staff[2 * k + 1], 4),
            ] {
                exec(&mut tx, sqlx::query("INSERT INTO record_feedback (id, referral_id, from_role, stage, by_user, rating, went_well, at) VALUES ($1, $2, $3, 'end', $4, $5, 'w', $6)")
                    .bind(Uuid::new_v4()).bind(referral).bind(role).bind(by).bind(rating).bind(start + Duration::weeks(29))).await;
            }
            pair += 1;
        }
    }
    tx.commit().await.unwrap();
    group
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let (store, group) = runtime.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let Store::Sqlite(pool) = &store else {
            unreachable!("a sqlite: URL")
        };
        let seeded = Instant::now();
        let group = scheme(pool).await;
        eprintln!(
            "seeded {PAIRS} pairs at {SCHOOLS} schools in {:?}",
            seeded.elapsed()
        );
        (store, group)
    });
    let year = DateRange {
        from: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2027, 8, 31).unwrap(),
    };
    let report = runtime.block_on(async {
        let scope = Scope::of_group(&store, group).await.unwrap();
        build(&store, &scope, year).await.unwrap()
    });
    eprintln!("{}", report.headline());
    assert_eq!(report.mentees.matched, PAIRS as i64);
    assert_eq!(report.sessions.booked, PAIRS as i64 * WEEKS);
    assert_eq!(report.by_school.len(), SCHOOLS);
    c.bench_function(
        "group report: 50 schools, 2,000 pairs, a school year",
        |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let scope = Scope::of_group(&store, group).await.unwrap();
                    build(&store, &scope, year).await.unwrap()
                })
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
