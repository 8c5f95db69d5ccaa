//! A scorecard pipeline run as one self-contained HTML page: every
//! sample's Gini and KS, score distribution, cumulative capture and KS
//! curves by score band (training, holdout and out of time on one chart),
//! the IV table, the model and the WoE of every bin of its variables.

use std::fmt::Write as _;

use super::report::ScorecardPipelineReport;
use crate::html::{Axis, Line, esc, line_chart, page};
use crate::scorecard::{Evaluation, VariableBins};

/// Event rate per score band as bars (one chart per sample).
fn band_bars(e: &Evaluation) -> String {
    let (w, h, pad) = (26.0, 110.0, 20.0);
    let top = e
        .bands
        .iter()
        .map(|b| b.event_rate)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let mut svg = format!(
        "<svg width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"event rate by score band\">",
        pad * 2.0 + w * e.bands.len() as f64,
        h + 10.0
    );
    for (i, b) in e.bands.iter().enumerate() {
        let bh = h * b.event_rate / top;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#66a61e\"><title>band {}: scores {:.0} to {:.0}, event rate {:.2}%</title></rect>",
            pad + w * i as f64 + 2.0,
            h - bh,
            w - 4.0,
            b.band,
            b.from,
            b.to,
            b.event_rate * 100.0
        );
    }
    svg + "</svg>"
}

/// Colours of the samples' lines: training, holdout, out of time.
const COLOURS: [&str; 3] = ["#1b9e77", "#d95f02", "#7570b3"];

/// Cumulative shares from the riskiest band (the lowest scores) on:
/// (population, events, non-events), starting at zero.
fn cumulative(e: &Evaluation) -> Vec<(f64, f64, f64)> {
    let non_events = (e.weight - e.events).max(1e-12);
    let mut out = vec![(0.0, 0.0, 0.0)];
    let (mut n, mut ev) = (0.0, 0.0);
    for b in &e.bands {
        n += b.count;
        ev += b.events;
        out.push((
            n / e.weight.max(1e-12),
            ev / e.events.max(1e-12),
            (n - ev) / non_events,
        ));
    }
    out
}

/// The samples' score distribution (share of weight per band), cumulative
/// capture of events and KS curves, one chart each, the samples overlaid.
fn curves(samples: &[(&str, &Evaluation)]) -> String {
    let mut out = String::from(
        "<h2>Score distribution and ranking by score band</h2>\n<p class=\"note\">Each sample in about ten bands of equal weight (a score never straddles two), lowest scores (riskiest) first; the curves join the bands' cumulative shares.</p>\n",
    );
    let bands = samples
        .iter()
        .map(|(_, e)| e.bands.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let distribution: Vec<Line> = samples
        .iter()
        .zip(COLOURS)
        .map(|((name, e), colour)| Line {
            name,
            colour,
            points: e
                .bands
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let x = if bands > 1 {
                        i as f64 / (bands - 1) as f64
                    } else {
                        0.5
                    };
                    (x, b.count / e.weight.max(1e-12))
                })
                .collect(),
        })
        .collect();
    let top = distribution
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let scaled: Vec<Line> = distribution
        .into_iter()
        .map(|l| Line {
            points: l.points.into_iter().map(|(x, y)| (x, y / top)).collect(),
            ..l
        })
        .collect();
    let _ = write!(
        out,
        "<h3>Score distribution</h3>{}",
        line_chart(
            &scaled,
            &Axis {
                name: "score band",
                ticks: ["1".into(), String::new(), bands.to_string()],
            },
            &Axis {
                name: "share of weight",
                ticks: [
                    "0".into(),
                    format!("{:.1}%", top * 50.0),
                    format!("{:.1}%", top * 100.0)
                ],
            },
            false
        )
    );
    let capture: Vec<Line> = samples
        .iter()
        .zip(COLOURS)
        .map(|((name, e), colour)| Line {
            name,
            colour,
            points: cumulative(e)
                .into_iter()
                .map(|(n, ev, _)| (n, ev))
                .collect(),
        })
        .collect();
    let _ = write!(
        out,
        "<h3>Cumulative capture of events (Gini)</h3>{}",
        line_chart(
            &capture,
            &Axis::unit("share of population"),
            &Axis::unit("share of events"),
            true
        )
    );
    for ((name, e), _) in samples.iter().zip(COLOURS) {
        let c = cumulative(e);
        let lines = [
            Line {
                name: "events",
                colour: "#d95f02",
                points: c.iter().map(|&(n, ev, _)| (n, ev)).collect(),
            },
            Line {
                name: "non-events",
                colour: "#1b9e77",
                points: c.iter().map(|&(n, _, ne)| (n, ne)).collect(),
            },
        ];
        let _ = write!(
            out,
            "<h3>KS, {} (KS {:.4} at score {:.0})</h3>{}",
            esc(name),
            e.ks,
            e.ks_score,
            line_chart(
                &lines,
                &Axis::unit("share of population"),
                &Axis::unit("cumulative share"),
                false
            )
        );
    }
    out
}

