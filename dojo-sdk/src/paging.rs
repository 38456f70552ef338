//! Limit/offset paging over DefectDojo list endpoints, as a stream with a caller-set cap.
//!
//! DefectDojo answers lists as `{count, next, previous, results, prefetch}`. The stream asks for one
//! page at a time and follows `next`; it takes only the `offset` and `limit` from it, never the host,
//! because behind a proxy DefectDojo writes its internal address there (`http://127.0.0.1:8080/...`).

use crate::error::DojoError;
use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use std::future::Future;

/// One page of a DefectDojo list response. `build.rs` implements it for every `Paginated*List` type.
pub trait Page {
    /// The type of one result.
    type Item;
    /// Total number of matching objects, as DefectDojo counts them.
    fn count(&self) -> Option<i64>;
    /// URL of the next page, if any.
    fn next(&self) -> Option<&str>;
    /// The results of this page.
    fn into_results(self) -> Vec<Self::Item>;
}

/// Which slice of a list to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Page size (`limit`).
    pub limit: i64,
    /// Index of the first result (`offset`).
    pub offset: i64,
}

/// Where a page's `next` link points, read from its `limit` and `offset` query parameters.
pub fn next_request(next: &str, current: PageRequest) -> Result<PageRequest, DojoError> {
    let url = url::Url::parse(next).map_err(|e| DojoError::Decode {
        path: "next".into(),
        message: format!("not a URL: {e}"),
    })?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<i64>().ok())
    };
    let offset = param("offset").ok_or_else(|| DojoError::Decode {
        path: "next".into(),
        message: "next page link has no numeric offset".into(),
    })?;
    if offset <= current.offset {
        return Err(DojoError::Decode {
            path: "next".into(),
            message: format!(
                "next page offset {offset} does not advance past {}",
                current.offset
            ),
        });
    }
    Ok(PageRequest {
        limit: param("limit").filter(|l| *l > 0).unwrap_or(current.limit),
        offset,
    })
}

/// Streams every result of a list, page by page, stopping after `cap` results (if set).
///
/// `fetch` sends one request, e.g.
/// `|p| call(client.read().findings_list().limit(p.limit).offset(p.offset).send())`.
pub fn paginate<P, F, Fut>(
    page_size: i64,
    cap: Option<usize>,
    mut fetch: F,
) -> impl Stream<Item = Result<P::Item, DojoError>>
where
    P: Page,
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<P, DojoError>>,
{
    let first = PageRequest {
        limit: page_size.clamp(1, 1000),
        offset: 0,
    };
    let pages = stream::unfold(Some(first), move |state| {
        let request = state;
        let fut = request.map(&mut fetch);
        async move {
            let request = request?;
            let page = match fut?.await {
                Ok(page) => page,
                Err(e) => return Some((Err(e), None)),
            };
            let next = match page.next() {
                Some(link) => match next_request(link, request) {
                    Ok(next) => Some(next),
                    Err(e) => return Some((Err(e), None)),
                },
                None => None,
            };
            let results = page.into_results();
            // An empty page ends the list even if `next` says otherwise.
            let next = if results.is_empty() { None } else { next };
            Some((Ok(results), next))
        }
    });
    let items = pages
        .map_ok(|results| stream::iter(results.into_iter().map(Ok)))
        .try_flatten();
    items.take(cap.unwrap_or(usize::MAX))
}

/// Collects [`paginate`] into a `Vec`, stopping at the first error.
pub async fn collect_all<P, F, Fut>(
    page_size: i64,
    cap: Option<usize>,
    fetch: F,
) -> Result<Vec<P::Item>, DojoError>
where
    P: Page,
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<P, DojoError>>,
{
    paginate(page_size, cap, fetch).try_collect().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_gives_offset_and_limit_not_host() {
        let current = PageRequest {
            limit: 5,
            offset: 0,
        };
        let next = next_request(
            "http://127.0.0.1:8080/api/v2/findings/?limit=5&offset=5",
            current,
        )
        .unwrap();
        assert_eq!(
            next,
            PageRequest {
                limit: 5,
                offset: 5
            }
        );
    }

    #[test]
    fn next_link_that_does_not_advance_is_an_error() {
        let current = PageRequest {
            limit: 5,
            offset: 10,
        };
        assert!(next_request("http://x/?limit=5&offset=10", current).is_err());
        assert!(next_request("http://x/?limit=5", current).is_err());
        assert!(next_request("::", current).is_err());
    }
}
