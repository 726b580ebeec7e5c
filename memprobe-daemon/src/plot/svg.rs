//! The SVG renderer: draws a [`Chart`] with plotters' SVG backend. Drawn from the back: the
//! published phases as alternating bands, the warm-up shaded grey, the grid, each series' min–max
//! envelope and line (the judged one thick, the others thin), the fitted slope's 95% band and
//! line, steps as dashed verticals, one cycle of a period as a bracket, the plateau's level, the
//! legend; the verdict's sentence above, wrapped. Text is SVG `<text>`: the viewer lays it out.

use super::data::{Chart, Mark};
use super::units::{self, Unit};
use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width of the image, in pixels.
pub(crate) const WIDTH: u32 = 1200;
/// Height of the image, in pixels.
pub(crate) const HEIGHT: u32 = 720;
/// Grey of the warm-up band.
pub(crate) const WARMUP: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
/// Colour of the fitted line; its band is this at 18% opacity.
pub(crate) const FIT: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Colour of step marks.
pub(crate) const STEP: RGBColor = RGBColor(0xc0, 0x00, 0x30);
/// Colours of the phase bands, alternating.
pub(crate) const PHASES: [RGBColor; 2] = [RGBColor(0xee, 0xf3, 0xfa), RGBColor(0xfa, 0xf3, 0xe6)];
/// Characters per title line before it wraps.
const TITLE_WRAP: usize = 120;

