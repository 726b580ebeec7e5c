//! The HTML renderer: one self-contained page, the [`Chart`] as JSON in a
//! `<script type="application/json">` and a small hand-written script (`chart.js`, inlined) that
//! draws it as SVG: legend check boxes toggle series, hover shows the values under the pointer, a
//! drag zooms on a range of the x-axis. Nothing is fetched: no external script, style, font or
//! image, so the page opens offline and from a CI artifact.

use super::data::Chart;
use anyhow::{Context, Result};

/// The page's script, inlined.
const SCRIPT: &str = include_str!("chart.js");

const STYLE: &str = "
body { font: 14px sans-serif; margin: 16px 24px; color: #111; }
h1 { font-size: 17px; font-weight: normal; max-width: 1100px; }
h1 b { text-transform: uppercase; }
#legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0; }
.toggle { cursor: pointer; user-select: none; }
.toggle.judged { font-weight: bold; }
.swatch { display: inline-block; width: 22px; height: 4px; margin: 0 6px 3px 4px; vertical-align: middle; }
#plot text { font: 12px sans-serif; }
#plot text.desc { font-size: 13px; }
#overlay { cursor: crosshair; }
#tip { position: absolute; white-space: pre; background: #fffffff0; border: 1px solid #999;
  padding: 4px 8px; font: 12px monospace; pointer-events: none; }
.help { color: #555; font-size: 12px; }
";

/// Renders `chart` as one HTML page.
///
/// # Errors
///
/// The chart cannot be serialized (a non-finite figure would be `null`, not an error; none is
/// expected).
pub(crate) fn render(chart: &Chart) -> Result<String> {
    let json = serde_json::to_string(chart).context("serializing the plot's data")?;
    // `<` only occurs inside JSON strings, where `\u003c` is the same character: the data can
    // then never close its <script> element (a phase named `</script>`).
    let json = json.replace('<', "\\u003c");
    let title = escape(&chart.title);
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>memprobe: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1 id=\"title\"><b>{kind}</b>{rest}</h1>\n\
         <div id=\"legend\"></div>\n<div id=\"chart\"></div>\n\
         <p class=\"help\">Hover for values; click a legend entry to hide or show its series; \
         drag across the plot to zoom on a range, double-click or <button id=\"reset\" disabled>reset zoom</button>.</p>\n\
         <div id=\"tip\" hidden></div>\n\
         <script type=\"application/json\" id=\"memprobe-data\">{json}</script>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        kind = escape(chart.verdict),
        rest = escape(
            chart
                .title
                .strip_prefix(chart.verdict)
                .unwrap_or(&chart.title)
        ),
    ))
}

/// Escapes text for HTML content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b>&\"c\""), "a&lt;b&gt;&amp;&quot;c&quot;");
    }
}
