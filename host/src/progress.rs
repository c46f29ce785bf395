//! A one-line progress report for long runs (`demo`, `simulate`), redrawn in place with a
//! carriage return. It is drawn only when its output is a terminal, so piped output and logs stay
//! free of it.

use std::io::{IsTerminal, Write};

/// A progress line: `label done/total unit`, redrawn when `done` changes and cleared at the end.
pub struct ProgressLine<W: Write> {
    out: W,
    enabled: bool,
    label: String,
    unit: String,
    shown: Option<u64>,
    width: usize,
}

impl ProgressLine<std::io::Stderr> {
    /// A progress line on stderr, drawn only when stderr is a terminal.
    pub fn stderr(label: &str, unit: &str) -> Self {
        let out = std::io::stderr();
        let enabled = out.is_terminal();
        ProgressLine::new(out, enabled, label, unit)
    }
}

impl<W: Write> ProgressLine<W> {
    /// A progress line on `out`, drawn only when `enabled`.
    pub fn new(out: W, enabled: bool, label: &str, unit: &str) -> Self {
        ProgressLine { out, enabled, label: label.to_string(), unit: unit.to_string(), shown: None, width: 0 }
    }

    /// Shows `done` of `total`; does nothing when `done` is already shown.
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled || self.shown == Some(done) {
            return;
        }
        self.shown = Some(done);
        let percent = (done.min(total) * 100).checked_div(total).unwrap_or(100);
        let text = format!("{} {done}/{total} {} ({percent}%)", self.label, self.unit);
        let padding = self.width.saturating_sub(text.chars().count());
        self.width = text.chars().count();
        // A progress line that cannot be drawn is not worth failing the run for.
        let _ = write!(self.out, "\r{text}{}", " ".repeat(padding));
        let _ = self.out.flush();
    }

    /// Erases the line, leaving the cursor at its start for whatever is printed next.
    pub fn finish(&mut self) {
        if !self.enabled || self.shown.is_none() {
            return;
        }
        let _ = write!(self.out, "\r{}\r", " ".repeat(self.width));
        let _ = self.out.flush();
        self.shown = None;
        self.width = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_redrawn_in_place_and_erased_at_the_end() {
        let mut out = vec![];
        let mut line = ProgressLine::new(&mut out, true, "simulating", "days");
        line.update(9, 32);
        line.update(9, 32);
        line.update(32, 32);
        line.finish();
        let written = String::from_utf8(out).expect("text");
        assert_eq!(
            written,
            format!(
                "\rsimulating 9/32 days (28%)\rsimulating 32/32 days (100%)\r{}\r",
                " ".repeat("simulating 32/32 days (100%)".len())
            )
        );
    }

    #[test]
    fn nothing_is_written_when_the_output_is_not_a_terminal() {
        let mut out = vec![];
        let mut line = ProgressLine::new(&mut out, false, "simulating", "days");
        line.update(1, 2);
        line.finish();
        assert!(out.is_empty());
    }
}
