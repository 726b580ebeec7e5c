//! `plot RUN.jsonl --svg/--html` and `watch --plot/--html`, looked at as a person would: the SVG
//! rendered to PNG by `rsvg-convert` (Debian's librsvg2-bin) and its pixels checked (the judged
//! series' colour in the plot, the warm-up's grey over the range the verdict dropped, a step's
//! dashed line, a period's bracket), its text read back; the HTML loaded in headless Chromium
//! (Debian's `chromium`), its DOM checked after the script ran (series, legend toggles, a preset
//! zoom and hidden series) and a screenshot's pixels checked. Real runs of `memprobe-soak-target`
//! and committed JSONL of real runs (a step to a plateau, a leak under a sawtooth).
//!
//! A missing tool skips its test with a line on stderr; with `CI=true` it fails, naming the tool
//! and `scripts/install-test-deps.sh`.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const WIDTH: usize = 1200;
/// The SVG's plot area spans these columns: the renderer's 20 px margin and 90 px of y labels on
/// the left, its 20 px margin on the right (`src/plot/svg.rs`).
const PLOT_LEFT: usize = 110;
const PLOT_RIGHT: usize = 1180;

const ALLOCATED: [u8; 3] = [0x00, 0x9e, 0x73];
const WARMUP: [u8; 3] = [0xdd, 0xdd, 0xdd];
const STEP: [u8; 3] = [0xc0, 0x00, 0x30];
const PERIOD: [u8; 3] = [0x55, 0x22, 0x88];

fn daemon() -> Command {
    Command::cargo_bin("memprobe-daemon").unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The tool's path, or `None` (skip) when it is missing outside CI; panics naming the install
/// script under `CI=true`.
fn tool(name: &str) -> Option<&'static str> {
    let found = std::process::Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(match name {
            "rsvg-convert" => "rsvg-convert",
            _ => "chromium",
        });
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{name} not found: run scripts/install-test-deps.sh");
    }
    eprintln!("skipped: {name} not found (scripts/install-test-deps.sh installs it)");
    None
}

/// An RGB image.
struct Image {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Image {
    fn read(path: &Path) -> Image {
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let channels = info.color_type.samples();
        assert_eq!(info.bit_depth, png::BitDepth::Eight, "{path:?}");
        let rgb = buf[..info.buffer_size()]
            .chunks(channels)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Image {
            width: info.width as usize,
            height: info.height as usize,
            rgb,
        }
    }

    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = 3 * (y * self.width + x);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Pixels within ±`tol` per channel of `color` in columns `xs`, rows `ys`.
    fn count(
        &self,
        color: [u8; 3],
        tol: u8,
        xs: std::ops::Range<usize>,
        ys: std::ops::Range<usize>,
    ) -> usize {
        let mut n = 0;
        for y in ys {
            for x in xs.clone() {
                let p = self.at(x, y);
                if (0..3).all(|c| p[c].abs_diff(color[c]) <= tol) {
                    n += 1;
                }
            }
        }
        n
    }

