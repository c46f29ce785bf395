//! Lists a page at a time: `?limit=` (default 50, at most 500) and `?after=` (the `next` of the
//! page before). Every list answers `{"data": [...], "next": "…" | null}` in a stable order.

use super::error::ApiError;
use crate::store::PageRequest;
use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Rows per page when `limit` is left out.
pub const DEFAULT_LIMIT: u32 = 50;

/// The most rows a page may hold.
pub const MAX_LIMIT: u32 = 500;

/// The query string of a list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// The `next` of the page before; left out for the first page.
    #[param(min_length = 1)]
    after: Option<String>,
}

/// Which page a list request asks for.
pub struct Paging {
    /// Rows per page.
    pub limit: u32,
    /// The cursor, as the page before gave it.
    pub after: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<PageQuery>::from_request_parts(parts, state).await.map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("{}; lists take ?limit=1..{MAX_LIMIT} and ?after=NEXT", error.body_text()),
            )
        })?;
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(format!("limit is {limit}; give 1 to {MAX_LIMIT}")));
        }
        Ok(Paging { limit, after: query.after })
    }
}

impl Paging {
    /// The request for a list whose cursor is a row's number.
    pub fn by_id(&self) -> Result<PageRequest, ApiError> {
        let after = self
            .after
            .as_deref()
            .map(|text| {
                text.parse::<i64>().map_err(|_| {
                    ApiError::invalid(format!(
                        "after `{text}` is not a cursor this list gave; pass the `next` of the page before"
                    ))
                })
            })
            .transpose()?;
        Ok(PageRequest { after, limit: self.limit })
    }
}

/// One page of a list, and where the next one starts.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    /// The rows, in the list's order.
    pub data: Vec<T>,
    /// Pass it as `?after=` for the next page; none when this page is the last.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// The page of `rows`, read one past `limit`: the extra row only says another page follows,
    /// which starts after the `key` of this page's last row.
    pub fn of<K: ToString>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> K) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more { rows.last().map(|row| key(row).to_string()) } else { None };
        Page { data: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_points_at_the_next_and_the_last_page_does_not() {
        let page = Page::of(vec![9, 8, 7], 2, |row| *row);
        assert_eq!((page.data, page.next), (vec![9, 8], Some("8".to_string())));
        let page = Page::of(vec![9, 8], 2, |row| *row);
        assert_eq!((page.data, page.next), (vec![9, 8], None));
    }
}