/// `#rrggbb` to a colour (black for anything else: the palette is ours).
pub(crate) fn rgb(hex: &str) -> RGBColor {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

/// Breaks `text` at spaces into lines of at most `width` characters (a longer word stands alone).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The x unit of a chart: iterations, or time in s, min or h.
pub(crate) fn x_unit(chart: &Chart) -> Unit {
    if chart.axis == "iterations" {
        units::iteration_unit()
    } else {
        units::time_unit(chart.x_range.1 - chart.x_range.0)
    }
}

/// Renders `chart` as an SVG document.
///
/// # Errors
///
/// plotters' drawing errors (none are expected on a string backend), in one line.
pub(crate) fn render(chart: &Chart) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root).map_err(|e| anyhow!("drawing the SVG plot: {e}"))?;
        root.present()
            .map_err(|e| anyhow!("drawing the SVG plot: {e}"))?;
    }
    Ok(out)
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw(chart: &Chart, root: &DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult {
    root.fill(&WHITE)?;
    let title = wrap(&chart.title, TITLE_WRAP);
    // The legend flows in rows under the title, outside the plot: it never hides the data.
    let legend = legend_entries(chart);
    let mut placed: Vec<(i32, i32, usize)> = Vec::new();
    let (mut x, mut y) = (20, 14 + 22 * title.len() as i32 + 6);
    for (i, (_, name)) in legend.iter().enumerate() {
        let w = 34 + (name.chars().count() as f64 * 6.6) as i32 + 22;
        if x + w > WIDTH as i32 - 20 && x > 20 {
            x = 20;
            y += 20;
        }
        placed.push((x, y, i));
        x += w;
    }
    let top_h = (y + 24) as u32;
    let (top, body) = root.split_vertically(top_h);
    for (i, line) in title.iter().enumerate() {
        top.draw(&Text::new(
            line.as_str(),
            (20, 10 + 22 * i as i32),
            ("sans-serif", 18).into_font().color(&BLACK),
        ))?;
    }
    for (x, y, i) in placed {
        let (style, name) = &legend[i];
        top.draw(&PathElement::new(vec![(x, y + 8), (x + 26, y + 8)], *style))?;
        top.draw(&Text::new(
            name.as_str(),
            (x + 32, y + 1),
            ("sans-serif", 13).into_font().color(&BLACK),
        ))?;
    }

    let xu = x_unit(chart);
    let yu = units::byte_unit(chart.y_range.1.abs().max(chart.y_range.0.abs()));
    let sx = |x: f64| x / xu.scale;
    let sy = |y: f64| y / yu.scale;
    let (x0, x1) = (sx(chart.x_range.0), sx(chart.x_range.1));
    let (y0, y1) = (sy(chart.y_range.0), sy(chart.y_range.1));
    let mut c = ChartBuilder::on(&body)
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, y0..y1)?;

    // Backgrounds: phases, then the warm-up over them.
    for (i, p) in chart.phases.iter().enumerate() {
        c.draw_series(std::iter::once(Rectangle::new(
            [(sx(p.x0), y0), (sx(p.x1), y1)],
            PHASES[i % 2].filled(),
        )))?;
    }
    if let Some(w) = &chart.warmup {
        c.draw_series(std::iter::once(Rectangle::new(
            [(sx(w.x0), y0), (sx(w.x1), y1)],
            WARMUP.filled(),
        )))?;
    }
    let x_step = step_of(x0, x1, 10);
    let y_step = step_of(y0, y1, 8);
    let x_desc = match chart.axis {
        "iterations" => "iterations".to_owned(),
        _ => format!("time ({})", xu.label),
    };
    c.configure_mesh()
        .x_labels(10)
        .y_labels(8)
        .x_desc(x_desc)
        .y_desc(format!("memory ({})", yu.label))
        .x_label_formatter(&|v| units::label(*v, x_step, xu.label))
        .y_label_formatter(&|v| units::label(*v, y_step, yu.label))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBAColor(0, 0, 0, 0.12))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .draw()?;

    // Phase and warm-up labels, inside the top of the plot.
    let small = ("sans-serif", 13).into_font();
    let label_y = y1 - (y1 - y0) * 0.01;
    for p in &chart.phases {
        c.draw_series(std::iter::once(Text::new(
            format!("phase {}", p.label),
            (sx(p.x0) + (x1 - x0) * 0.004, label_y),
            small.clone().color(&RGBColor(0x33, 0x44, 0x66)),
        )))?;
    }
    if let Some(w) = &chart.warmup {
        c.draw_series(std::iter::once(Text::new(
            w.label.clone(),
            (sx(w.x0) + (x1 - x0) * 0.004, y1 - (y1 - y0) * 0.05),
            small.clone().color(&RGBColor(0x44, 0x44, 0x44)),
        )))?;
    }

    // The other series, envelopes under lines.
    for l in chart.series.iter().filter(|l| !l.judged) {
        let color = rgb(l.color);
        if l.lo.iter().zip(&l.hi).any(|(lo, hi)| hi > lo) {
            let band: Vec<(f64, f64)> =
                l.x.iter()
                    .zip(&l.hi)
                    .map(|(x, y)| (sx(*x), sy(*y)))
                    .chain(l.x.iter().zip(&l.lo).rev().map(|(x, y)| (sx(*x), sy(*y))))
                    .collect();
            c.draw_series(std::iter::once(Polygon::new(band, color.mix(0.15))))?;
        }
        c.draw_series(LineSeries::new(
            l.x.iter().zip(&l.y).map(|(x, y)| (sx(*x), sy(*y))),
            line_style(l),
        ))?;
    }

    // The fit: band, then line.
    if let Some(f) = chart.fit {
        let at = |slope: f64, x: f64| sy(f.at(slope, x));
        let fan = [
            (f.x0, f.slope.low),
            (f.pivot_x, f.slope.low),
            (f.x1, f.slope.high),
            (f.x1, f.slope.low),
            (f.pivot_x, f.slope.high),
            (f.x0, f.slope.high),
        ];
        let band: Vec<(f64, f64)> = fan.iter().map(|(x, s)| (sx(*x), at(*s, *x))).collect();
        c.draw_series(std::iter::once(Polygon::new(band, FIT.mix(0.18))))?;
        c.draw_series(DashedLineSeries::new(
            [
                (sx(f.x0), at(f.slope.value, f.x0)),
                (sx(f.x1), at(f.slope.value, f.x1)),
            ],
            10,
            5,
            FIT_STYLE,
        ))?;
    }

    // The judged series on top of everything, the fit included: where the two coincide the data
    // show, and the fit shows where it departs from them.
    for l in chart.series.iter().filter(|l| l.judged) {
        let color = rgb(l.color);
        if l.lo.iter().zip(&l.hi).any(|(lo, hi)| hi > lo) {
            let band: Vec<(f64, f64)> =
                l.x.iter()
                    .zip(&l.hi)
                    .map(|(x, y)| (sx(*x), sy(*y)))
                    .chain(l.x.iter().zip(&l.lo).rev().map(|(x, y)| (sx(*x), sy(*y))))
                    .collect();
            c.draw_series(std::iter::once(Polygon::new(band, color.mix(0.15))))?;
        }
        c.draw_series(LineSeries::new(
            l.x.iter().zip(&l.y).map(|(x, y)| (sx(*x), sy(*y))),
            line_style(l),
        ))?;
    }

    // Steps, period, plateau.
    for (i, s) in chart.steps.iter().enumerate() {
        step_mark(&mut c, s, sx(s.x0), (x0, x1), (y0, y1), i)?;
    }
    if let Some(p) = &chart.period {
        let y = y0 + (y1 - y0) * 0.1;
        let tick = (y1 - y0) * 0.015;
        let style = ShapeStyle {
            color: RGBColor(0x55, 0x22, 0x88).to_rgba(),
            filled: false,
            stroke_width: 2,
        };
        let (a, b) = (sx(p.x0), sx(p.x1));
        for path in [
            vec![(a, y), (b, y)],
            vec![(a, y - tick), (a, y + tick)],
            vec![(b, y - tick), (b, y + tick)],
        ] {
            c.draw_series(std::iter::once(PathElement::new(path, style)))?;
        }
        c.draw_series(std::iter::once(Text::new(
            p.label.clone(),
            (a, y + 3.0 * tick),
            small.clone().color(&RGBColor(0x55, 0x22, 0x88)),
        )))?;
    }
    if let Some(p) = &chart.plateau {
        let level = sy(p.y.unwrap_or(0.0));
        let style = ShapeStyle {
            color: RGBColor(0x55, 0x55, 0x55).to_rgba(),
            filled: false,
            stroke_width: 1,
        };
        c.draw_series(DashedLineSeries::new(
            [(sx(p.x0), level), (sx(p.x1), level)],
            4,
            4,
            style,
        ))?;
        c.draw_series(std::iter::once(Text::new(
            p.label.clone(),
            (sx(p.x0), level + (y1 - y0) * 0.04),
            small.clone().color(&RGBColor(0x33, 0x33, 0x33)),
        )))?;
    }

    Ok(())
}

