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