    /// The rows of the plot area: those where column `PLOT_LEFT + 2` is not white (the plot is
    /// filled by phases or the warm-up, or crossed by grid lines) between the legend and the
    /// x-axis. Found as the longest run of rows whose pixel right of the y-axis is not white.
    fn plot_rows(&self) -> std::ops::Range<usize> {
        let x = PLOT_LEFT + 2;
        let (mut best, mut start) = (0..0, None);
        for y in 0..=self.height {
            let filled = y < self.height && self.at(x, y) != [255, 255, 255];
            match (filled, start) {
                (true, None) => start = Some(y),
                (false, Some(s)) => {
                    if y - s > best.len() {
                        best = s..y;
                    }
                    start = None;
                }
                _ => {}
            }
        }
        best
    }
}

/// Renders `svg` to a PNG beside it at its own size.
fn rasterize(rsvg: &str, svg: &Path) -> Image {
    let png = svg.with_extension("png");
    let status = std::process::Command::new(rsvg)
        .arg(svg)
        .arg("-o")
        .arg(&png)
        .status()
        .unwrap();
    assert!(status.success(), "rsvg-convert {svg:?}");
    let image = Image::read(&png);
    assert_eq!(image.width, WIDTH);
    image
}

/// The contents of the SVG's `<text>` elements, in order, unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(
                body.trim()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

/// `verdict FILE` with the same judging flags: `KIND: sentence`, as plot titles read.
fn verdict_title(jsonl: &Path) -> String {
    let out = daemon().arg("verdict").arg(jsonl).output().unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    let (kind, rest) = line.trim_end().split_once(" (exit ").unwrap();
    let sentence = rest.split_once("): ").unwrap().1;
    format!("{kind}: {sentence}")
}

/// Headless Chromium on `url`: `--dump-dom` (the DOM after the scripts ran) or a screenshot.
fn chromium(browser: &str, dir: &Path, args: &[&str], url: &str) -> String {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium {args:?} {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The plot's title occupies the first `<text>` elements: joined, they are `want`.
fn assert_title(svg: &str, want: &str) {
    let texts = svg_texts(svg);
    let mut joined = String::new();
    for t in &texts {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(t);
        if joined.len() >= want.len() {
            break;
        }
    }
    assert_eq!(joined, want, "title lines: {texts:?}");
}

/// A real leak watched for a few seconds with `--out`, `--plot` and `--html`: the SVG's title is
/// `verdict`'s sentence, the judged series (jemalloc allocated) is drawn in its colour, the
/// warm-up's grey covers the first 20% of the run's iterations and not the rest; the HTML draws
/// every series with a toggle, obeys a preset zoom and hidden series, and its screenshot shows
/// the judged series.
#[test]
fn a_watched_leak_is_plotted_as_svg_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, svg, html) = (
        dir.path().join("run.jsonl"),
        dir.path().join("run.svg"),
        dir.path().join("run.html"),
    );
    daemon()
        .args(["watch", "--interval", "50ms", "--duration", "4s", "--quiet"])
        .arg("--out")
        .arg(&jsonl)
        .arg("--plot")
        .arg(&svg)
        .arg("--html")
        .arg(&html)
        .arg("--")
        .arg(assert_cmd::cargo::cargo_bin("memprobe-soak-target"))
        .args(["leak", "--rate", "16MiB"])
        .assert()
        .success();
    let title = verdict_title(&jsonl);
    assert!(
        title.starts_with("growth: jemalloc allocated grows "),
        "{title}"
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..80.min(text.len())]);
    assert_title(&text, &title);
    let texts = svg_texts(&text);
    for label in [
        "jemalloc allocated (judged)",
        "RSS",
        "RssAnon+swap",
        "jemalloc resident",
        "warm-up (20%)",
        "phase grow",
        "iterations",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} in {texts:?}"
        );
    }
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("fit ") && t.contains("/iteration (95% CI "))
    );
    // Binary units on the y-axis.
    assert!(texts.iter().any(|t| t.ends_with(" MiB")), "{texts:?}");

    if let Some(rsvg) = tool("rsvg-convert") {
        let image = rasterize(rsvg, &svg);
        let rows = image.plot_rows();
        assert!(rows.len() > 400, "plot rows {rows:?}");
        let plot_w = PLOT_RIGHT - PLOT_LEFT;
        // The judged series: a 3 px line across the run.
        let judged = image.count(ALLOCATED, 6, PLOT_LEFT..PLOT_RIGHT, rows.clone());
        assert!(
            judged > 2 * plot_w,
            "{judged} pixels of the judged series' colour"
        );
        // The warm-up: grey from the left edge to about 20% of the width, then no grey.
        let grey_in = |x0: f64, x1: f64| {
            let xs = PLOT_LEFT + (x0 * plot_w as f64) as usize
                ..PLOT_LEFT + (x1 * plot_w as f64) as usize;
            image.count(WARMUP, 2, xs.clone(), rows.clone()) as f64 / (xs.len() * rows.len()) as f64
        };
        assert!(grey_in(0.01, 0.17) > 0.6, "warm-up {}", grey_in(0.01, 0.17));
        assert!(
            grey_in(0.3, 0.99) < 0.01,
            "after warm-up {}",
            grey_in(0.3, 0.99)
        );
        // Its edge: the last column that is mostly grey (lines and grid lines cross it).
        let edge = (PLOT_LEFT..PLOT_RIGHT)
            .rev()
            .find(|&x| image.count(WARMUP, 2, x..x + 1, rows.clone()) * 2 > rows.len())
            .expect("a grey warm-up column");
        let share = (edge + 1 - PLOT_LEFT) as f64 / plot_w as f64;
        assert!(
            (0.19..0.27).contains(&share),
            "warm-up ends at {share} of the run"
        );
    }

    let page = std::fs::read_to_string(&html).unwrap();
    // Self-contained: nothing is fetched.
    for forbidden in [
        "src=\"http",
        "href=\"http",
        "<link",
        "@import",
        "url(http",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!page.contains(forbidden), "the page fetches: {forbidden}");
    }
    assert!(page.contains("<script>") && !page.contains("<script src"));
    let Some(browser) = tool("chromium") else {
        return;
    };
    let url = format!("file://{}", html.display());
    let dom = chromium(browser, dir.path(), &["--dump-dom"], &url);
    assert!(
        dom.contains("data-rendered=\"1\""),
        "the script did not run: {dom}"
    );
    assert!(
        dom.contains("class=\"series judged\" data-series=\"jemalloc_allocated\""),
        "{dom}"
    );
    for key in [
        "rss",
        "rss_anon_plus_swap",
        "jemalloc_active",
        "jemalloc_resident",
    ] {
        assert!(
            dom.contains(&format!("class=\"series\" data-series=\"{key}\"")),
            "{key}"
        );
        assert!(
            dom.contains(&format!("type=\"checkbox\" data-series=\"{key}\" checked")),
            "{key}: no toggle"
        );
    }
    assert!(dom.contains("id=\"warmup\"") && dom.contains("id=\"fit\""));
    assert!(dom.contains("data-phase=\"grow\""));
    // A preset view: RSS hidden, zoomed on iterations 10..20.
    let dom = chromium(
        browser,
        dir.path(),
        &["--dump-dom"],
        &format!("{url}#hide=rss&zoom=10,20"),
    );
    assert!(!dom.contains("data-series=\"rss\" d="), "RSS still drawn");
    assert!(
        dom.contains("type=\"checkbox\" data-series=\"rss\">"),
        "RSS toggle still checked"
    );
    assert!(
        dom.contains("data-x0=\"10\" data-x1=\"20\""),
        "zoom not applied"
    );
    let ticks: Vec<f64> = dom
        .split("class=\"tick x\"")
        .skip(1)
        .map(|t| {
            let label = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            label.trim_end_matches(" it").parse().unwrap()
        })
        .collect();
    assert!(ticks.len() >= 5, "{ticks:?}");
    assert!(ticks.iter().all(|t| (10.0..=20.0).contains(t)), "{ticks:?}");
    // Hovering at iteration 40 lists each series' value there.
    let dom = chromium(
        browser,
        dir.path(),
        &["--dump-dom"],
        &format!("{url}#hover=40"),
    );
    let tip = &dom[dom.find("<div id=\"tip\"").expect("no tooltip")..];
    let tip = &tip[..tip.find("</div>").unwrap()];
    assert!(!tip.contains(" hidden"), "{tip}");
    assert!(tip.contains(">iteration 40\n"), "{tip}");
    assert!(
        tip.contains("\njemalloc allocated: ") && tip.contains(" MiB"),
        "{tip}"
    );
    assert!(tip.contains("\nRSS: "), "{tip}");
    // What a person sees: the screenshot shows the judged series.
    let shot = dir.path().join("shot.png");
    chromium(
        browser,
        dir.path(),
        &[
            "--window-size=1200,800",
            &format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    let image = Image::read(&shot);
    let judged = image.count(ALLOCATED, 6, 0..image.width, 0..image.height);
    assert!(
        judged > 1500,
        "{judged} pixels of the judged series in the screenshot"
    );
    let grey = image.count(WARMUP, 2, 0..image.width, 0..image.height);
    assert!(
        grey > 20_000,
        "{grey} pixels of warm-up grey in the screenshot"
    );
}

/// A committed run that steps up 64 MiB to a plateau: the step's dashed line, the plateau's
/// level and the phases are drawn where the verdict puts them.
#[test]
fn a_step_to_a_plateau_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = fixture("step-plateau.jsonl");
    let (svg, html) = (dir.path().join("p.svg"), dir.path().join("p.html"));
    daemon()
        .arg("plot")
        .arg(&jsonl)
        .arg("--svg")
        .arg(&svg)
        .arg("--html")
        .arg(&html)
        .assert()
        .success()
        .stderr(predicates::str::contains("(pass) to "));
    let text = std::fs::read_to_string(&svg).unwrap();
    let title = verdict_title(&jsonl);
    assert!(title.contains("steps up +64.0 MiB"), "{title}");
    assert_title(&text, &title);
    let texts = svg_texts(&text);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("step +") && t.contains(" at iteration "))
    );
    assert!(
        texts.iter().any(|t| t.starts_with("plateau at 80.1 MiB")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "phase grow") && texts.iter().any(|t| t == "phase steady"));
    if let Some(rsvg) = tool("rsvg-convert") {
        let image = rasterize(rsvg, &svg);
        let rows = image.plot_rows();
        // A dashed vertical line: one column range holding the step's red over much of the plot.
        let column = (PLOT_LEFT..PLOT_RIGHT)
            .max_by_key(|&x| image.count(STEP, 40, x..x + 1, rows.clone()))
            .unwrap();
        let red = image.count(STEP, 40, column..column + 1, rows.clone());
        assert!(red > rows.len() / 3, "{red} red pixels in column {column}");
        // The step is at iteration 63 of 0..199: about 32% into the plot.
        let share = (column - PLOT_LEFT) as f64 / (PLOT_RIGHT - PLOT_LEFT) as f64;
        assert!((0.28..0.36).contains(&share), "step drawn at {share}");
    }
    if let Some(browser) = tool("chromium") {
        let url = format!("file://{}", html.display());
        let dom = chromium(browser, dir.path(), &["--dump-dom"], &url);
        assert!(
            dom.contains("class=\"step\"") && dom.contains("id=\"plateau\""),
            "{dom}"
        );
        assert!(dom.contains("data-phase=\"steady\""));
    }
}

