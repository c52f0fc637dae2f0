//! How old the national view is: percentiles of per-dossier view ages (pure).
//!
//! A run records p50 and p95 of "now − last successful look-up" over the active provincial
//! dossiers (`Store::view_ages`), and the share of the look-up budget it used.

/// The `p`-th percentile (0 < p ≤ 100) of `values` by the nearest-rank method: the smallest
/// value with at least p % of the values at or below it. `None` for no values.
pub fn percentile(values: &[i64], p: f64) -> Option<i64> {
    if values.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Share of the per-cycle look-up budget a cycle used (may exceed 1 only by a bug).
pub fn budget_used(lookups: u64, per_cycle: usize) -> Option<f64> {
    (per_cycle > 0).then(|| lookups as f64 / per_cycle as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[3, 1, 2], 50.0), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 95.0), Some(4));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1], 0.0), None);
    }

    #[test]
    fn budget() {
        assert_eq!(budget_used(750, 3000), Some(0.25));
        assert_eq!(budget_used(0, 3000), Some(0.0));
        assert_eq!(budget_used(1, 0), None);
    }
}
