//! The fonts documents are set in, and lines of text shaped in them.
//!
//! Documents embed (a subset of) real fonts, so any script prints and every character can be
//! extracted again. The faces come in fallback order: each character is set in the first face
//! that has a glyph for it. [`Fonts::system`] takes the Noto faces of Debian's `fonts-noto-core`
//! (Noto Sans, Noto Sans Arabic, Noto Sans Hebrew) and `fonts-noto-cjk` (Noto Sans CJK SC) where
//! they are installed, and always ends with DejaVu Sans, which is compiled into the binary (the
//! `dejavu` crate) and covers Latin with Vietnamese, Greek, Cyrillic, Arabic and Hebrew, so a
//! machine without any font installed still prints all of those. Only CJK needs `fonts-noto-cjk`.
//!
//! A line is shaped with rustybuzz (Arabic letters join, marks sit on their letters) after the
//! Unicode bidirectional algorithm has ordered it, so right-to-left names read correctly.

use krilla::text::{Font as PdfFont, GlyphId, KrillaGlyph};
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;
use unicode_bidi::ParagraphBidiInfo;

/// Where Debian (and Ubuntu) install the Noto faces, with the face index in a collection:
/// index 2 of the CJK collection is Noto Sans CJK SC.
const NOTO_REGULAR: [(&str, u32); 4] = [
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", 0),
    ("/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", 0),
    ("/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
];

/// The bold faces of the same families.
const NOTO_BOLD: [(&str, u32); 4] = [
    ("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf", 0),
    ("/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf", 0),
    ("/usr/share/fonts/truetype/noto/NotoSansHebrew-Bold.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
];

/// Right-to-left text is set without ligatures (letters still join): text extraction reverses a
/// right-to-left line character by character, so a ligature's letters (lam-alef, `لا`) would come
/// out swapped. Each glyph then stands for exactly one character.
const RTL_FEATURES: [rustybuzz::Feature; 2] = [
    rustybuzz::Feature { tag: rustybuzz::ttf_parser::Tag::from_bytes(b"rlig"), value: 0, start: 0, end: u32::MAX },
    rustybuzz::Feature { tag: rustybuzz::ttf_parser::Tag::from_bytes(b"liga"), value: 0, start: 0, end: u32::MAX },
];

/// Regular or bold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Weight {
    /// The regular face.
    Regular,
    /// The bold face.
    Bold,
}

/// One face: a font file (or one face of a collection), ready to shape with and to embed.
struct Face {
    /// Where it came from.
    source: String,
    shaper: rustybuzz::Face<'static>,
    pdf: PdfFont,
    units_per_em: f32,
}

impl Face {
    /// The face at `index` of `data`, if it is a font krilla and rustybuzz can both read.
    fn new(source: String, data: &'static [u8], index: u32) -> Option<Face> {
        let shaper = rustybuzz::Face::from_slice(data, index)?;
        let pdf = PdfFont::new(data.into(), index)?;
        let units_per_em = pdf.units_per_em();
        Some(Face { source, shaper, pdf, units_per_em })
    }

    fn covers(&self, c: char) -> bool {
        self.shaper.glyph_index(c).is_some()
    }
}

/// The faces documents are set in, in fallback order for each weight.
pub struct Fonts {
    faces: Vec<Face>,
    /// Indices into `faces`: the regular faces in fallback order.
    regular: Vec<usize>,
    /// The bold faces, then the regular ones for what no bold face covers.
    bold: Vec<usize>,
}

impl Fonts {
    /// The fonts of this machine: the Noto faces where installed, then the built-in DejaVu Sans.
    /// Loaded once; later calls return the same set.
    pub fn system() -> &'static Fonts {
        static SYSTEM: OnceLock<Fonts> = OnceLock::new();
        SYSTEM.get_or_init(|| {
            let fonts = Fonts::with_files(&NOTO_REGULAR, &NOTO_BOLD);
            tracing::debug!(faces = ?fonts.sources(), "document fonts");
            fonts
        })
    }

    /// Only the built-in DejaVu Sans: what a machine without fonts installed uses.
    pub fn built_in() -> Fonts {
        Fonts::with_files(&[], &[])
    }

    /// The faces in `regular` and `bold` that exist and can be read, each followed by the built-in
    /// DejaVu Sans of its weight. A file that cannot be read is left out with a warning. The
    /// files are read once and kept for the life of the process.
    fn with_files(regular: &[(&str, u32)], bold: &[(&str, u32)]) -> Fonts {
        let mut fonts = Fonts { faces: vec![], regular: vec![], bold: vec![] };
        for &(path, index) in regular {
            if let Some(face) = load(Path::new(path), index) {
                fonts.regular.push(fonts.faces.len());
                fonts.faces.push(face);
            }
        }
        for &(path, index) in bold {
            if let Some(face) = load(Path::new(path), index) {
                fonts.bold.push(fonts.faces.len());
                fonts.faces.push(face);
            }
        }
        for (weight, data) in [(Weight::Regular, dejavu::sans::regular()), (Weight::Bold, dejavu::sans::bold())] {
            if let Some(face) = Face::new(format!("DejaVu Sans {weight:?} (built in)"), data, 0) {
                let chain = if weight == Weight::Regular { &mut fonts.regular } else { &mut fonts.bold };
                chain.push(fonts.faces.len());
                fonts.faces.push(face);
            }
        }
        let regular = fonts.regular.clone();
        fonts.bold.extend(regular);
        fonts
    }

    /// Where each face came from, in fallback order: the regular ones, then the bold ones.
    pub fn sources(&self) -> Vec<&str> {
        self.faces.iter().map(|face| face.source.as_str()).collect()
    }

    /// `text` (one line, without control characters) shaped and ordered for the page.
    pub(super) fn shape(&self, text: &str, weight: Weight) -> Line {
        let chain = match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        };
        let mut line = Line { runs: vec![], width: 0.0, missing: vec![] };
        if text.is_empty() || chain.is_empty() {
            return line;
        }
        let bidi = ParagraphBidiInfo::new(text, None);
        let (levels, runs) = bidi.visual_runs(0..text.len());
        for range in runs {
            let rtl = levels[range.start].is_rtl();
            let mut pieces = self.split_by_face(text, range, chain, &mut line.missing);
            if rtl {
                pieces.reverse();
            }
            for (face, range) in pieces {
                let run = self.shape_run(text, range, face, rtl);
                line.width += run.width;
                line.runs.push(run);
            }
        }
        line
    }

    /// `range` of `text` cut where the face changes: each character goes to the first face in
    /// `chain` that covers it, except that spaces, digits, punctuation and marks stay in the
    /// face of the characters before them when it covers them. Characters no face covers are
    /// added to `missing` and stay in the current face.
    fn split_by_face(
        &self,
        text: &str,
        range: Range<usize>,
        chain: &[usize],
        missing: &mut Vec<char>,
    ) -> Vec<(usize, Range<usize>)> {
        let mut pieces: Vec<(usize, Range<usize>)> = vec![];
        for (offset, c) in text[range.clone()].char_indices() {
            let at = range.start + offset;
            let current = pieces.last().map(|(face, _)| *face);
            let stays = current.filter(|&face| !c.is_alphabetic() && self.faces[face].covers(c));
            let face = stays.or_else(|| chain.iter().copied().find(|&face| self.faces[face].covers(c)));
            let face = match face {
                Some(face) => face,
                None => {
                    if !c.is_whitespace() && !missing.contains(&c) {
                        missing.push(c);
                    }
                    current.unwrap_or(chain[0])
                }
            };
            match pieces.last_mut() {
                Some((last, piece)) if *last == face => piece.end = at + c.len_utf8(),
                _ => pieces.push((face, at..at + c.len_utf8())),
            }
        }
        pieces
    }

    /// One piece of text in one face and direction, shaped; glyphs left to right.
    fn shape_run(&self, text: &str, range: Range<usize>, face: usize, rtl: bool) -> Run {
        let font = &self.faces[face];
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(&text[range.clone()]);
        buffer.guess_segment_properties();
        buffer.set_direction(if rtl { rustybuzz::Direction::RightToLeft } else { rustybuzz::Direction::LeftToRight });
        let features: &[rustybuzz::Feature] = if rtl { &RTL_FEATURES } else { &[] };
        let output = rustybuzz::shape(&font.shaper, features, buffer);
        let mut starts: Vec<usize> = output.glyph_infos().iter().map(|info| info.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let scale = font.units_per_em;
        let mut width = 0.0;
        let glyphs = output
            .glyph_infos()
            .iter()
            .zip(output.glyph_positions())
            .map(|(info, position)| {
                let start = info.cluster as usize;
                let end = starts.iter().find(|&&next| next > start).copied().unwrap_or(range.len());
                width += position.x_advance as f32 / scale;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    position.x_advance as f32 / scale,
                    position.x_offset as f32 / scale,
                    position.y_offset as f32 / scale,
                    position.y_advance as f32 / scale,
                    range.start + start..range.start + end,
                    None,
                )
            })
            .collect();
        Run { face, glyphs, width }
    }

    /// The embeddable font of face `face`.
    pub(super) fn pdf_font(&self, face: usize) -> PdfFont {
        self.faces[face].pdf.clone()
    }
}