/// A committed leak under a sawtooth: the period the verdict found is drawn as a bracket of one
/// cycle, labelled.
#[test]
fn a_sawtooth_period_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = fixture("sawtooth-leak.jsonl");
    let svg = dir.path().join("s.svg");
    daemon()
        .arg("plot")
        .arg(&jsonl)
        .arg("--svg")
        .arg(&svg)
        .arg("--quiet")
        .assert()
        .success()
        .stderr("");
    let text = std::fs::read_to_string(&svg).unwrap();
    let title = verdict_title(&jsonl);
    assert!(
        title.contains("under a sawtooth (period 21 iterations"),
        "{title}"
    );
    assert_title(&text, &title);
    let texts = svg_texts(&text);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("period 21 iterations (")),
        "{texts:?}"
    );
    if let Some(rsvg) = tool("rsvg-convert") {
        let image = rasterize(rsvg, &svg);
        let rows = image.plot_rows();
        // The bracket: a horizontal purple line about one period (21 of ~275 iterations) long.
        let (row, len) = rows
            .clone()
            .map(|y| (y, image.count(PERIOD, 30, PLOT_LEFT..PLOT_RIGHT, y..y + 1)))
            .max_by_key(|r| r.1)
            .unwrap();
        let want = 21.0 / 275.0 * (PLOT_RIGHT - PLOT_LEFT) as f64;
        assert!(
            (len as f64) > want * 0.8 && (len as f64) < want * 1.2,
            "bracket of {len} px in row {row}, want about {want:.0}"
        );
    }
}

