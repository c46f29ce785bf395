//! Multi-row statements: the one place where values are written into SQL text.
//!
//! A run writes thousands of rows (bills, line links, shares, events). Sent one statement per
//! row, a month end takes minutes; bound as thousands of parameters, SQLite's parameter lookup
//! makes a statement's binding time grow with the square of its parameters. So a batch writes
//! the numbers and enum names the host made itself straight into a `VALUES` list, a few hundred
//! rows a statement, and binds only text that came from outside (event payloads, a policy's
//! reasons). [`Value`] can only hold those safe kinds: a number, `NULL`, an enum's name, or a
//! bound text.

use super::{StoreError, Tx};
use crate::domain::{BillStatus, DocumentKind, ShareStatus};
use sqlx::Row;

/// How many rows one multi-row statement carries.
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// One value of a `VALUES` row.
pub(super) enum Value<'a> {
    /// A number the host made (an id, an amount, a time).
    Int(i64),
    /// `NULL`.
    Null,
    /// The name of one of the host's statuses, kinds or events: lowercase words.
    Name(&'static str),
    /// Text from outside, bound as a parameter.
    Text(&'a str),
}

impl From<i64> for Value<'_> {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Value::Null, Value::Int)
    }
}

impl From<BillStatus> for Value<'_> {
    fn from(status: BillStatus) -> Self {
        Value::Name(status.as_str())
    }
}

impl From<ShareStatus> for Value<'_> {
    fn from(status: ShareStatus) -> Self {
        Value::Name(status.as_str())
    }
}

impl From<DocumentKind> for Value<'_> {
    fn from(kind: DocumentKind) -> Self {
        Value::Name(kind.as_str())
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Value::Null, Value::Text)
    }
}

/// A chunk's `VALUES` list, and the texts to bind to its `$n` parameters in order.
fn values_list<'a>(rows: &[Vec<Value<'a>>]) -> (String, Vec<&'a str>) {
    let mut texts = vec![];
    let rows: Vec<String> = rows
        .iter()
        .map(|row| {
            let values: Vec<String> = row
                .iter()
                .map(|value| match value {
                    Value::Int(number) => number.to_string(),
                    Value::Null => "NULL".to_string(),
                    // Enum names are lowercase words and underscores; nothing to escape.
                    Value::Name(name) => format!("'{name}'"),
                    Value::Text(text) => {
                        texts.push(*text);
                        format!("${}", texts.len())
                    }
                })
                .collect();
            format!("({})", values.join(", "))
        })
        .collect();
    (rows.join(", "), texts)
}

/// Runs `{head} VALUES … {tail}` over `rows`, a chunk a statement; gives the rows each statement
/// affected, in total.
pub(super) async fn execute(tx: &mut Tx, head: &str, tail: &str, rows: &[Vec<Value<'_>>]) -> Result<u64, StoreError> {
    let mut affected = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let (values, texts) = values_list(chunk);
        let sql = format!("{head} VALUES {values} {tail}");
        let mut query = sqlx::query(&sql).persistent(false);
        for text in texts {
            query = query.bind(text);
        }
        affected += query.execute(tx.conn()).await?.rows_affected();
    }
    Ok(affected)
}

/// Inserts `rows` with `{head} VALUES … RETURNING id`, a chunk a statement, and gives their new
/// ids in the order of `rows`.
pub(super) async fn insert_returning_ids(
    tx: &mut Tx,
    head: &str,
    rows: &[Vec<Value<'_>>],
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let (values, texts) = values_list(chunk);
        let sql = format!("{head} VALUES {values} RETURNING id");
        let mut query = sqlx::query(&sql).persistent(false);
        for text in texts {
            query = query.bind(text);
        }
        let mut chunk_ids = query
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<Vec<_>, _>>()?;
        // Both databases number one statement's rows in the order of its VALUES list, but neither
        // promises RETURNING in that order: sorting the new ids restores it.
        chunk_ids.sort_unstable();
        if chunk_ids.len() != chunk.len() {
            return Err(StoreError::Corrupt(format!(
                "{head}: expected {} new rows, got {}",
                chunk.len(),
                chunk_ids.len()
            )));
        }
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_bound_and_host_values_are_written() {
        let rows = vec![
            vec![Value::Int(7), Value::from(BillStatus::Open), Value::Null, Value::Text("it's")],
            vec![Value::Int(-1), Value::from(ShareStatus::Pending), Value::from(Some(3)), Value::Text("x")],
        ];
        let (values, texts) = values_list(&rows);
        assert_eq!(values, "(7, 'open', NULL, $1), (-1, 'pending', 3, $2)");
        assert_eq!(texts, ["it's", "x"]);
    }
}