/// Reads the face at `index` of the font file at `path`, if there is one; a file that exists but
/// cannot be read as a font is left out with a warning.
fn load(path: &Path, index: u32) -> Option<Face> {
    let bytes = std::fs::read(path).ok()?;
    // Read once per process (see `Fonts::system`) and kept for its life: shaping borrows it.
    let data: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let face = Face::new(path.display().to_string(), data, index);
    if face.is_none() {
        tracing::warn!(path = %path.display(), index, "not a usable font; documents are set without it");
    }
    face
}

/// A shaped line: its runs as they sit on the page, left to right.
#[derive(Debug)]
pub(super) struct Line {
    /// The runs, left to right.
    pub(super) runs: Vec<Run>,
    /// Its width in ems.
    pub(super) width: f32,
    /// Characters no face has a glyph for (drawn as the face's empty box).
    pub(super) missing: Vec<char>,
}

/// Glyphs of one face, left to right, with the byte range of the line's text each stands for.
#[derive(Debug)]
pub(super) struct Run {
    /// The face (see [`Fonts::pdf_font`]).
    pub(super) face: usize,
    /// The glyphs; advances and offsets in ems.
    pub(super) glyphs: Vec<KrillaGlyph>,
    /// The run's width in ems.
    pub(super) width: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faces_of(line: &Line) -> Vec<usize> {
        line.runs.iter().map(|run| run.face).collect()
    }

