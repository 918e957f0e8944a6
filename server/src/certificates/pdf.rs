//! A certificate as a one-page A4 PDF, drawn with krilla from what was
//! printed ([`Printed`]), so the same certificate always draws the same.
//!
//! The fonts are DejaVu Sans and DejaVu Sans Bold (`web/fonts/`, with their
//! licence), compiled into the binary and embedded in every PDF as subsets
//! of the glyphs used: the PDF looks the same on every reader, and any
//! name a school's roster holds (accents, Welsh, Polish, Turkish) prints.
//! Lines are broken by measuring each word with the font's own advance
//! widths (skrifa, the font reader krilla itself uses).
//!
//! The page reads top to bottom as an assessor wants it: who, what, how
//! much and how often, when, who vouches for it and how to reach them, and
//! how to check it (the code, and the verification address as a link).

use std::sync::{Arc, LazyLock};

use krilla::Document;
use krilla::action::LinkAction;
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

use super::{Certificate, Printed};
use crate::error::{Error, Result};

const REGULAR: &[u8] = include_bytes!("../../../web/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../web/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 60.0;
/// Where the values of the figures' table start.
const VALUE_X: f32 = MARGIN + 150.0;

/// The two faces, read once per process.
struct Face {
    font: Font,
    data: &'static [u8],
}

static FACES: LazyLock<Option<(Face, Face)>> = LazyLock::new(|| {
    let face = |data: &'static [u8]| {
        let shared: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(data);
        Font::new(shared.into(), 0).map(|font| Face { font, data })
    };
    Some((face(REGULAR)?, face(BOLD)?))
});

