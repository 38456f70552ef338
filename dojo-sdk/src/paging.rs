//! Limit/offset paging over DefectDojo list endpoints.

/// One page of a DefectDojo list response (`{count, next, previous, results, prefetch}`).
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
