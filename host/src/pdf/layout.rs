//! A small page writer over `krilla`: US Letter pages, text in the embedded [`Fonts`] (shaped,
//! ordered for right-to-left scripts, subsetted, extractable), left- and right-aligned text,
//! rules, word wrapping, page breaks and the document's structure (headings, paragraphs, tables)
//! as a tagged PDF.
//!
//! The layouts draw onto a [`Writer`], which records what they draw; [`Writer::finish`] writes
//! the PDF. A document all of whose text the fonts cover is written as PDF/A-2a (archival,
//! tagged, every glyph mapped to its text); one with a character no font has is written as a
//! plain tagged PDF, that character showing as an empty box, with a warning naming it.

use super::RenderError;
use super::fonts::{Fonts, Line, Weight};
use chrono::{Datelike, NaiveDate};
use krilla::configure::{Configuration, Validator};
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::surface::Surface;
use krilla::tagging::{ArtifactType, ContentTag, Node, SpanTag, TableHeaderScope, Tag, TagGroup, TagKind, TagTree};
use krilla::{Document, SerializeSettings};
use std::collections::HashMap;
use std::num::NonZeroU16;
use std::rc::Rc;

/// Page width in points (US Letter).
pub(super) const PAGE_WIDTH: f32 = 612.0;
/// Page height in points (US Letter).
pub(super) const PAGE_HEIGHT: f32 = 792.0;
/// Left and right margin.
pub(super) const MARGIN: f32 = 50.0;
/// Where the first line of a page sits.
pub(super) const TOP: f32 = PAGE_HEIGHT - 54.0;
/// Below this, a new page starts.
const BOTTOM: f32 = 60.0;
/// The documents' language: their labels are in US English.
const LANGUAGE: &str = "en-US";

/// A face at a size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Style {
    /// Regular or bold.
    pub(super) weight: Weight,
    /// The size in points.
    pub(super) size: f32,
}

/// The regular face at `size` points.
pub(super) fn regular(size: f32) -> Style {
    Style { weight: Weight::Regular, size }
}

/// The bold face at `size` points.
pub(super) fn bold(size: f32) -> Style {
    Style { weight: Weight::Bold, size }
}

/// A part of the document's structure, which the text drawn while it is open belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Element {
    /// A heading of level 1 (the document's title) or more.
    Heading(u16),
    /// A paragraph, of one or more lines.
    Paragraph,
    /// A table, made of rows.
    Table,
    /// A table row, made of cells.
    Row,
    /// A header cell naming its column.
    ColumnHeader,
    /// A header cell naming its row.
    RowHeader,
    /// A data cell.
    Cell,
}

impl Element {
    /// Whether text goes straight into it (rather than into a paragraph of its own).
    fn holds_text(self) -> bool {
        matches!(
            self,
            Element::Heading(_) | Element::Paragraph | Element::ColumnHeader | Element::RowHeader | Element::Cell
        )
    }

    fn tag(self, title: Option<String>) -> TagKind {
        match self {
            Element::Heading(level) => Tag::Hn(NonZeroU16::new(level).unwrap_or(NonZeroU16::MIN), title).into(),
            Element::Paragraph => Tag::P.into(),
            Element::Table => Tag::Table.into(),
            Element::Row => Tag::TR.into(),
            Element::ColumnHeader => Tag::TH(TableHeaderScope::Column).into(),
            Element::RowHeader => Tag::TH(TableHeaderScope::Row).into(),
            Element::Cell => Tag::TD.into(),
        }
    }
}

/// One thing drawn or one step of the structure, in reading order.
enum Op {
    /// A line of text with its left end at `x` on baseline `y`.
    Text { x: f32, y: f32, size: f32, text: String, line: Rc<Line>, artifact: bool },
    /// A horizontal rule.
    Rule { x1: f32, x2: f32, y: f32, thickness: f32 },
    /// An element starts; `title` is a heading's text.
    Open(Element, Option<String>),
    /// The element opened last ends.
    Close,
}

/// Builds the pages of one document, top to bottom.
pub(super) struct Writer<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    current: Vec<Op>,
    /// The baseline of the next line on the current page.
    pub(super) y: f32,
    footer: String,
    title: String,
    issued: NaiveDate,
    /// Lines shaped so far, by weight and text: measured, then drawn.
    shaped: HashMap<(Weight, String), Rc<Line>>,
    /// Whether what is drawn now repeats what came before (a table's head on a new page).
    repeating: bool,
}

impl<'f> Writer<'f> {
    /// A document set in `fonts`, titled `title` and dated `issued`, whose every page carries
    /// `footer` (with the page number) at the bottom.
    pub(super) fn new(fonts: &'f Fonts, footer: String, title: String, issued: NaiveDate) -> Self {
        Writer {
            fonts,
            pages: vec![],
            current: vec![],
            y: TOP,
            footer,
            title,
            issued,
            shaped: HashMap::new(),
            repeating: false,
        }
    }