impl Face {
    /// How wide `text` is at `size` points (advance widths, no kerning:
    /// close enough to break lines with room to spare).
    fn width(&self, text: &str, size: f32) -> f32 {
        let Ok(font) = skrifa::FontRef::new(self.data) else {
            return 0.0;
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .filter_map(|c| charmap.map(c))
            .filter_map(|g| metrics.advance_width(g))
            .sum()
    }

    /// `text` broken into lines no wider than `width` at `size` points.
    fn lines(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.width(&candidate, size) > width {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Colours: the app's ink and its accent (see `web/static/app.css`).
fn ink() -> rgb::Color {
    rgb::Color::new(0x1d, 0x26, 0x33)
}
fn muted() -> rgb::Color {
    rgb::Color::new(0x5b, 0x64, 0x75)
}
fn accent() -> rgb::Color {
    rgb::Color::new(0x1f, 0x5f, 0xbf)
}

/// Draws on one page, keeping the line the text has reached.
struct Pen<'s, 'p> {
    surface: &'s mut Surface<'p>,
    regular: &'s Face,
    bold: &'s Face,
    y: f32,
}

impl Pen<'_, '_> {
    fn colour(&mut self, colour: rgb::Color) {
        self.surface.set_fill(Some(Fill {
            paint: colour.into(),
            opacity: NormalizedF32::ONE,
            rule: Default::default(),
        }));
    }

    fn text_at(&mut self, x: f32, y: f32, bold: bool, size: f32, text: &str) {
        let face = if bold { self.bold } else { self.regular };
        self.surface.draw_text(
            Point::from_xy(x, y),
            face.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// A line centred on the page, then down by `after`.
    fn centred(&mut self, bold: bool, size: f32, text: &str, after: f32) {
        let face = if bold { self.bold } else { self.regular };
        let x = (WIDTH - face.width(text, size)) / 2.0;
        self.text_at(x, self.y, bold, size, text);
        self.y += after;
    }

    /// A paragraph from `x`, wrapped to the right margin.
    fn paragraph(&mut self, x: f32, bold: bool, size: f32, text: &str) {
        let face = if bold { self.bold } else { self.regular };
        for line in face.lines(text, size, WIDTH - MARGIN - x) {
            self.text_at(x, self.y, bold, size, &line);
            self.y += size * 1.45;
        }
    }

    /// A row of the figures' table: a label, and its value wrapped beside it.
    fn row(&mut self, label: &str, value: &str) {
        self.colour(muted());
        self.text_at(MARGIN, self.y, false, 10.0, label);
        self.colour(ink());
        self.paragraph(VALUE_X, false, 11.5, value);
        self.y += 5.0;
    }

    fn rule(&mut self, colour: rgb::Color, width: f32) {
        let mut path = PathBuilder::new();
        path.move_to(MARGIN, self.y);
        path.line_to(WIDTH - MARGIN, self.y);
        if let Some(path) = path.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                paint: colour.into(),
                width,
                ..Default::default()
            }));
            self.surface.draw_path(&path);
            self.surface.set_stroke(None);
        }
    }
}

/// The certificate as a PDF, its verification address under `base_url`
/// (the server's public address, e.g. `https://mentoring.example.org`).
pub fn render(certificate: &Certificate, base_url: &str) -> Result<Vec<u8>> {
    let Some((regular, bold)) = FACES.as_ref() else {
        return Err(Error::internal("the certificate fonts could not be read"));
    };
    let p = &certificate.printed;
    let url = format!(
        "{}{}",
        base_url.trim_end_matches('/'),
        certificate.code.verify_path()
    );
    let mut document = Document::new();
    let mut metadata = Metadata::new()
        .title(format!("Certificate of volunteering: {}", p.mentor))
        .creator("mentorbridge".to_owned())
        .language("en-GB".to_owned())
        .authors(vec![p.signer.name.clone()]);
    let issued = certificate.issued_at;
    {
        use chrono::{Datelike, Timelike};
        let part = |n: u32| u8::try_from(n).unwrap_or(0);
        metadata = metadata.creation_date(
            krilla::metadata::DateTime::new(u16::try_from(issued.year()).unwrap_or(2000))
                .month(part(issued.month()))
                .day(part(issued.day()))
                .hour(part(issued.hour()))
                .minute(part(issued.minute()))
                .second(part(issued.second()))
                .utc_offset_hour(0)
                .utc_offset_minute(0),
        );
    }
    document.set_metadata(metadata);
    let settings = PageSettings::from_wh(WIDTH, HEIGHT)
        .ok_or_else(|| Error::internal("the certificate's page size"))?;
    let mut page = document.start_page_with(settings);
    let link_top = {
        let mut surface = page.surface();
        let mut pen = Pen {
            surface: &mut surface,
            regular,
            bold,
            y: MARGIN,
        };
        let top = draw(&mut pen, certificate, p, &url);
        surface.finish();
        top
    };
    // The address is a link, for anyone reading the PDF on screen.
    if let Some(rect) = Rect::from_xywh(MARGIN, link_top - 11.0, WIDTH - 2.0 * MARGIN, 15.0) {
        page.add_annotation(Annotation::new_link(
            LinkAnnotation::new(rect, Target::Action(LinkAction::new(url.clone()).into())),
            Some(format!("Check this certificate at {url}")),
        ));
    }
    page.finish();
    document
        .finish()
        .map_err(|e| Error::internal(format!("writing a certificate PDF: {e:?}")))
}

/// Draws the page; returns the baseline of the verification address.
fn draw(pen: &mut Pen<'_, '_>, certificate: &Certificate, p: &Printed, url: &str) -> f32 {
    pen.colour(accent());
    pen.text_at(MARGIN, pen.y, true, 11.0, "mentorbridge");
    pen.colour(muted());
    let school = p.school.as_str();
    let right = WIDTH - MARGIN - pen.regular.width(school, 10.0);
    pen.text_at(right, pen.y, false, 10.0, school);
    pen.y += 14.0;
    pen.rule(accent(), 2.0);
    pen.y += 70.0;

    pen.colour(ink());
    pen.centred(true, 28.0, "Certificate of volunteering", 44.0);
    pen.colour(muted());
    pen.centred(false, 12.0, "This is to certify that", 36.0);
    pen.colour(ink());
    pen.centred(true, 24.0, &p.mentor, 28.0);
    pen.colour(muted());
    pen.centred(false, 12.0, &format!("of {}", p.school), 46.0);

    pen.colour(ink());
    pen.paragraph(MARGIN, false, 12.0, &p.activity);
    pen.y += 18.0;

    let dates = if p.first_date == p.last_date {
        Printed::date_text(p.first_date)
    } else {
        format!(
            "{} to {}",
            Printed::date_text(p.first_date),
            Printed::date_text(p.last_date)
        )
    };
    let partners = if p.partner_schools.is_empty() {
        "a partner school".to_owned()
    } else {
        p.partner_schools.join(", ")
    };
    pen.row("Partner school", &partners);
    pen.row("Dates", &dates);
    pen.row("Sessions delivered", &p.sessions.to_string());
    pen.row("Hours delivered", &p.hours_text());
    pen.row("Frequency", &p.frequency);
    pen.row(
        "Supported",
        &format!("{} ({})", p.supported_text(), p.mentees_text()),
    );
    pen.y += 4.0;
    pen.colour(muted());
    pen.paragraph(
        MARGIN,
        false,
        9.0,
        "Sessions and hours count only sessions that took place with both students present, \
         as the school's attendance record shows, each at its timetabled length.",
    );
    pen.y += 26.0;

    pen.colour(ink());
    pen.text_at(MARGIN, pen.y, true, 12.0, "Signed");
    pen.y += 40.0;
    pen.rule(muted(), 0.6);
    pen.y += 16.0;
    pen.text_at(MARGIN, pen.y, true, 11.5, &p.signer.name);
    pen.y += 16.0;
    pen.colour(muted());
    pen.paragraph(
        MARGIN,
        false,
        10.5,
        &format!("{}, {}", p.signer.role, p.signer.school),
    );
    pen.paragraph(
        MARGIN,
        false,
        10.5,
        &format!(
            "Contact (assessor for the Duke of Edinburgh's Award): {}",
            p.signer.email
        ),
    );
    pen.paragraph(
        MARGIN,
        false,
        10.5,
        &format!("Signed on {}", Printed::date_text(p.signed_on)),
    );

    // The check, at the foot of the page whatever came above.
    pen.y = HEIGHT - MARGIN - 58.0;
    pen.rule(accent(), 1.0);
    pen.y += 20.0;
    pen.colour(ink());
    pen.text_at(MARGIN, pen.y, false, 10.5, "Verification code");
    pen.text_at(VALUE_X, pen.y, true, 13.0, certificate.code.as_str());
    pen.y += 20.0;
    pen.colour(accent());
    let link_y = pen.y;
    pen.text_at(MARGIN, pen.y, false, 10.0, url);
    pen.y += 14.0;
    pen.colour(muted());
    pen.paragraph(
        MARGIN,
        false,
        8.5,
        "Anyone may check this certificate at the address above; it shows only what this certificate says.",
    );
    link_y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_between_words_within_the_width() {
        let Some((regular, _)) = FACES.as_ref() else {
            panic!("the fonts load");
        };
        let text = "Volunteer peer mentor: one-to-one video sessions on school iPads, mentoring a younger student";
        let lines = regular.lines(text, 12.0, 200.0);
        assert!(lines.len() > 2, "{lines:?}");
        assert_eq!(lines.join(" "), text);
        for line in &lines {
            assert!(regular.width(line, 12.0) <= 200.0, "{line}");
        }
        // A word longer than the line still prints, on a line of its own.
        assert_eq!(regular.lines("Supercalifragilistic", 12.0, 10.0).len(), 1);
    }
}
