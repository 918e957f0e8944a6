//! The report's charts, drawn on the server as SVG with `plotters`, so the
//! page needs no script (the Content-Security-Policy allows none inline)
//! and prints as it shows.
//!
//! Each chart is a plain picture of a table the page prints beside it: the
//! table is what a screen reader and the CSV get, so the SVG is marked
//! decorative by the page. Charts are drawn 720 units wide and scale to
//! their box (the stylesheet sets `width: 100%`), which reads at arm's
//! length on an iPad either way up; bars are labelled with their values,
//! so no axis has to be read, and colours are told apart by label too.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

const WIDTH: u32 = 720;
/// Room for the bars' names, at the left.
const LABEL_WIDTH: i32 = 250;
/// Room for each bar's value, at the right.
const VALUE_WIDTH: i32 = 90;
const ROW: i32 = 46;
const BAR: i32 = 30;

/// Colours with at least 4.5:1 contrast on white, and distinct in grey.
pub const TEAL: RGBColor = RGBColor(15, 118, 110);
pub const AMBER: RGBColor = RGBColor(180, 83, 9);
pub const SLATE: RGBColor = RGBColor(100, 116, 139);
pub const BLUE: RGBColor = RGBColor(29, 78, 216);
const INK: RGBColor = RGBColor(17, 24, 39);
const LIGHT: RGBColor = RGBColor(203, 213, 225);

/// One bar: its name, its length (in the chart's unit), the value written
/// beside it, and its colour.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
    pub colour: RGBColor,
}

impl Bar {
    pub fn count(label: &str, value: i64, colour: RGBColor) -> Bar {
        Bar {
            label: label.to_owned(),
            value: value as f64,
            shown: value.to_string(),
            colour,
        }
    }
}

fn drawing_failed(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("drawing a chart: {e}"))
}

fn label_style(size: i32, colour: RGBColor, h: HPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&colour)
        .pos(Pos::new(h, VPos::Center))
}

/// Horizontal bars, one a row, against the largest of them (or `max`).
pub fn bars(rows: &[Bar], max: Option<f64>) -> Result<String> {
    let height = (rows.len().max(1) as i32 * ROW + 16) as u32;
    let top = rows.iter().map(|b| b.value).fold(0.0, f64::max);
    let scale = max.unwrap_or(top).max(1e-9);
    let span = WIDTH as i32 - LABEL_WIDTH - VALUE_WIDTH;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_failed)?;
        for (i, bar) in rows.iter().enumerate() {
            let y = 8 + i as i32 * ROW;
            let mid = y + ROW / 2;
            root.draw(&Text::new(
                bar.label.clone(),
                (LABEL_WIDTH - 12, mid),
                label_style(22, INK, HPos::Right),
            ))
            .map_err(drawing_failed)?;
            let length = ((bar.value / scale) * f64::from(span)).round() as i32;
            let y0 = mid - BAR / 2;
            // A zero still shows where its bar would start.
            root.draw(&Rectangle::new(
                [(LABEL_WIDTH, y0), (LABEL_WIDTH + 2, y0 + BAR)],
                LIGHT.filled(),
            ))
            .map_err(drawing_failed)?;
            if length > 0 {
                root.draw(&Rectangle::new(
                    [(LABEL_WIDTH, y0), (LABEL_WIDTH + length, y0 + BAR)],
                    bar.colour.filled(),
                ))
                .map_err(drawing_failed)?;
            }
            root.draw(&Text::new(
                bar.shown.clone(),
                (LABEL_WIDTH + length.max(2) + 10, mid),
                label_style(22, INK, HPos::Left),
            ))
            .map_err(drawing_failed)?;
        }
        root.present().map_err(drawing_failed)?;
    }
    Ok(svg)
}

/// Two bars per row (a baseline and an exit score out of 10), with a key.
pub fn paired(rows: &[(String, f64, f64)], first: &str, second: &str) -> Result<String> {
    const PAIR: i32 = 64;
    const KEY: i32 = 40;
    let height = (rows.len().max(1) as i32 * PAIR + KEY + 12) as u32;
    let span = WIDTH as i32 - LABEL_WIDTH - VALUE_WIDTH;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_failed)?;
        // The key.
        for (n, (name, colour)) in [(first, SLATE), (second, TEAL)].into_iter().enumerate() {
            let x = LABEL_WIDTH + n as i32 * 180;
            root.draw(&Rectangle::new([(x, 10), (x + 22, 32)], colour.filled()))
                .map_err(drawing_failed)?;
            root.draw(&Text::new(
                name.to_owned(),
                (x + 30, 21),
                label_style(20, INK, HPos::Left),
            ))
            .map_err(drawing_failed)?;
        }
        for (i, (label, a, b)) in rows.iter().enumerate() {
            let y = KEY + 6 + i as i32 * PAIR;
            root.draw(&Text::new(
                label.clone(),
                (LABEL_WIDTH - 12, y + PAIR / 2 - 4),
                label_style(22, INK, HPos::Right),
            ))
            .map_err(drawing_failed)?;
            for (n, (value, colour)) in [(*a, SLATE), (*b, TEAL)].into_iter().enumerate() {
                let y0 = y + n as i32 * 26;
                let length = ((value / 10.0) * f64::from(span)).round() as i32;
                root.draw(&Rectangle::new(
                    [(LABEL_WIDTH, y0), (LABEL_WIDTH + length.max(2), y0 + 22)],
                    colour.filled(),
                ))
                .map_err(drawing_failed)?;
                root.draw(&Text::new(
                    format!("{value:.1}"),
                    (LABEL_WIDTH + length.max(2) + 10, y0 + 11),
                    label_style(20, INK, HPos::Left),
                ))
                .map_err(drawing_failed)?;
            }
        }
        root.present().map_err(drawing_failed)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_chart_is_svg_that_scales_and_escapes_its_labels() {
        let svg = bars(
            &[
                Bar::count("Delivered", 40, TEAL),
                Bar::count("<script>", 0, AMBER),
            ],
            None,
        )
        .unwrap();
        assert!(svg.contains("viewBox=\"0 0 720"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        // Presentation attributes only: the CSP refuses inline styles.
        assert!(!svg.contains("style="));
        // Each bar's name and value are text the page can be read by.
        assert_eq!(svg.matches("<text").count(), 4);
        assert!(svg.contains("Delivered"));
    }

    #[test]
    fn paired_bars_show_both_values_and_a_key() {
        let svg = paired(&[("Confidence".into(), 4.0, 7.5)], "Baseline", "Exit").unwrap();
        for text in ["Confidence", "4.0", "7.5", "Baseline", "Exit"] {
            assert!(svg.contains(text), "{text}");
        }
    }
}
