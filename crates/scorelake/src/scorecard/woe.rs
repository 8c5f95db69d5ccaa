//! Weight of evidence and information value from per-bin counts.
//!
//! WoE = ln(%non-events / %events) per bin, so riskier bins (more events
//! than their share) are negative; IV = Σ (%non-events − %events)·WoE.
//! When any bin of a variable has no events or no non-events, every bin of
//! that variable gets `SMOOTHING` (0.5) added to both counts before the
//! shares are taken (and the totals grow by 0.5 per bin), so WoE and IV are
//! always finite; otherwise the counts are used as they are.

use serde::{Deserialize, Serialize};

/// Added to both counts of every bin of a variable that has an empty side.
pub const SMOOTHING: f64 = 0.5;

/// The (weighted) counts of one bin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Weight of the rows with target 0.
    pub non_events: f64,
    /// Weight of the rows with target 1.
    pub events: f64,
}

impl Counts {
    /// All rows' weight.
    pub fn total(&self) -> f64 {
        self.non_events + self.events
    }

    /// Events over all rows (None for an empty bin).
    pub fn event_rate(&self) -> Option<f64> {
        (self.total() > 0.0).then(|| self.events / self.total())
    }

    /// The counts of two bins together.
    pub fn plus(self, other: Counts) -> Counts {
        Counts {
            non_events: self.non_events + other.non_events,
            events: self.events + other.events,
        }
    }
}

/// WoE and IV contribution of each bin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evidence {
    /// ln(%non-events / %events).
    pub woe: f64,
    /// (%non-events − %events)·WoE (≥ 0).
    pub iv: f64,
}

/// WoE and IV per bin of one variable (bins that hold no rows get WoE 0 and
/// IV 0: they carry no evidence).
///
/// ```
/// use scorelake::scorecard::{evidence, Counts};
/// let bins = [Counts { non_events: 80.0, events: 20.0 }, Counts { non_events: 20.0, events: 80.0 }];
/// let e = evidence(&bins);
/// assert!((e[0].woe - (0.8f64 / 0.2).ln()).abs() < 1e-12);
/// assert!(e[1].woe < 0.0); // the riskier bin
/// let iv: f64 = e.iter().map(|b| b.iv).sum();
/// assert!((iv - 2.0 * 0.6 * 4f64.ln()).abs() < 1e-12);
/// ```
pub fn evidence(bins: &[Counts]) -> Vec<Evidence> {
    let used: Vec<&Counts> = bins.iter().filter(|c| c.total() > 0.0).collect();
    let smooth = used.iter().any(|c| c.events <= 0.0 || c.non_events <= 0.0);
    let a = if smooth { SMOOTHING } else { 0.0 };
    let k = used.len() as f64;
    let goods: f64 = used.iter().map(|c| c.non_events).sum::<f64>() + a * k;
    let bads: f64 = used.iter().map(|c| c.events).sum::<f64>() + a * k;
    bins.iter()
        .map(|c| {
            if c.total() <= 0.0 || goods <= 0.0 || bads <= 0.0 {
                return Evidence { woe: 0.0, iv: 0.0 };
            }
            let g = (c.non_events + a) / goods;
            let b = (c.events + a) / bads;
            let woe = (g / b).ln();
            Evidence {
                woe,
                iv: (g - b) * woe,
            }
        })
        .collect()
}

/// The information value of a variable binned as `bins`.
pub fn information_value(bins: &[Counts]) -> f64 {
    evidence(bins).iter().map(|e| e.iv).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sides_are_smoothed_and_finite() {
        let bins = [
            Counts {
                non_events: 10.0,
                events: 0.0,
            },
            Counts {
                non_events: 5.0,
                events: 5.0,
            },
            Counts::default(),
        ];
        let e = evidence(&bins);
        // goods 15 + 1, bads 5 + 1 over the two used bins.
        let want0 = ((10.5f64 / 16.0) / (0.5 / 6.0)).ln();
        assert!((e[0].woe - want0).abs() < 1e-12);
        assert!(e.iter().all(|b| b.woe.is_finite() && b.iv >= 0.0));
        assert_eq!(e[2], Evidence { woe: 0.0, iv: 0.0 });
    }

    #[test]
    fn equal_rates_carry_no_evidence() {
        let c = Counts {
            non_events: 30.0,
            events: 10.0,
        };
        let e = evidence(&[c, c, c]);
        assert!(e.iter().all(|b| b.woe.abs() < 1e-15 && b.iv.abs() < 1e-15));
    }
}
