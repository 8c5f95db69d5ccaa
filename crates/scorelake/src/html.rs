//! Self-contained HTML pages for reports: one inline style sheet, no
//! scripts, links or remote assets, so a page reads offline and prints.

/// `text` safe inside HTML.
pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A whole page titled `title` around `body`, with the reports' styles
/// (status and verdict colours, tables).
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}th,td{{border:1px solid #ccc;padding:3px 8px;text-align:right}}\
         th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}\
         .PASS,.stable{{background:#d9f2d9}}.WARN,.watch{{background:#fff2cc}}.FAIL,.shifted{{background:#f8d0d0}}\
         .note{{color:#666}}svg{{display:block;margin:.5em 0 1.5em}}\n</style></head>\n<body>\n<h1>{t}</h1>\n{body}</body></html>\n",
        t = esc(title)
    )
}

/// One line of a [`line_chart`]: its name, colour and points (x, y in 0..=1).
pub(crate) struct Line<'a> {
    pub(crate) name: &'a str,
    pub(crate) colour: &'a str,
    pub(crate) points: Vec<(f64, f64)>,
}

/// An axis: its name and the labels of its start, middle and end.
pub(crate) struct Axis<'a> {
    pub(crate) name: &'a str,
    pub(crate) ticks: [String; 3],
}

impl<'a> Axis<'a> {
    /// An axis of shares from 0 to 1.
    pub(crate) fn unit(name: &'a str) -> Axis<'a> {
        Axis {
            name,
            ticks: ["0".into(), "0.5".into(), "1".into()],
        }
    }
}

/// Lines on a unit square (points' x and y from 0 to 1, labelled by the
/// axes' ticks) as an inline SVG chart with its axis names, a dashed
/// diagonal when `diagonal`, and a legend.
pub(crate) fn line_chart(
    lines: &[Line<'_>],
    x_axis: &Axis<'_>,
    y_axis: &Axis<'_>,
    diagonal: bool,
) -> String {
    use std::fmt::Write as _;
    let (size, left, top): (f64, f64, f64) = (260.0, 62.0, 10.0);
    let legend = 22.0 * lines.len() as f64;
    let (w, h) = (left + size + 190.0, (top + size + 40.0).max(top + legend));
    let x = |v: f64| left + size * v.clamp(0.0, 1.0);
    let y = |v: f64| top + size * (1.0 - v.clamp(0.0, 1.0));
    let mut svg = format!(
        "<svg width=\"{w:.0}\" height=\"{h:.0}\" role=\"img\" aria-label=\"{}\">\
         <rect x=\"{left}\" y=\"{top}\" width=\"{size}\" height=\"{size}\" fill=\"none\" stroke=\"#999\"/>",
        esc(&format!("{} by {}", y_axis.name, x_axis.name))
    );
    for (i, t) in [0.0, 0.5, 1.0].into_iter().enumerate() {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            x(t),
            top + size + 14.0,
            esc(&x_axis.ticks[i]),
            left - 4.0,
            y(t) + 4.0,
            esc(&y_axis.ticks[i])
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\
         <text x=\"12\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 12 {:.1})\">{}</text>",
        left + size / 2.0,
        top + size + 32.0,
        esc(x_axis.name),
        top + size / 2.0,
        top + size / 2.0,
        esc(y_axis.name)
    );
    if diagonal {
        let _ = write!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>",
            x(0.0),
            y(0.0),
            x(1.0),
            y(1.0)
        );
    }
    for (i, line) in lines.iter().enumerate() {
        let points: Vec<String> = line
            .points
            .iter()
            .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"><title>{n}</title></polyline>\
             <rect x=\"{lx:.1}\" y=\"{ly:.1}\" width=\"14\" height=\"4\" fill=\"{c}\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"12\">{n}</text>",
            points.join(" "),
            c = line.colour,
            n = esc(line.name),
            lx = left + size + 16.0,
            ly = top + 8.0 + 20.0 * i as f64,
            tx = left + size + 36.0,
            ty = top + 13.0 + 20.0 * i as f64,
        );
    }
    svg + "</svg>"
}
