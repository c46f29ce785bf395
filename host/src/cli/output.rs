//! Writing results to stdout and messages to stderr. A reader that goes away
//! (`autobill simulate … | head`) ends the command quietly instead of with a panic: every line
//! goes through [`line`], which reports a broken pipe as [`Closed`], and every message through
//! [`note`], which drops what a closed stderr cannot take.

use autobill::domain::Event;
use std::io::Write;

/// Stdout was closed by its reader; the command stops without an error message.
#[derive(Debug)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for Closed {}

/// Writes one line to stdout.
pub fn line(text: impl std::fmt::Display) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}") {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(Closed.into()),
        other => Ok(other?),
    }
}

/// Writes text as it is (it ends its own lines).
pub fn text(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(Closed.into()),
        other => Ok(other?),
    }
}

/// Writes one line to stderr: an error or a note for the person running the command. A stderr
/// nobody reads any more loses the line; the command goes on to its exit status.
pub fn note(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// How `simulate` prints events.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EventFormat {
    /// One JSON event a line.
    Jsonl,
    /// Aligned columns for people.
    Table,
}

/// An event as a JSON object with its `at` in the practice's offset.
pub fn event_json(event: &Event, tz: chrono_tz::Tz) -> anyhow::Result<serde_json::Value> {
    let mut json = serde_json::to_value(&event.kind)?;
    if let Some(object) = json.as_object_mut() {
        object.insert("at".into(), event.at.with_timezone(&tz).to_rfc3339().into());
    }
    Ok(json)
}

/// Prints events in `format`. With `practice` (a simulation of several practices), each JSON event
/// carries the practice's name, and a table starts with a line naming it.
pub fn events(events: &[Event], tz: chrono_tz::Tz, format: EventFormat, practice: Option<&str>) -> anyhow::Result<()> {
    if let (Some(name), EventFormat::Table) = (practice, format) {
        line(format_args!("== {name} =="))?;
    }
    for event in events {
        match format {
            EventFormat::Jsonl => {
                let mut json = event_json(event, tz)?;
                if let (Some(name), Some(object)) = (practice, json.as_object_mut()) {
                    object.insert("practice".into(), name.into());
                }
                line(json)?
            }
            EventFormat::Table => {
                let mut json = serde_json::to_value(&event.kind)?;
                let name = json.get("event").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                if let Some(object) = json.as_object_mut() {
                    object.remove("event");
                }
                let details: Vec<String> =
                    json.as_object().into_iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
                let at = event.at.with_timezone(&tz);
                line(format_args!("{}  {name:<18} {}", at.format("%Y-%m-%d %H:%M %Z"), details.join(" ")))?;
            }
        }
    }
    Ok(())
}
