//! How long a mentor's certificate takes: the figures of a school year of
//! weekly delivered sessions (36, half terms skipped), then the one-page
//! PDF with both fonts subset and embedded. The database reads before it
//! are a handful of indexed queries, measured by the API tests' timings,
//! not here.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{Days, NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use mentorbridge::calendar::model::PeriodKind;
use mentorbridge::certificates::{
    Certificate, DeliveredSession, Printed, Signer, VerificationCode, figures, pdf,
};

fn year_of_sessions() -> Vec<DeliveredSession> {
    let first = NaiveDate::from_ymd_opt(2026, 9, 7).unwrap();
    (0..39)
        // Half terms and Christmas.
        .filter(|w| ![7, 15, 16].contains(w))
        .map(|w| DeliveredSession {
            date: first + Days::new(7 * w),
            minutes: 20,
            kind: Some(PeriodKind::Registration),
        })
        .collect()
}

fn certificate(sessions: &[DeliveredSession]) -> Certificate {
    let f = figures(sessions).unwrap();
    Certificate {
        id: uuid::Uuid::new_v4(),
        code: VerificationCode::generate(),
        mentor_id: uuid::Uuid::new_v4(),
        school_id: uuid::Uuid::new_v4(),
        signed_by: uuid::Uuid::new_v4(),
        issued_at: Utc::now(),
        printed: Printed {
            mentor: "Aoife Ní Bhriain-Łukasiewicz".into(),
            school: "Hillside Academy".into(),
            partner_schools: vec!["St Columba's College".into()],
            first_date: f.first_date,
            last_date: f.last_date,
            sessions: f.sessions,
            minutes: f.minutes,
            mentees: 2,
            supported: vec!["Maths".into(), "English poetry".into(), "Confidence".into()],
            frequency: f.frequency,
            activity: "Volunteer peer mentor: one-to-one video sessions on school iPads, mentoring \
                       2 younger students at St Columba's College, timetabled in the school day and \
                       supervised by teachers at both schools."
                .into(),
            signer: Signer {
                name: "Rachel Patel".into(),
                role: "Coordinator".into(),
                school: "Hillside Academy".into(),
                email: "rpatel@hillside.example".into(),
            },
            signed_on: Utc::now().date_naive(),
        },
    }
}

fn bench(c: &mut Criterion) {
    let sessions = year_of_sessions();
    let base = "https://mentoring.example.sch.uk";
    let first = pdf::render(&certificate(&sessions), base).unwrap();
    eprintln!("certificate PDF: {} bytes", first.len());
    c.bench_function("certificate: a year's figures and the PDF", |b| {
        b.iter(|| {
            let certificate = certificate(black_box(&sessions));
            black_box(pdf::render(&certificate, base).unwrap())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