    #[test]
    fn the_built_in_font_covers_latin_greek_cyrillic_arabic_and_hebrew() {
        let fonts = Fonts::built_in();
        for name in ["Nguyễn Thị Hằng", "Αλέξανδρος Παπαδόπουλος", "Екатерина Смирнова", "محمد الأحمد", "דוד כהן"]
        {
            let line = fonts.shape(name, Weight::Regular);
            assert!(line.missing.is_empty(), "{name}: {:?}", line.missing);
            assert!(line.width > 1.0, "{name}");
        }
        let bold = fonts.shape("Bến Thành", Weight::Bold);
        assert!(bold.missing.is_empty() && bold.width > fonts.shape("Bến Thành", Weight::Regular).width);
    }

    #[test]
    fn characters_no_face_covers_are_reported_missing() {
        let line = Fonts::built_in().shape("王小明 Wang", Weight::Regular);
        assert_eq!(line.missing, ['王', '小', '明']);
    }

    #[test]
    fn arabic_is_joined_and_set_right_to_left() {
        let fonts = Fonts::built_in();
        let word = "محمد";
        let line = fonts.shape(word, Weight::Regular);
        let glyphs: Vec<&KrillaGlyph> = line.runs.iter().flat_map(|run| &run.glyphs).collect();
        // Right to left: the first glyph on the page is the word's last letter.
        let last_letter = word.len() - 'د'.len_utf8();
        assert_eq!(glyphs.first().map(|g| g.text_range.clone()), Some(last_letter..word.len()));
        assert_eq!(glyphs.last().map(|g| g.text_range.start), Some(0));
        // Joined: the isolated form of the first letter is not the one used at the start of a word.
        let isolated = fonts.shape("م", Weight::Regular);
        let alone = isolated.runs[0].glyphs[0].glyph_id;
        assert_ne!(glyphs.last().map(|g| g.glyph_id), Some(alone));
    }

    #[test]
    fn each_right_to_left_glyph_stands_for_one_letter() {
        for fonts in [Fonts::system(), &Fonts::built_in()] {
            // Lam-alef and lam-alef maksura, ligatures in Noto Sans Arabic.
            for word in ["صلاح", "ليلى"] {
                let line = fonts.shape(word, Weight::Regular);
                let glyphs: Vec<&KrillaGlyph> = line.runs.iter().flat_map(|run| &run.glyphs).collect();
                assert_eq!(glyphs.len(), word.chars().count(), "{word}: {glyphs:?}");
            }
        }
    }

    #[test]
    fn a_line_mixing_directions_keeps_latin_left_to_right() {
        let fonts = Fonts::built_in();
        let text = "Bill for דוד כהן, 2026";
        let line = fonts.shape(text, Weight::Regular);
        let starts: Vec<usize> = line.runs.iter().flat_map(|run| &run.glyphs).map(|g| g.text_range.start).collect();
        assert_eq!(starts[0], 0, "the line starts with `Bill`");
        let hebrew = text.find('ד').unwrap_or_default();
        let first_hebrew = starts.iter().position(|&s| s >= hebrew).unwrap_or_default();
        assert!(starts[first_hebrew] > hebrew, "the Hebrew name starts at its right end: {starts:?}");
    }

    #[test]
    fn chinese_falls_back_to_noto_sans_cjk_and_spaces_stay_with_their_text() {
        let fonts = Fonts::system();
        assert!(
            fonts.sources().iter().any(|source| source.contains("NotoSansCJK")),
            "these tests need Noto Sans CJK: `apt-get install fonts-noto-cjk` (tests/run.sh installs it)"
        );
        let line = fonts.shape("王小明 (Wang Xiaoming)", Weight::Regular);
        assert!(line.missing.is_empty(), "{:?}", line.missing);
        let faces = faces_of(&line);
        assert_eq!(faces.len(), 2, "the name, then the Latin in another face: {faces:?}");
        assert!(fonts.faces[faces[0]].source.contains("NotoSansCJK"), "{}", fonts.faces[faces[0]].source);
    }
}