const FIT_STYLE: ShapeStyle = ShapeStyle {
    color: RGBAColor(0x22, 0x22, 0x22, 1.0),
    filled: false,
    stroke_width: 2,
};

/// A series' line: the judged one 3 px and opaque, the others 1 px.
fn line_style(l: &super::data::Line) -> ShapeStyle {
    let color = rgb(l.color);
    ShapeStyle {
        color: if l.judged {
            color.to_rgba()
        } else {
            color.mix(0.8)
        },
        filled: false,
        stroke_width: if l.judged { 3 } else { 1 },
    }
}

/// The legend: the series, the judged one first, then the fit.
fn legend_entries(chart: &Chart) -> Vec<(ShapeStyle, String)> {
    let mut out: Vec<(ShapeStyle, String)> = chart
        .series
        .iter()
        .rev()
        .map(|l| {
            let name = if l.judged {
                format!("{} (judged)", l.name)
            } else {
                l.name.clone()
            };
            (line_style(l), name)
        })
        .collect();
    if let Some(label) = &chart.fit_label {
        out.push((FIT_STYLE, label.clone()));
    }
    out
}

fn step_mark<DB: DrawingBackend>(
    c: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    s: &Mark,
    x: f64,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    index: usize,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let style = ShapeStyle {
        color: STEP.to_rgba(),
        filled: false,
        stroke_width: 2,
    };
    c.draw_series(DashedLineSeries::new([(x, y0), (x, y1)], 6, 4, style))
        .map_err(|e| e.to_string())?;
    // Right of the line, or left of it in the last third so that it stays in the plot.
    let (anchor, at) = if x - x0 > (x1 - x0) * 0.67 {
        (HPos::Right, x - (x1 - x0) * 0.004)
    } else {
        (HPos::Left, x + (x1 - x0) * 0.004)
    };
    c.draw_series(std::iter::once(Text::new(
        format!("step {}", s.label),
        // Staggered on three rows, so that labels of close steps do not overlap.
        (at, y0 + (y1 - y0) * (0.12 + 0.06 * (index % 3) as f64)),
        ("sans-serif", 13)
            .into_font()
            .color(&STEP)
            .pos(Pos::new(anchor, VPos::Bottom)),
    )))
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The step of the ticks plotters will choose for about `n` labels over `lo..hi`, to give
/// labels the decimals it needs.
fn step_of(lo: f64, hi: f64, n: usize) -> f64 {
    let t = units::ticks(lo, hi, n);
    if t.len() >= 2 { t[1] - t[0] } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("averylongword x", 4), ["averylongword", "x"]);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn hex_colours() {
        assert_eq!(rgb("#0072b2"), RGBColor(0x00, 0x72, 0xb2));
    }
}