/// Bad input: one line naming the problem, exit 2, and no plot file left from a failed read.
#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("out.svg");
    let run = |file: &Path, out: &Path| {
        let o = daemon()
            .arg("plot")
            .arg(file)
            .arg("--svg")
            .arg(out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{o:?}");
        let e = String::from_utf8(o.stderr).unwrap();
        assert_eq!(e.lines().count(), 1, "{e}");
        e
    };
    let e = run(&dir.path().join("missing.jsonl"), &svg);
    assert!(e.starts_with("memprobe-daemon: cannot read "), "{e}");
    assert!(
        e.contains("missing.jsonl: No such file or directory"),
        "{e}"
    );
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert!(run(&empty, &svg).contains("empty.jsonl holds no samples"));
    let not_jsonl = dir.path().join("notes.txt");
    std::fs::write(&not_jsonl, "hello\n").unwrap();
    assert!(
        run(&not_jsonl, &svg)
            .contains("notes.txt:1: not a sample line of `memprobe-daemon watch --out`")
    );
    assert!(!svg.exists(), "a plot was written from bad input");
    let e = run(
        &fixture("leak.jsonl"),
        &dir.path().join("no/such/dir/out.svg"),
    );
    assert!(
        e.starts_with("memprobe-daemon: cannot write the SVG plot to ")
            && e.contains("no/such/dir/out.svg: No such file or directory"),
        "{e}"
    );
    // Nothing to write.
    daemon()
        .arg("plot")
        .arg(fixture("leak.jsonl"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--svg <OUT.svg>"));
    // `watch --plot` to a bad path fails before the target starts.
    let o = daemon()
        .args(["watch", "--duration", "1s", "--plot"])
        .arg(dir.path().join("no/such/dir/w.svg"))
        .args(["--", "sleep", "5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8(o.stderr).unwrap();
    assert!(
        e.starts_with("memprobe-daemon: cannot write the SVG plot to "),
        "{e}"
    );
    // A run that cannot be judged has nothing to draw: no empty plot is left behind.
    let (w_svg, w_html) = (dir.path().join("w.svg"), dir.path().join("w.html"));
    let o = daemon()
        .args([
            "watch",
            "--duration",
            "500ms",
            "--series",
            "allocated",
            "--plot",
        ])
        .arg(&w_svg)
        .arg("--html")
        .arg(&w_html)
        .args(["--", "sleep", "5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let e = String::from_utf8(o.stderr).unwrap();
    assert!(
        e.contains("--series allocated: the process published no jemalloc figures"),
        "{e}"
    );
    assert!(
        !w_svg.exists() && !w_html.exists(),
        "empty plots left behind"
    );
    // Judged: the plots are written, and said so.
    let o = daemon()
        .args(["watch", "--duration", "500ms", "--plot"])
        .arg(&w_svg)
        .args(["--", "sleep", "5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let e = String::from_utf8(o.stderr).unwrap();
    assert!(
        e.ends_with(&format!(
            "memprobe-daemon: plotted the run to {}\n",
            w_svg.display()
        )),
        "{e}"
    );
    assert!(std::fs::read_to_string(&w_svg).unwrap().starts_with("<svg"));
}
