//! Optimal binning: merge fine pre-bins into at most `max_bins` contiguous
//! bins with the largest information value, subject to a monotonic event
//! rate and per-bin size and count constraints.
//!
//! The search is exact: IV is a sum over bins, so dynamic programming over
//! (bins used, start of the last bin, end of the last bin) finds the best
//! partition among all that meet the constraints, in O(max_bins · P³) for P
//! pre-bins (P ≤ a few hundred).

use serde::{Deserialize, Serialize};

use super::woe::{Counts, SMOOTHING};

/// Which way the event rate must go from the first bin to the last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monotonic {
    /// Strictly rising.
    Ascending,
    /// Strictly falling.
    Descending,
    /// Whichever of the two gives the larger IV.
    #[default]
    Auto,
    /// No constraint on the event rate.
    None,
}

/// Constraints on the merged bins.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraints {
    /// At most this many bins (≥ 1).
    pub max_bins: usize,
    /// Each bin holds at least this share of the total weight.
    pub min_bin_size: f64,
    /// Each bin holds at least this event weight.
    pub min_events: f64,
    /// Each bin holds at least this non-event weight.
    pub min_non_events: f64,
    /// The event rate's direction.
    pub monotonic: Monotonic,
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            max_bins: 10,
            min_bin_size: 0.05,
            min_events: 1.0,
            min_non_events: 1.0,
            monotonic: Monotonic::Auto,
        }
    }
}

/// The merged bins as half-open ranges of pre-bins, and the direction used.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    /// `[start, end)` over the pre-bins, in order, covering all of them.
    pub groups: Vec<(usize, usize)>,
    /// The direction the event rate takes (`None` when unconstrained).
    pub monotonic: Monotonic,
    /// The IV of the merged bins.
    pub iv: f64,
}

/// Merges `prebins` under `limits`. The error says which constraint cannot
/// be met even by a single bin.
///
/// ```
/// use scorelake::scorecard::{merge_optimal, Constraints, Counts, Monotonic};
/// let c = |g: f64, b: f64| Counts { non_events: g, events: b };
/// // Event rates 10%, 30%, 20%, 50%: ascending needs bins 2 and 3 merged.
/// let pre = [c(90.0, 10.0), c(70.0, 30.0), c(80.0, 20.0), c(50.0, 50.0)];
/// let limits = Constraints { min_bin_size: 0.0, monotonic: Monotonic::Ascending, ..Constraints::default() };
/// let m = merge_optimal(&pre, &limits).unwrap();
/// assert_eq!(m.groups, vec![(0, 1), (1, 3), (3, 4)]);
/// ```
pub fn merge_optimal(prebins: &[Counts], limits: &Constraints) -> Result<Merged, String> {
    let all = prebins.iter().fold(Counts::default(), |a, c| a.plus(*c));
    if prebins.is_empty() || all.total() <= 0.0 {
        return Err("there are no values to bin".into());
    }
    if limits.max_bins < 1 {
        return Err("max_n_bins must be at least 1".into());
    }
    if all.events < limits.min_events {
        return Err(format!(
            "min_events {} cannot be met: there are only {} events in all",
            limits.min_events, all.events
        ));
    }
    if all.non_events < limits.min_non_events {
        return Err(format!(
            "min_non_events {} cannot be met: there are only {} non-events in all",
            limits.min_non_events, all.non_events
        ));
    }
    if limits.min_bin_size > 1.0 {
        return Err(format!(
            "min_bin_size {} cannot be met: it is a share of the rows (at most 1)",
            limits.min_bin_size
        ));
    }
    let directions: &[Monotonic] = match limits.monotonic {
        Monotonic::Auto => &[Monotonic::Ascending, Monotonic::Descending],
        Monotonic::Ascending => &[Monotonic::Ascending],
        Monotonic::Descending => &[Monotonic::Descending],
        Monotonic::None => &[Monotonic::None],
    };
    let search = Search::new(prebins, all, limits);
    directions
        .iter()
        .filter_map(|d| search.best(*d))
        .max_by(|a, b| a.iv.total_cmp(&b.iv))
        .ok_or_else(|| "no binning meets the constraints".to_string())
}

