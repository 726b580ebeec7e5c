//! `memprobe-daemon footprint` end to end, on binaries this test builds: two builds of one tiny
//! Rust program (with `rustc`, always at hand where the tests run) that differ only in the size of
//! a zero-initialised static (`.bss`) and of an initialised one (`.data`), plus a C pair with `cc`
//! when there is one. Sizes are asserted exactly from the source (a `[u8; 4096]` is 4096 bytes)
//! and cross-checked against binutils' `size -A` and `nm -S` when they are installed.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The test program: `BIG_TABLE` is `.bss`, `INIT_VALUES` `.data`, `MESSAGE` `.rodata`.
const PROGRAM: &str = r#"
#[no_mangle]
pub static mut BIG_TABLE: [u8; TABLE] = [0; TABLE];
#[no_mangle]
pub static mut INIT_VALUES: [u32; VALUES] = [7; VALUES];
#[no_mangle]
pub static MESSAGE: [u8; 24] = *b"memprobe footprint test\n";

#[inline(never)]
fn footprint_probe(i: usize) -> u32 {
    // SAFETY: single-threaded; the indices are in bounds.
    unsafe {
        let table = std::ptr::addr_of_mut!(BIG_TABLE).cast::<u8>();
        table.add(i % TABLE).write_volatile(i as u8);
        let values = std::ptr::addr_of!(INIT_VALUES).cast::<u32>();
        u32::from(table.add(i % TABLE).read_volatile())
            + values.add(i % VALUES).read_volatile()
            + u32::from(std::ptr::read_volatile(&MESSAGE[i % 24]))
    }
}

fn main() {
    std::process::exit(footprint_probe(std::env::args().count()) as i32 & 1);
}
"#;

/// BASE's sizes, then NEW's: (`TABLE` bytes of `.bss`, `VALUES` u32s of `.data`).
const SMALL: (u64, u64) = (4096, 16);
const BIG: (u64, u64) = (65536, 64);

struct Built {
    small: PathBuf,
    big: PathBuf,
}

/// The two builds, made once for the whole test binary.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        // Under cargo's scratch directory for integration tests, replaced on each run: a static
        // is never dropped, so a temporary directory here would be left behind.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("footprint");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let build = |name: &str, (table, values): (u64, u64)| {
            // One source directory per build, one file name: the crate is `prog` in both, so the
            // demangled names of its functions are the same in both.
            let src = dir.join(name);
            std::fs::create_dir(&src).unwrap();
            let source = PROGRAM
                .replace("TABLE]", &format!("{table}]"))
                .replace("% TABLE", &format!("% {table}"))
                .replace("VALUES]", &format!("{values}]"))
                .replace("% VALUES", &format!("% {values}"));
            std::fs::write(src.join("prog.rs"), source).unwrap();
            let out = dir.join(format!("{name}.bin"));
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            let status = std::process::Command::new(rustc)
                .args(["--edition", "2021", "-C", "debuginfo=0"])
                // The source path is in `.rodata` (panic locations): the same path in both
                // builds, so the two differ only in the statics, wherever the checkout lives.
                .arg("--remap-path-prefix")
                .arg(format!("{}=src", src.display()))
                .arg("-o")
                .arg(&out)
                .arg(src.join("prog.rs"))
                .status()
                .unwrap();
            assert!(status.success(), "rustc failed on the test program");
            out
        };
        let small = build("small", SMALL);
        let big = build("big", BIG);
        Built { small, big }
    })
}

fn footprint() -> Command {
    let mut cmd = Command::cargo_bin("memprobe-daemon").unwrap();
    cmd.arg("footprint");
    cmd
}

/// Runs `footprint ARGS --json` and parses stdout, checking the exit code.
fn json(args: &[&Path], extra: &[&str], code: i32) -> Value {
    let out = footprint()
        .args(args)
        .args(extra)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// `name -> size` of the listed sections or symbols.
fn sizes(list: &Value) -> BTreeMap<String, u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_owned(), u(&s["size_bytes"])))
        .collect()
}

