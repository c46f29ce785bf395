//! A small page writer over `pdf-writer`: US Letter pages, the built-in Helvetica fonts in
//! WinAnsi encoding (nothing embedded, text extractable), left- and right-aligned text, rules,
//! word wrapping and page breaks.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

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

/// The two built-in faces documents use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Font {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
}

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }
}

/// A face at a size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Style {
    /// The face.
    pub(super) font: Font,
    /// The size in points.
    pub(super) size: f32,
}

/// Helvetica at `size` points.
pub(super) fn regular(size: f32) -> Style {
    Style { font: Font::Regular, size }
}

/// Helvetica-Bold at `size` points.
pub(super) fn bold(size: f32) -> Style {
    Style { font: Font::Bold, size }
}

/// Builds the pages of one document, top to bottom.
pub(super) struct Writer {
    pages: Vec<Content>,
    current: Content,
    /// The baseline of the next line on the current page.
    pub(super) y: f32,
    footer: String,
}

impl Writer {
    /// A document whose every page carries `footer` (with the page number) at the bottom.
    pub(super) fn new(footer: impl Into<String>) -> Self {
        Writer { pages: vec![], current: Content::new(), y: TOP, footer: footer.into() }
    }

    /// Writes `text` with its left end at `x` on baseline `y`.
    pub(super) fn text(&mut self, x: f32, y: f32, style: Style, text: &str) {
        if text.is_empty() {
            return;
        }
        self.current.begin_text();
        self.current.set_font(style.font.resource(), style.size);
        self.current.next_line(x, y);
        self.current.show(Str(&win_ansi(text)));
        self.current.end_text();
    }

    /// Writes `text` with its right end at `right`.
    pub(super) fn text_right(&mut self, right: f32, y: f32, style: Style, text: &str) {
        self.text(right - width(text, style), y, style, text);
    }

    /// A horizontal rule from `x1` to `x2` at `y`.
    pub(super) fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32) {
        self.current.set_line_width(thickness);
        self.current.move_to(x1, y);
        self.current.line_to(x2, y);
        self.current.stroke();
    }

    /// Writes `text` wrapped to `max_width` from `x`, one line every `leading` points down from
    /// `y`; returns how many lines it took.
    pub(super) fn wrapped(&mut self, x: f32, y: f32, style: Style, leading: f32, max_width: f32, text: &str) -> usize {
        let lines = wrap(text, style, max_width);
        for (n, line) in lines.iter().enumerate() {
            self.text(x, y - leading * n as f32, style, line);
        }
        lines.len()
    }

    /// Whether `height` more points fit above the bottom margin of the current page.
    pub(super) fn fits(&self, height: f32) -> bool {
        self.y - height >= BOTTOM
    }

    /// Ends the current page and starts the next one at the top.
    pub(super) fn new_page(&mut self) {
        let done = std::mem::replace(&mut self.current, Content::new());
        self.pages.push(done);
        self.y = TOP;
    }

    /// The finished PDF, with `title` in its document information.
    pub(super) fn finish(mut self, title: &str) -> Vec<u8> {
        let last = std::mem::replace(&mut self.current, Content::new());
        self.pages.push(last);
        let count = self.pages.len();

        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let first_page = 6;
        let page_ids: Vec<Ref> = (0..count).map(|n| Ref::new(first_page + 2 * n as i32)).collect();

        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids(page_ids.iter().copied()).count(count as i32);
        pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.document_info(info).title(TextStr(title)).producer(TextStr("autobill")).creator(TextStr("autobill"));

        for (n, (mut content, page_id)) in self.pages.into_iter().zip(page_ids).enumerate() {
            let footer = format!("{} - page {} of {count}", self.footer, n + 1);
            content.begin_text();
            content.set_font(Font::Regular.resource(), 7.5);
            content.next_line(MARGIN, 32.0);
            content.show(Str(&win_ansi(&footer)));
            content.end_text();
            let content_id = Ref::new(page_id.get() + 1);
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
            page.parent(tree);
            page.contents(content_id);
            page.resources().fonts().pair(Font::Regular.resource(), regular).pair(Font::Bold.resource(), bold);
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        pdf.finish()
    }
}

/// `text` in WinAnsiEncoding: ASCII and Latin-1 as they are, the typographic extras of
/// Windows-1252 (quotes, dashes, euro…) at their code points, anything else as `?`.
pub(super) fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '\t' | '\n' | '\r' => b' ',
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            _ => b'?',
        })
        .collect()
}

/// Advance widths of ASCII 32–126 in Helvetica, in 1/1000 em (Adobe's core font metrics).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 to ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ to O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P to _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` to o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p to ~
];

/// The same for Helvetica-Bold.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0 to ?
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // @ to O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // P to _
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // ` to o
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // p to ~
];

/// The width of `text` in points; characters outside ASCII count as an average letter.
pub(super) fn width(text: &str, style: Style) -> f32 {
    let table = match style.font {
        Font::Regular => &HELVETICA,
        Font::Bold => &HELVETICA_BOLD,
    };
    let units: u32 = text
        .chars()
        .map(|c| {
            let index = (c as u32).wrapping_sub(32) as usize;
            u32::from(table.get(index).copied().unwrap_or(556))
        })
        .sum();
    units as f32 * style.size / 1000.0
}

/// `text` broken into lines no wider than `max_width`, at spaces where possible.
pub(super) fn wrap(text: &str, style: Style, max_width: f32) -> Vec<String> {
    let mut lines = vec![];
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if width(&candidate, style) <= max_width {
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
            if width(&piece, style) > max_width && piece.chars().count() > 1 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_for_the_built_in_fonts() {
        assert_eq!(win_ansi("Ana Álvarez – 12€"), b"Ana \xc1lvarez \x96 12\x80".to_vec());
        assert_eq!(win_ansi("日本"), b"??".to_vec());
    }

    #[test]
    fn widths_follow_the_helvetica_metrics() {
        assert!((width("0000", regular(10.0)) - 22.24).abs() < 0.01);
        assert!(width("Total", bold(10.0)) > width("Total", regular(10.0)));
    }

    #[test]
    fn long_text_wraps_at_spaces_and_overlong_words_are_cut() {
        let lines = wrap("Psychotherapy, 60 minutes with patient and family", regular(10.0), 100.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|line| width(line, regular(10.0)) <= 100.0), "{lines:?}");
        assert_eq!(lines.join(" "), "Psychotherapy, 60 minutes with patient and family");
        let cut = wrap("ABCDEFGHIJKLMNOPQRSTUVWXYZ", regular(10.0), 50.0);
        assert!(cut.len() > 1 && cut.concat() == "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "{cut:?}");
        assert_eq!(wrap("", regular(10.0), 50.0), [""]);
    }
}