struct Search<'a> {
    /// Prefix sums of the pre-bins' counts.
    prefix: Vec<Counts>,
    all: Counts,
    limits: &'a Constraints,
}

impl Search<'_> {
    fn new<'a>(prebins: &[Counts], all: Counts, limits: &'a Constraints) -> Search<'a> {
        let mut prefix = vec![Counts::default()];
        for c in prebins {
            let last = prefix[prefix.len() - 1];
            prefix.push(last.plus(*c));
        }
        Search {
            prefix,
            all,
            limits,
        }
    }

    fn bin(&self, s: usize, e: usize) -> Counts {
        Counts {
            non_events: self.prefix[e].non_events - self.prefix[s].non_events,
            events: self.prefix[e].events - self.prefix[s].events,
        }
    }

    fn feasible(&self, c: Counts) -> bool {
        c.total() > 0.0
            && c.total() >= self.limits.min_bin_size * self.all.total() * (1.0 - 1e-12)
            && c.events >= self.limits.min_events
            && c.non_events >= self.limits.min_non_events
    }

    /// The bin's IV term (a bin with an empty side is smoothed on its own).
    fn value(&self, c: Counts) -> f64 {
        let a = if c.events <= 0.0 || c.non_events <= 0.0 {
            SMOOTHING
        } else {
            0.0
        };
        let g = (c.non_events + a) / self.all.non_events.max(a);
        let b = (c.events + a) / self.all.events.max(a);
        (g - b) * (g / b).ln()
    }

    /// Whether a bin with rate `next` may follow one with rate `prev`.
    fn follows(direction: Monotonic, prev: f64, next: f64) -> bool {
        match direction {
            Monotonic::Ascending => next > prev,
            Monotonic::Descending => next < prev,
            _ => true,
        }
    }

    #[allow(clippy::needless_range_loop)] // the recurrence reads clearest by index
    fn best(&self, direction: Monotonic) -> Option<Merged> {
        let p = self.prefix.len() - 1;
        let rate = |s: usize, e: usize| self.bin(s, e).event_rate().unwrap_or(0.0);
        // score[b][s][e]: best IV of pre-bins [0, e) in b + 1 bins, the last [s, e).
        let bins = self.limits.max_bins.min(p);
        let mut score = vec![vec![vec![f64::NEG_INFINITY; p + 1]; p + 1]; bins];
        let mut from = vec![vec![vec![usize::MAX; p + 1]; p + 1]; bins];
        for e in 1..=p {
            let c = self.bin(0, e);
            if self.feasible(c) {
                score[0][0][e] = self.value(c);
            }
        }
        for b in 1..bins {
            for s in 1..p {
                for e in s + 1..=p {
                    let c = self.bin(s, e);
                    if !self.feasible(c) {
                        continue;
                    }
                    let r = rate(s, e);
                    let mut best = (f64::NEG_INFINITY, usize::MAX);
                    for q in 0..s {
                        let prev = score[b - 1][q][s];
                        if prev > best.0 && Self::follows(direction, rate(q, s), r) {
                            best = (prev, q);
                        }
                    }
                    if best.1 != usize::MAX {
                        score[b][s][e] = best.0 + self.value(c);
                        from[b][s][e] = best.1;
                    }
                }
            }
        }
        let mut end = (f64::NEG_INFINITY, 0, 0);
        for (b, per_start) in score.iter().enumerate() {
            for (s, per_end) in per_start.iter().enumerate() {
                // Prefer fewer bins on equal IV (strictly greater to replace).
                if per_end[p] > end.0 + 1e-15 {
                    end = (per_end[p], b, s);
                }
            }
        }
        if end.0 == f64::NEG_INFINITY {
            return None;
        }
        let (iv, mut b, mut s) = end;
        let mut groups = vec![(s, p)];
        let mut e = p;
        while b > 0 {
            let q = from[b][s][e];
            groups.push((q, s));
            e = s;
            s = q;
            b -= 1;
        }
        groups.reverse();
        Some(Merged {
            groups,
            monotonic: direction,
            iv,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(g: f64, b: f64) -> Counts {
        Counts {
            non_events: g,
            events: b,
        }
    }

    /// Every partition into contiguous groups (2^(P−1) of them).
    fn partitions(p: usize) -> Vec<Vec<(usize, usize)>> {
        (0..1u32 << (p - 1))
            .map(|mask| {
                let mut groups = vec![];
                let mut start = 0;
                for i in 1..p {
                    if mask & (1 << (i - 1)) != 0 {
                        groups.push((start, i));
                        start = i;
                    }
                }
                groups.push((start, p));
                groups
            })
            .collect()
    }

    #[test]
    fn dynamic_programme_equals_brute_force() {
        let mut next = crate::test_rng::xorshift(7u64);
        for case in 0..300 {
            let p = 1 + (next() % 9) as usize;
            let pre: Vec<Counts> = (0..p)
                .map(|_| c((next() % 50) as f64, (next() % 12) as f64))
                .collect();
            let limits = Constraints {
                max_bins: 1 + (next() % 5) as usize,
                min_bin_size: [0.0, 0.05, 0.2][(next() % 3) as usize],
                min_events: (next() % 3) as f64,
                min_non_events: (next() % 3) as f64,
                monotonic: [Monotonic::Ascending, Monotonic::Descending, Monotonic::None]
                    [(next() % 3) as usize],
            };
            let search = Search::new(
                &pre,
                pre.iter().fold(Counts::default(), |a, x| a.plus(*x)),
                &limits,
            );
            let brute = partitions(p)
                .into_iter()
                .filter(|g| g.len() <= limits.max_bins)
                .filter(|g| g.iter().all(|(s, e)| search.feasible(search.bin(*s, *e))))
                .filter(|g| {
                    g.windows(2).all(|w| {
                        let r = |(s, e): (usize, usize)| search.bin(s, e).event_rate().unwrap();
                        Search::follows(limits.monotonic, r(w[0]), r(w[1]))
                    })
                })
                .map(|g| {
                    g.iter()
                        .map(|(s, e)| search.value(search.bin(*s, *e)))
                        .sum::<f64>()
                })
                .fold(f64::NEG_INFINITY, f64::max);
            match merge_optimal(&pre, &limits) {
                Ok(m) => {
                    assert!(
                        (m.iv - brute).abs() < 1e-9,
                        "case {case}: {} vs {brute}",
                        m.iv
                    );
                    let covered: Vec<usize> = m.groups.iter().flat_map(|(s, e)| *s..*e).collect();
                    assert_eq!(covered, (0..p).collect::<Vec<_>>());
                }
                Err(_) => assert!(
                    brute == f64::NEG_INFINITY,
                    "case {case}: brute found {brute}"
                ),
            }
        }
    }

    #[test]
    fn impossible_constraints_are_named() {
        let pre = [c(10.0, 1.0), c(10.0, 0.0)];
        let limits = Constraints {
            min_events: 5.0,
            ..Constraints::default()
        };
        let err = merge_optimal(&pre, &limits).unwrap_err();
        assert!(
            err.contains("min_events 5") && err.contains("only 1 events"),
            "{err}"
        );
    }

    #[test]
    fn auto_picks_the_direction_with_more_information() {
        let pre = [c(50.0, 50.0), c(70.0, 30.0), c(90.0, 10.0)];
        let m = merge_optimal(
            &pre,
            &Constraints {
                min_bin_size: 0.0,
                ..Constraints::default()
            },
        )
        .unwrap();
        assert_eq!(m.monotonic, Monotonic::Descending);
        assert_eq!(m.groups.len(), 3);
    }
}