/// Each model variable's bins: label, share, event rate and WoE, with the
/// WoE as a bar left (riskier) or right (safer) of zero.
fn woe_tables(bins: &[VariableBins]) -> String {
    let mut out = String::from("<h2>WoE per bin</h2>\n");
    for v in bins {
        let top = v
            .bins
            .iter()
            .map(|b| b.woe.abs())
            .fold(0.0f64, f64::max)
            .max(1e-12);
        let _ = write!(
            out,
            "<h3>{}</h3>\n<table><tr><th>bin</th><th>share</th><th>event rate</th><th>WoE</th><th></th></tr>\n",
            esc(&v.column)
        );
        for b in &v.bins {
            let half = 60.0;
            let len = half * b.woe.abs() / top;
            let x = if b.woe < 0.0 { half - len } else { half };
            let colour = if b.woe < 0.0 { "#d95f02" } else { "#1b9e77" };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{:.4}</td><td>{}</td><td>{:.4}</td><td><svg width=\"120\" height=\"12\" style=\"margin:0\"><line x1=\"60\" y1=\"0\" x2=\"60\" y2=\"12\" stroke=\"#999\"/><rect x=\"{x:.1}\" y=\"2\" width=\"{len:.1}\" height=\"8\" fill=\"{colour}\"/></svg></td></tr>",
                esc(&b.label),
                b.share,
                b.event_rate.map_or(String::new(), |r| format!("{r:.4}")),
                b.woe
            );
        }
        out.push_str("</table>\n");
    }
    out
}

impl ScorecardPipelineReport {
    /// The run as one self-contained HTML page (`report.html` in the output
    /// folder): Gini/KS of every sample, score distribution, capture and KS
    /// curves by score band, the IV table (selected variables marked), the
    /// model, WoE per bin of its variables, and event rates by score band.
    pub fn to_html(&self) -> String {
        let mut body = String::from(
            "<h2>Performance</h2>\n<table><tr><th>sample</th><th>weight</th><th>events</th><th>AUC</th><th>Gini</th><th>KS</th></tr>\n",
        );
        let samples = [
            ("training", Some(&self.train)),
            ("holdout", self.holdout.as_ref()),
            ("out of time", self.oot.as_ref()),
        ];
        for (name, e) in samples {
            if let Some(e) = e {
                let _ = writeln!(
                    body,
                    "<tr><td>{name}</td><td>{:.0}</td><td>{:.0}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
                    e.weight, e.events, e.auc, e.gini, e.ks
                );
            }
        }
        body.push_str("</table>\n");
        let present: Vec<(&str, &Evaluation)> = samples
            .iter()
            .filter_map(|(name, e)| e.filter(|e| !e.bands.is_empty()).map(|e| (*name, e)))
            .collect();
        body.push_str(&curves(&present));
        body.push_str("<h2>Information value</h2>\n<table><tr><th>variable</th><th>IV</th><th>in the model</th></tr>\n");
        for (v, iv) in &self.iv {
            let chosen = self.selected.contains(v);
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{iv:.4}</td><td{}>{}</td></tr>",
                esc(v),
                if chosen { " class=\"PASS\"" } else { "" },
                if chosen { "yes" } else { "no" }
            );
        }
        body.push_str("</table>\n<h2>Model</h2>\n<table><tr><th>term</th><th>estimate</th><th>std error</th><th>z</th><th>p-value</th></tr>\n");
        for c in &self.model.coefficients {
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td>{:.6}</td><td>{:.6}</td><td>{:.3}</td><td>{:.4}</td></tr>",
                esc(&c.name),
                c.estimate,
                c.std_error,
                c.z,
                c.p_value
            );
        }
        body.push_str("</table>\n");
        body.push_str(&woe_tables(&self.bins));
        body.push_str("<h2>Event rate by score band</h2>\n");
        for (name, e) in samples {
            if let Some(e) = e.filter(|e| !e.bands.is_empty()) {
                let _ = writeln!(body, "<h3>{name}</h3>{}", band_bars(e));
            }
        }
        page("Scorecard report", &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_shares_run_from_the_riskiest_band() {
        let band = |band, count, events| crate::scorecard::Band {
            band,
            from: 0.0,
            to: 0.0,
            count,
            events,
            event_rate: events / count,
        };
        let e = Evaluation {
            auc: 0.7,
            gini: 0.4,
            ks: 0.3,
            ks_score: 600.0,
            weight: 100.0,
            events: 15.0,
            bands: vec![band(1, 40.0, 10.0), band(2, 60.0, 5.0)],
        };
        let c = cumulative(&e);
        let expected = [
            (0.0, 0.0, 0.0),
            (0.4, 10.0 / 15.0, 30.0 / 85.0),
            (1.0, 1.0, 1.0),
        ];
        assert_eq!(c.len(), expected.len());
        for (got, want) in c.iter().zip(expected) {
            assert!((got.0 - want.0).abs() < 1e-12, "{got:?} {want:?}");
            assert!((got.1 - want.1).abs() < 1e-12, "{got:?} {want:?}");
            assert!((got.2 - want.2).abs() < 1e-12, "{got:?} {want:?}");
        }
    }
}