/// `size -A FILE` as `section -> size`, or `None` without binutils.
fn binutils_sections(file: &Path) -> Option<BTreeMap<String, u64>> {
    let out = std::process::Command::new("size")
        .arg("-A")
        .arg(file)
        .output()
        .ok()?;
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    Some(
        text.lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let (name, size) = (w.next()?, w.next()?.parse().ok()?);
                name.starts_with('.').then(|| (name.to_owned(), size))
            })
            .collect(),
    )
}

/// `nm -S FILE`'s size of `symbol`, or `None` without binutils.
fn binutils_symbol_size(file: &Path, symbol: &str) -> Option<u64> {
    let out = std::process::Command::new("nm")
        .arg("-S")
        .arg(file)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.ends_with(&format!(" {symbol}")))
        .unwrap_or_else(|| panic!("nm -S lists no {symbol}"));
    let size = line.split_whitespace().nth(1).unwrap();
    Some(u64::from_str_radix(size, 16).unwrap())
}

mod one_binary {
    use super::*;

    #[test]
    fn statics_land_in_bss_data_and_rodata_with_their_exact_sizes() {
        let b = built();
        let v = json(&[&b.small], &["--symbols", "100000"], 0);
        assert_eq!(v["schema"], "memprobe.footprint");
        assert_eq!(v["version"], 1);
        let f = &v["binary"];
        assert_eq!(f["format"], "ELF");
        assert_eq!(f["symbol_sizes"], "exact");
        let symbols: BTreeMap<String, (String, u64)> = f["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_owned(),
                    (s["class"].as_str().unwrap().to_owned(), u(&s["size_bytes"])),
                )
            })
            .collect();
        assert_eq!(symbols["BIG_TABLE"], ("bss".to_owned(), SMALL.0));
        assert_eq!(symbols["INIT_VALUES"], ("data".to_owned(), SMALL.1 * 4));
        assert_eq!(symbols["MESSAGE"], ("rodata".to_owned(), 24));
        // Rust names are demangled, without the hash.
        assert!(symbols.contains_key("prog::footprint_probe"), "{symbols:?}");
        assert!(!symbols.keys().any(|n| n.starts_with("_ZN")), "{symbols:?}");

        // The totals are the sums of the sections of each class, and flash/RAM follow the rule.
        let t = &f["totals"];
        let mut by_class = BTreeMap::new();
        for s in f["sections"].as_array().unwrap() {
            *by_class.entry(s["class"].as_str().unwrap()).or_insert(0) += u(&s["size_bytes"]);
        }
        for class in ["text", "rodata", "data", "bss"] {
            assert_eq!(u(&t[format!("{class}_bytes")]), by_class[class], "{class}");
        }
        assert_eq!(
            u(&t["flash_bytes"]),
            u(&t["text_bytes"]) + u(&t["rodata_bytes"]) + u(&t["data_bytes"])
        );
        assert_eq!(u(&t["ram_bytes"]), u(&t["data_bytes"]) + u(&t["bss_bytes"]));
        assert!(u(&t["bss_bytes"]) >= SMALL.0);
        let sections = sizes(&f["sections"]);
        assert!(sections[".bss"] >= SMALL.0);
        assert!(sections[".data"] >= SMALL.1 * 4);
        // Debug info and the symbol table are not loaded, so not counted.
        assert!(!sections.contains_key(".symtab") && !sections.contains_key(".comment"));

        // binutils agrees, section by section and on the symbols.
        if let Some(binutils) = binutils_sections(&b.small) {
            for (name, size) in &sections {
                assert_eq!(Some(size), binutils.get(name), "{name}");
            }
            // Berkeley `size` counts every read-only loaded section as text: our text + rodata.
            let out = std::process::Command::new("size")
                .arg("-B")
                .arg(&b.small)
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            let row: Vec<u64> = text
                .lines()
                .nth(1)
                .unwrap()
                .split_whitespace()
                .take(3)
                .map(|w| w.parse().unwrap())
                .collect();
            assert_eq!(
                row,
                [
                    u(&t["text_bytes"]) + u(&t["rodata_bytes"]),
                    u(&t["data_bytes"]),
                    u(&t["bss_bytes"])
                ]
            );
            assert_eq!(binutils_symbol_size(&b.small, "BIG_TABLE"), Some(SMALL.0));
            assert_eq!(
                binutils_symbol_size(&b.small, "INIT_VALUES"),
                Some(SMALL.1 * 4)
            );
        } else {
            eprintln!("binutils' size/nm not installed: cross-check skipped");
        }
    }

    #[test]
    fn the_table_lists_totals_sections_and_the_largest_symbols() {
        let b = built();
        let out = footprint()
            .arg(&b.small)
            .args(["--symbols", "3"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        let v = json(&[&b.small], &[], 0);
        let bss = u(&v["binary"]["totals"]["bss_bytes"]);
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["bss", &bss.to_string()]),
            "{text}"
        );
        assert!(text.contains("flash"), "{text}");
        assert!(text.contains("text + rodata + data"), "{text}");
        let symbols = text.split_once("largest symbols (3 of ").unwrap().1;
        assert_eq!(symbols.lines().count(), 4, "{text}");
        // Largest first, in the same order as the JSON (std is linked in, so the largest may be
        // one of its symbols rather than the table).
        let first = &v["binary"]["symbols"][0];
        assert!(
            symbols
                .lines()
                .nth(1)
                .unwrap()
                .ends_with(first["name"].as_str().unwrap()),
            "{text}"
        );
    }
}