    fn line(&mut self, text: &str, weight: Weight) -> Rc<Line> {
        if let Some(line) = self.shaped.get(&(weight, text.to_string())) {
            return line.clone();
        }
        let line = Rc::new(self.fonts.shape(text, weight));
        self.shaped.insert((weight, text.to_string()), line.clone());
        line
    }

    /// The width of `text` in points.
    pub(super) fn width(&mut self, text: &str, style: Style) -> f32 {
        self.line(&one_line(text), style.weight).width * style.size
    }

    /// Writes `text` with its left end at `x` on baseline `y`.
    pub(super) fn text(&mut self, x: f32, y: f32, style: Style, text: &str) {
        let text = one_line(text);
        if text.trim().is_empty() {
            return;
        }
        let line = self.line(&text, style.weight);
        self.current.push(Op::Text { x, y, size: style.size, text, line, artifact: self.repeating });
    }

    /// Writes `text` with its right end at `right`.
    pub(super) fn text_right(&mut self, right: f32, y: f32, style: Style, text: &str) {
        let width = self.width(text, style);
        self.text(right - width, y, style, text);
    }

    /// A horizontal rule from `x1` to `x2` at `y`.
    pub(super) fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32) {
        self.current.push(Op::Rule { x1, x2, y, thickness });
    }

    /// Writes `text` wrapped to `max_width` from `x`, one line every `leading` points down from
    /// `y`; returns how many lines it took.
    pub(super) fn wrapped(&mut self, x: f32, y: f32, style: Style, leading: f32, max_width: f32, text: &str) -> usize {
        let lines = self.wrap(text, style, max_width);
        for (n, line) in lines.iter().enumerate() {
            self.text(x, y - leading * n as f32, style, line);
        }
        lines.len()
    }

    /// Starts `element`; what is drawn until the matching [`Writer::close`] belongs to it.
    pub(super) fn open(&mut self, element: Element) {
        if !self.repeating {
            self.current.push(Op::Open(element, None));
        }
    }

    /// Starts a heading of `level` whose text is `title`.
    pub(super) fn open_heading(&mut self, level: u16, title: &str) {
        if !self.repeating {
            self.current.push(Op::Open(Element::Heading(level), Some(title.to_string())));
        }
    }

    /// Ends the element opened last.
    pub(super) fn close(&mut self) {
        if !self.repeating {
            self.current.push(Op::Close);
        }
    }

    /// From now on (`true`) until called with `false`, what is drawn repeats what came before
    /// (e.g. a table's head at the top of the next page): shown, but not part of the structure.
    pub(super) fn repeating(&mut self, repeating: bool) {
        self.repeating = repeating;
    }

    /// Whether `height` more points fit above the bottom margin of the current page.
    pub(super) fn fits(&self, height: f32) -> bool {
        self.y - height >= BOTTOM
    }

    /// Ends the current page and starts the next one at the top.
    pub(super) fn new_page(&mut self) {
        let done = std::mem::take(&mut self.current);
        self.pages.push(done);
        self.y = TOP;
    }

    /// `text` broken into lines no wider than `max_width`, at spaces where possible.
    pub(super) fn wrap(&mut self, text: &str, style: Style, max_width: f32) -> Vec<String> {
        let mut lines = vec![];
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if self.width(&candidate, style) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line is cut where it overflows.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if self.width(&piece, style) > max_width && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// The text of each page, line by line in the order drawn (footers left out).
    #[cfg(test)]
    pub(super) fn texts(&self) -> Vec<Vec<String>> {
        self.pages
            .iter()
            .chain(std::iter::once(&self.current))
            .map(|ops| {
                ops.iter()
                    .filter_map(|op| match op {
                        Op::Text { text, .. } => Some(text.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    /// Where the first line reading `wanted` starts, from the left edge.
    #[cfg(test)]
    pub(super) fn placed(&self, wanted: &str) -> Option<f32> {
        self.pages.iter().chain(std::iter::once(&self.current)).flatten().find_map(|op| match op {
            Op::Text { x, text, .. } if text == wanted => Some(*x),
            _ => None,
        })
    }

    /// The number of pages so far.
    #[cfg(test)]
    pub(super) fn page_count(&self) -> usize {
        self.pages.len() + 1
    }

    /// The finished PDF.
    pub(super) fn finish(mut self) -> Result<Vec<u8>, RenderError> {
        let last = std::mem::take(&mut self.current);
        self.pages.push(last);
        let count = self.pages.len();
        let footers: Vec<(String, Rc<Line>)> = (1..=count)
            .map(|n| {
                let text = one_line(&format!("{} - page {n} of {count}", self.footer));
                let line = self.line(&text, Weight::Regular);
                (text, line)
            })
            .collect();

        let mut missing: Vec<char> = self.shaped.values().flat_map(|line| line.missing.iter().copied()).collect();
        missing.sort_unstable();
        missing.dedup();
        let validator = if missing.is_empty() {
            Validator::A2_A
        } else {
            let chars: Vec<String> = missing.iter().map(|c| format!("{c} (U+{:04X})", u32::from(*c))).collect();
            tracing::warn!(
                document = %self.title,
                "no font has a glyph for {}; they print as empty boxes and the PDF is not PDF/A: install \
                 fonts-noto-core and fonts-noto-cjk",
                chars.join(", ")
            );
            Validator::None
        };
        let settings = SerializeSettings {
            configuration: Configuration::new_with_validator(validator),
            enable_tagging: true,
            ..SerializeSettings::default()
        };
        let mut document = Document::new_with(settings);
        let mut structure = Structure { tree: TagTree::new().with_lang(Some(LANGUAGE.into())), open: vec![] };
        let page_settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or(RenderError::Layout("page size"))?;
        for (ops, (footer, footer_line)) in self.pages.iter().zip(&footers) {
            let mut page = document.start_page_with(page_settings.clone());
            let mut surface = page.surface();
            for op in ops {
                match op {
                    Op::Open(element, title) => structure.open(*element, title.clone()),
                    Op::Close => structure.close(),
                    Op::Text { x, y, size, text, line, artifact: true } => {
                        surface.start_tagged(ContentTag::Artifact(ArtifactType::Other));
                        draw(&mut surface, self.fonts, *x, *y, *size, text, line);
                        surface.end_tagged();
                    }
                    Op::Text { x, y, size, text, line, artifact: false } => {
                        let id = surface.start_tagged(ContentTag::Span(SpanTag::empty()));
                        draw(&mut surface, self.fonts, *x, *y, *size, text, line);
                        surface.end_tagged();
                        structure.text(id.into());
                    }
                    Op::Rule { x1, x2, y, thickness } => {
                        surface.start_tagged(ContentTag::Artifact(ArtifactType::Other));
                        rule(&mut surface, *x1, *x2, *y, *thickness);
                        surface.end_tagged();
                    }
                }
            }
            surface.start_tagged(ContentTag::Artifact(ArtifactType::Footer));
            draw(&mut surface, self.fonts, MARGIN, 32.0, 7.5, footer, footer_line);
            surface.end_tagged();
            surface.finish();
            page.finish();
        }
        document.set_tag_tree(structure.finish());
        let issued = self.issued;
        let date = DateTime::new(u16::try_from(issued.year()).unwrap_or(2000))
            .month(issued.month() as u8)
            .day(issued.day() as u8);
        document.set_metadata(
            Metadata::new()
                .title(self.title)
                .language(LANGUAGE.into())
                .creator("autobill".into())
                .producer("autobill".into())
                .creation_date(date),
        );
        document.finish().map_err(RenderError::from)
    }
}

/// `text` on one line: tabs, line breaks and other control characters become spaces.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Draws `line` (the shaped `text`) with its left end at `x` on baseline `y` (from the bottom).
fn draw(surface: &mut Surface<'_>, fonts: &Fonts, x: f32, y: f32, size: f32, text: &str, line: &Line) {
    let mut left = x;
    for run in &line.runs {
        let start = Point::from_xy(left, PAGE_HEIGHT - y);
        surface.draw_glyphs(start, &run.glyphs, fonts.pdf_font(run.face), text, size, false);
        left += run.width * size;
    }
}

/// A black horizontal rule from `x1` to `x2` at `y` (from the bottom).
fn rule(surface: &mut Surface<'_>, x1: f32, x2: f32, y: f32, thickness: f32) {
    let mut path = PathBuilder::new();
    path.move_to(x1, PAGE_HEIGHT - y);
    path.line_to(x2, PAGE_HEIGHT - y);
    if let Some(path) = path.finish() {
        surface.set_stroke(Some(Stroke { width: thickness, ..Stroke::default() }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

/// The tag tree as it is built: the elements open now, innermost last.
struct Structure {
    tree: TagTree,
    open: Vec<(Element, TagGroup)>,
}

impl Structure {
    fn open(&mut self, element: Element, title: Option<String>) {
        self.open.push((element, TagGroup::new(element.tag(title))));
    }

    fn close(&mut self) {
        if let Some((_, group)) = self.open.pop() {
            self.attach(group.into());
        }
    }

    /// A line of text: into the open element if it holds text, else a paragraph of its own.
    fn text(&mut self, id: Node) {
        match self.open.last_mut() {
            Some((element, group)) if element.holds_text() => group.push(id),
            _ => self.attach(TagGroup::with_children(Tag::P, vec![id]).into()),
        }
    }

    fn attach(&mut self, node: Node) {
        match self.open.last_mut() {
            Some((_, parent)) => parent.push(node),
            None => self.tree.push(node),
        }
    }

    fn finish(mut self) -> TagTree {
        while !self.open.is_empty() {
            self.close();
        }
        self.tree
    }
}
