//! Dated slots grouped into the weekly slots a series can be booked in:
//! the same cycle week, weekday and period at each end.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

use super::{WeeklyEnd, WeeklySlot};
use crate::calendar::align::Slot;

fn day_name(date: NaiveDate) -> &'static str {
    match date.weekday() {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

/// The weekly slot a dated slot belongs to: both ends' week, weekday and
/// period ("hillside:A-Mon-TUT|st-columbas:A-Mon-FORM").
pub fn key_of(slot: &Slot) -> String {
    slot.schools
        .iter()
        .map(|(slug, e)| format!("{slug}:{}-{}-{}", e.week, day_name(e.date), e.period))
        .collect::<Vec<_>>()
        .join("|")
}

/// Groups dated slots into weekly slots, keeping those that happen at
/// least twice (a line-up that occurs once, e.g. in the weeks two countries
/// change their clocks on different dates, is no basis for a series).
pub fn weekly_slots(slots: &[Slot]) -> Vec<WeeklySlot> {
    let mut by_key: BTreeMap<String, WeeklySlot> = BTreeMap::new();
    for slot in slots {
        let ends: BTreeMap<String, WeeklyEnd> = slot
            .schools
            .iter()
            .map(|(slug, e)| {
                (
                    slug.clone(),
                    WeeklyEnd {
                        week: e.week.clone(),
                        day: day_name(e.date).to_owned(),
                        period: e.period.clone(),
                        kind: e.kind,
                        devices: e.devices,
                        supervision: e.supervision,
                        in_use: 0,
                        start: e.start,
                        end: e.end,
                    },
                )
            })
            .collect();
        let key = key_of(slot);
        // A pair needs an iPad and a place with a supervisor at each end.
        let devices = slot
            .schools
            .values()
            .map(|e| e.devices.min(e.supervision))
            .min()
            .unwrap_or(0);
        let date = slot.schools.values().map(|e| e.date).min();
        by_key
            .entry(key.clone())
            .and_modify(|w| {
                w.occurrences += 1;
                w.devices = w.devices.min(devices);
            })
            .or_insert_with(|| WeeklySlot {
                key,
                ends,
                devices,
                in_use: 0,
                occurrences: 1,
                first_date: date.unwrap_or_default(),
            });
    }
    let mut weekly: Vec<WeeklySlot> = by_key
        .into_values()
        .filter(|w| w.occurrences >= 2)
        .collect();
    weekly.sort_by(|a, b| (a.first_date, &a.key).cmp(&(b.first_date, &b.key)));
    weekly
}