mod two_binaries {
    use super::*;

    #[test]
    fn the_diff_names_the_statics_that_grew_by_exactly_their_growth() {
        let b = built();
        let v = json(&[&b.small, &b.big], &[], 0);
        let symbols: BTreeMap<String, (Option<u64>, Option<u64>, i64)> = v["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_owned(),
                    (
                        s["base_bytes"].as_u64(),
                        s["new_bytes"].as_u64(),
                        s["delta_bytes"].as_i64().unwrap(),
                    ),
                )
            })
            .collect();
        assert_eq!(
            symbols["BIG_TABLE"],
            (Some(SMALL.0), Some(BIG.0), (BIG.0 - SMALL.0) as i64)
        );
        assert_eq!(
            symbols["INIT_VALUES"],
            (
                Some(SMALL.1 * 4),
                Some(BIG.1 * 4),
                ((BIG.1 - SMALL.1) * 4) as i64
            )
        );
        // The largest change comes first.
        assert_eq!(v["symbols"][0]["name"], "BIG_TABLE");
        assert!(
            !symbols.contains_key("MESSAGE"),
            "unchanged symbols are not listed"
        );

        // Section and total deltas are NEW minus BASE of the single-binary figures.
        let small = json(&[&b.small], &[], 0);
        let big = json(&[&b.big], &[], 0);
        for t in v["totals"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let key = format!("{name}_bytes");
            let (base, new) = (
                u(&small["binary"]["totals"][&key]),
                u(&big["binary"]["totals"][&key]),
            );
            assert_eq!(
                (u(&t["base_bytes"]), u(&t["new_bytes"])),
                (base, new),
                "{name}"
            );
            assert_eq!(t["delta_bytes"].as_i64().unwrap(), new as i64 - base as i64);
            assert_eq!(t["grew_past_threshold"], false);
        }
        let bss = v["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "bss")
            .unwrap();
        assert!(bss["delta_bytes"].as_i64().unwrap() >= (BIG.0 - SMALL.0) as i64);
        let sections = v["sections"].as_array().unwrap();
        let section = |n: &str| sections.iter().find(|s| s["name"] == n).unwrap().clone();
        let (bss, data) = (section(".bss"), section(".data"));
        assert_eq!(
            bss["delta_bytes"].as_i64().unwrap(),
            u(&bss["new_bytes"]) as i64 - u(&bss["base_bytes"]) as i64
        );
        if let (Some(s), Some(n)) = (binutils_sections(&b.small), binutils_sections(&b.big)) {
            assert_eq!(
                (u(&bss["base_bytes"]), u(&bss["new_bytes"])),
                (s[".bss"], n[".bss"])
            );
            assert_eq!(
                (u(&data["base_bytes"]), u(&data["new_bytes"])),
                (s[".data"], n[".data"])
            );
        }
    }

    #[test]
    fn fail_if_growth_exits_1_past_every_threshold_and_0_within_one() {
        let b = built();
        // RAM grows by at least 61 KiB over a few KiB: past 10% and past 1KiB.
        let v = json(&[&b.small, &b.big], &["--fail-if-growth", "10%,1KiB"], 1);
        let failed: Vec<&str> = v["totals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["grew_past_threshold"] == true)
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(
            failed.contains(&"bss") && failed.contains(&"ram"),
            "{failed:?}"
        );
        assert!(!failed.contains(&"text"), "{failed:?}");
        assert_eq!(v["failed"], true);
        // Within 1MiB: not every threshold is exceeded.
        json(&[&b.small, &b.big], &["--fail-if-growth", "10%,1MiB"], 0);
        // Shrinking never fails.
        json(&[&b.big, &b.small], &["--fail-if-growth", "0"], 0);
        // The same binary twice: nothing changed.
        let same = json(&[&b.small, &b.small], &["--fail-if-growth", "0"], 0);
        assert_eq!(same["symbols"].as_array().unwrap().len(), 0);
        assert_eq!(same["sections"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn markdown_and_table_show_the_verdict() {
        let b = built();
        let out = footprint()
            .arg(&b.small)
            .arg(&b.big)
            .args(["--fail-if-growth", "10%", "--markdown"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let md = String::from_utf8(out.stdout).unwrap();
        assert!(
            md.contains("| symbol | class | base | new | change |"),
            "{md}"
        );
        let row = format!(
            "| `BIG_TABLE` | bss | {} | {} | +61440 (+1500.0%) |",
            SMALL.0, BIG.0
        );
        assert!(md.contains(&row), "{md}");
        // The headline names the totals the JSON marks as failed.
        let v = json(&[&b.small, &b.big], &["--fail-if-growth", "10%"], 1);
        let failed: Vec<&str> = v["totals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["grew_past_threshold"] == true)
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        let headline = format!("; FAIL: {} grew past 10%", failed.join(", "));
        assert!(md.contains(&headline), "{headline}\n{md}");

        let out = footprint().arg(&b.small).arg(&b.big).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text.lines().find(|l| l.ends_with(" BIG_TABLE")).unwrap();
        assert_eq!(
            line.split_whitespace().collect::<Vec<_>>(),
            ["4096", "65536", "+61440", "(+1500.0%)", "bss", "BIG_TABLE"]
        );
    }
}

#[test]
fn c_programs_built_with_cc() {
    let dir = tempfile::tempdir().unwrap();
    let build = |name: &str, table: u32| {
        let src = dir.path().join(format!("{name}.c"));
        std::fs::write(
            &src,
            format!(
                "char big_table[{table}];\nint init_values[8] = {{1}};\n\
                 int main(int argc, char **argv) {{ big_table[argc] = 1; \
                 return big_table[argc] + init_values[argc % 8]; }}\n"
            ),
        )
        .unwrap();
        let out = dir.path().join(name);
        let status = std::process::Command::new("cc")
            .arg("-o")
            .arg(&out)
            .arg(&src)
            .status();
        match status {
            Ok(s) if s.success() => Some(out),
            _ => None,
        }
    };
    let (Some(a), Some(b)) = (build("a", 1000), build("b", 3000)) else {
        eprintln!("no working `cc`: the C programs were not built, test skipped");
        return;
    };
    let v = json(&[&a, &b], &[], 0);
    let table = v["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "big_table")
        .unwrap();
    assert_eq!(
        (u(&table["base_bytes"]), u(&table["new_bytes"])),
        (1000, 3000)
    );
    assert_eq!(table["class"], "bss");
    if let Some(n) = binutils_symbol_size(&b, "big_table") {
        assert_eq!(n, 3000);
    }
}

mod bad_input {
    use super::*;

    /// Runs `footprint ARGS`, checking exit 2, one line on stderr, nothing on stdout, no panic.
    fn refused(args: &[&std::ffi::OsStr]) -> String {
        let out = footprint().args(args).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(out.stdout.is_empty());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }

    #[test]
    fn a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let e = refused(&[missing.as_os_str()]);
        assert_eq!(
            e,
            format!(
                "memprobe-daemon: BINARY {}: cannot read it: No such file or directory (os error 2)\n",
                missing.display()
            )
        );
    }

    #[test]
    fn not_an_object_file_names_the_side() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "just some text, longer than any file magic\n").unwrap();
        let e = refused(&[built().small.as_os_str(), text.as_os_str()]);
        assert_eq!(
            e,
            format!(
                "memprobe-daemon: BINARY2 {}: not an ELF or Mach-O object file, or truncated \
                 (Unknown file magic); give an executable, a shared library or an object file \
                 (.o), for any target\n",
                text.display()
            )
        );
    }

    #[test]
    fn a_truncated_binary() {
        let dir = tempfile::tempdir().unwrap();
        let whole = std::fs::read(&built().small).unwrap();
        for keep in [3, 64, 200, whole.len() / 2] {
            let cut = dir.path().join(format!("cut-{keep}"));
            std::fs::write(&cut, &whole[..keep]).unwrap();
            let e = refused(&[cut.as_os_str()]);
            assert!(
                e.starts_with(&format!(
                    "memprobe-daemon: BINARY {}: not an ELF or Mach-O object file, or truncated (",
                    cut.display()
                )),
                "{keep}: {e}"
            );
        }
    }

    #[test]
    fn a_threshold_needs_two_binaries_and_a_known_form() {
        let small = built().small.as_os_str();
        let e = refused(&[small, "--fail-if-growth".as_ref(), "5%".as_ref()]);
        assert_eq!(
            e,
            "memprobe-daemon: --fail-if-growth needs two binaries to compare: give BINARY2 (the \
             build under test) after BINARY\n"
        );
        let e = refused(&[small, small, "--fail-if-growth".as_ref(), "5".as_ref()]);
        assert!(e.starts_with("memprobe-daemon: --fail-if-growth"), "{e}");
    }
}

/// Mach-O, written here by `object`'s writer (there is no Apple toolchain on Linux): its classes
/// come from segments and section kinds, and symbol sizes from address gaps, as the output says.
mod macho {
    use super::*;
    use object::write::{self, StandardSection, SymbolSection};
    use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};

    /// A Mach-O object: two functions (12 and 20 bytes), 64 bytes of data, a 16-byte string, two
    /// zero-fill symbols (`table` bytes and 8) and a local `counter` in data (4) and zero-fill (12).
    fn object_file(table: u64) -> Vec<u8> {
        let mut obj = write::Object::new(
            BinaryFormat::MachO,
            Architecture::Aarch64,
            Endianness::Little,
        );
        let symbol = |obj: &mut write::Object, name: &str, kind| {
            obj.add_symbol(write::Symbol {
                name: name.as_bytes().to_vec(),
                value: 0,
                size: 0,
                kind,
                scope: SymbolScope::Linkage,
                weak: false,
                section: SymbolSection::Undefined,
                flags: SymbolFlags::None,
            })
        };
        let text = obj.section_id(StandardSection::Text);
        let data = obj.section_id(StandardSection::Data);
        let rodata = obj.section_id(StandardSection::ReadOnlyData);
        let bss = obj.section_id(StandardSection::UninitializedData);
        let main = symbol(&mut obj, "main", SymbolKind::Text);
        obj.add_symbol_data(main, text, &[0x1f; 12], 4);
        let probe = symbol(
            &mut obj,
            "_ZN4prog5probe17h0123456789abcdefE",
            SymbolKind::Text,
        );
        obj.add_symbol_data(probe, text, &[0x1f; 20], 4);
        let values = symbol(&mut obj, "init_values", SymbolKind::Data);
        obj.add_symbol_data(values, data, &[7; 64], 8);
        let message = symbol(&mut obj, "message", SymbolKind::Data);
        obj.add_symbol_data(message, rodata, b"footprint test!\0", 8);
        let big = symbol(&mut obj, "big_table", SymbolKind::Data);
        obj.add_symbol_bss(big, bss, table, 8);
        let small = symbol(&mut obj, "small", SymbolKind::Data);
        obj.add_symbol_bss(small, bss, 8, 8);
        // Two file-local statics of one name: listed once, summed, in the class of the larger.
        for (section, size) in [(data, 4), (bss, 12)] {
            let counter = obj.add_symbol(write::Symbol {
                name: b"counter".to_vec(),
                value: 0,
                size: 0,
                kind: SymbolKind::Data,
                scope: SymbolScope::Compilation,
                weak: false,
                section: SymbolSection::Undefined,
                flags: SymbolFlags::None,
            });
            if section == bss {
                obj.add_symbol_bss(counter, section, size, 4);
            } else {
                obj.add_symbol_data(counter, section, &[1; 4], 4);
            }
        }
        obj.write().unwrap()
    }

    #[test]
    fn sections_classes_and_symbol_sizes_from_address_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.o"), dir.path().join("b.o"));
        std::fs::write(&a, object_file(4096)).unwrap();
        std::fs::write(&b, object_file(8192)).unwrap();
        let v = json(&[&a], &[], 0);
        let f = &v["binary"];
        assert_eq!(f["format"], "Mach-O");
        assert_eq!(f["symbol_sizes"], "address_gaps");
        let t = &f["totals"];
        let totals: Vec<u64> = ["text", "rodata", "data", "bss", "flash", "ram"]
            .iter()
            .map(|n| u(&t[format!("{n}_bytes")]))
            .collect();
        assert_eq!(totals, [32, 16, 68, 4116, 32 + 16 + 68, 68 + 4116]);
        let sections = sizes(&f["sections"]);
        assert_eq!(sections["__TEXT,__text"], 32);
        assert_eq!(sections["__DATA,__data"], 68);
        assert_eq!(sections["__DATA,__bss"], 4116);
        let symbols = sizes(&f["symbols"]);
        let expected: BTreeMap<String, u64> = [
            ("big_table", 4096),
            ("init_values", 64),
            ("prog::probe", 20),
            ("message", 16),
            ("main", 12),
            ("small", 8),
            ("counter", 16),
        ]
        .into_iter()
        .map(|(n, s)| (n.to_owned(), s))
        .collect();
        assert_eq!(symbols, expected);
        let counter = f["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "counter")
            .unwrap();
        assert_eq!(
            (&counter["class"], &counter["count"]),
            (&"bss".into(), &2.into())
        );

        let d = json(&[&a, &b], &["--fail-if-growth", "50%"], 1);
        assert_eq!(d["symbols"][0]["name"], "big_table");
        assert_eq!(d["symbols"][0]["delta_bytes"], 4096);
        assert_eq!(d["symbols"].as_array().unwrap().len(), 1);
    }
}
