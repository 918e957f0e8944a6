//! The moderation corpus (`corpus.txt`): every stop case must be stopped
//! under the default policy, and no clean case. Prints recall and the
//! false-stop rate, the figures in `BENCHMARKS.md`.

use mentorbridge::safeguarding::moderate::{Action, Category, Policy, WordList, check};

struct Case {
    line: usize,
    expect: Option<Category>,
    text: String,
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\\u{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').expect("a closing brace") + at;
        let code = u32::from_str_radix(&rest[at + 3..end], 16).expect("hex");
        out.push(char::from_u32(code).expect("a character"));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn corpus() -> Vec<Case> {
    include_str!("corpus.txt")
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let (head, text) = l
                .split_once(" | ")
                .unwrap_or_else(|| panic!("line {}: no ` | `", i + 1));
            let expect = match head.split_whitespace().collect::<Vec<_>>()[..] {
                ["clean"] => None,
                ["stop", category] => Some(
                    category
                        .parse()
                        .unwrap_or_else(|e| panic!("line {}: {e}", i + 1)),
                ),
                _ => panic!(
                    "line {}: `{head}` is neither `clean` nor `stop <category>`",
                    i + 1
                ),
            };
            Case {
                line: i + 1,
                expect,
                text: unescape(text),
            }
        })
        .collect()
}

#[test]
fn the_corpus_is_stopped_and_clean_talk_is_not() {
    let cases = corpus();
    assert!(cases.len() >= 150, "the corpus has {} cases", cases.len());
    let policy = Policy::default();
    let (mut stops, mut stopped, mut cleans, mut false_stops) = (0, 0, 0, 0);
    let mut report = Vec::new();
    for case in &cases {
        let checked = check(&case.text, &WordList::default()).expect("sendable");
        let verdict = checked.verdict(&policy);
        let categories: Vec<Category> = checked.findings.iter().map(|f| f.category).collect();
        match case.expect {
            Some(category) => {
                stops += 1;
                if verdict.action != Action::Deliver && categories.contains(&category) {
                    stopped += 1;
                } else {
                    report.push(format!(
                        "line {}: not stopped as {category}: {:?} ({categories:?})",
                        case.line, case.text
                    ));
                }
            }
            None => {
                cleans += 1;
                if verdict.action != Action::Deliver {
                    false_stops += 1;
                    let parts: Vec<&str> = checked
                        .findings
                        .iter()
                        .map(|f| &checked.text[f.range()])
                        .collect();
                    report.push(format!(
                        "line {}: clean but stopped: {:?} ({categories:?} at {parts:?})",
                        case.line, case.text
                    ));
                }
            }
        }
    }
    let recall = 100.0 * f64::from(stopped) / f64::from(stops);
    let false_rate = 100.0 * f64::from(false_stops) / f64::from(cleans);
    println!(
        "moderation corpus: {stopped}/{stops} stop cases stopped ({recall:.1} %), {false_stops}/{cleans} clean cases stopped ({false_rate:.1} %)"
    );
    for line in &report {
        println!("  {line}");
    }
    assert!(
        recall >= 95.0,
        "recall {recall:.1} % is under 95 %:\n{}",
        report.join("\n")
    );
    assert_eq!(
        false_stops,
        0,
        "clean messages were stopped:\n{}",
        report.join("\n")
    );
}
