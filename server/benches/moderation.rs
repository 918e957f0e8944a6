//! How long the moderation pipeline takes on realistic 80-character
//! messages, checked against a 500-entry school list; and, outside
//! criterion, the 99th percentile of single messages and the messages per
//! second one core checks.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use mentorbridge::safeguarding::moderate::{WordList, check};

/// Messages as students write them: mostly ordinary, some to be stopped,
/// each padded or cut to 80 characters.
fn messages() -> Vec<String> {
    let seeds = [
        "Hi! I finished the worksheet on fractions, can we go over question 4 next time?",
        "I'm nervous about my mock exams in January, especially the algebra paper tbh",
        "Thanks for the tips on revision, I made flashcards like you said and it helped",
        "My football team won 3-1 on Saturday, I scored the second goal in the 70th min",
        "Can you explain x^2 + 5x + 6 = 0 again? I keep getting the factors the wrong way",
        "text me on 07700 900123 after school yeah, it's easier than on here honestly",
        "we should meet up at the park on saturday, don't tell your teacher about it ok",
        "add me on snapchat, my username is coolkid_2011, or insta if that's better lol",
        "I read chapter 12 of Holes last night, Stanley is so unlucky but I like Zero",
        "ugh this is sh1t, my sister is so annoying, she took my charger again today!!",
    ];
    seeds
        .iter()
        .map(|s| {
            let mut s = s.to_string();
            while s.chars().count() < 80 {
                s.push_str(" ok");
            }
            s.chars().take(80).collect()
        })
        .collect()
}

/// A school list of 500 made-up slang words and phrases.
fn school_list() -> WordList {
    let words = (0..500)
        .map(|i| {
            let stem = ["zorb", "krell", "vantic", "drubble", "skeng", "plimf"][i % 6];
            if i % 5 == 0 {
                format!("{stem} {i} gang")
            } else {
                format!("{stem}{i}")
            }
        })
        .collect();
    WordList::new(words)
}

fn bench(c: &mut Criterion) {
    let messages = messages();
    let both = WordList::joined(&school_list(), &school_list());
    c.bench_function(
        "moderate one 80-character message, 500-entry school list",
        |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % messages.len();
                black_box(check(black_box(&messages[i]), &both).unwrap())
            })
        },
    );

    // The tail criterion does not report: time each message alone.
    let mut times: Vec<u128> = Vec::with_capacity(20_000);
    let started = Instant::now();
    for i in 0..20_000 {
        let t = Instant::now();
        black_box(check(&messages[i % messages.len()], &both).unwrap());
        times.push(t.elapsed().as_nanos());
    }
    let total = started.elapsed();
    times.sort_unstable();
    let p =
        |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)] as f64 / 1000.0;
    println!(
        "moderation: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs; {:.0} messages per second on one core",
        p(0.50),
        p(0.99),
        p(1.0),
        20_000.0 / total.as_secs_f64()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
