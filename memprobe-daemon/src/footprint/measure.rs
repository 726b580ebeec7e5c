//! The static footprint of one parsed binary: its loaded sections sorted into four classes, the
//! flash/RAM split, and its symbols by size. Plain data; nothing here formats.
//!
//! # The rule
//!
//! Only sections the loader places in memory count (ELF `SHF_ALLOC`; on Mach-O every section
//! outside `__DWARF`); debug info, symbol tables and notes that stay in the file do not. A loaded
//! section is:
//!
//! | class    | ELF                                   | Mach-O                               |
//! |----------|---------------------------------------|--------------------------------------|
//! | `text`   | `SHF_EXECINSTR`                       | code sections                        |
//! | `bss`    | `SHT_NOBITS` (`.bss`, `.tbss`)        | zero-fill sections, common symbols   |
//! | `data`   | `SHF_WRITE` or `SHF_TLS`, with bytes  | other sections outside `__TEXT`      |
//! | `rodata` | any other loaded section              | other sections in `__TEXT`           |
//!
//! so `rodata` holds every read-only loaded byte that is not code (`.rodata`, `.eh_frame`, and on
//! hosted binaries `.dynsym` or `.rela.dyn`), which is what occupies flash on a microcontroller.
//! Then, as a linker script lays out an embedded image:
//!
//! ```text
//!   flash = text + rodata + data    (the load image: .data's initial values are copied to RAM)
//!   RAM   = data + bss              (static RAM before any stack or heap)
//! ```
//!
//! Sizes are the section headers' sizes, exact; `size -A` prints the same per section.
//!
//! # Symbols
//!
//! Defined symbols in a loaded section, named by `rustc-demangle` without the hash (`{:#}`), so
//! one Rust function keeps its name across builds; symbols of one name (local statics of several
//! files) are summed, with their count. ELF records each symbol's size exactly (`nm -S`); Mach-O
//! records none, so there a symbol's size is the distance to the next symbol of its section or
//! to the section's end, and [`Footprint::symbol_sizes`] says so.

use anyhow::Result;
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, SectionKind, SymbolSection};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Where a loaded section's bytes live (see the module doc for the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Class {
    /// Machine code: flash.
    Text,
    /// Read-only data: flash.
    Rodata,
    /// Initialised writable data: flash (initial values) and RAM.
    Data,
    /// Zero-initialised data: RAM only.
    Bss,
}

impl Class {
    /// The class's name as shown: `text`, `rodata`, `data`, `bss`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Class::Text => "text",
            Class::Rodata => "rodata",
            Class::Data => "data",
            Class::Bss => "bss",
        }
    }
}

/// The totals of a binary, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub(crate) struct Totals {
    /// Bytes of code sections.
    pub(crate) text_bytes: u64,
    /// Bytes of read-only loaded sections that are not code.
    pub(crate) rodata_bytes: u64,
    /// Bytes of initialised writable sections.
    pub(crate) data_bytes: u64,
    /// Bytes of zero-initialised sections.
    pub(crate) bss_bytes: u64,
    /// The load image: text + rodata + data.
    pub(crate) flash_bytes: u64,
    /// Static RAM: data + bss.
    pub(crate) ram_bytes: u64,
}

impl Totals {
    /// The figures by name, in the order they are shown and judged.
    pub(crate) fn figures(&self) -> [(&'static str, u64); 6] {
        [
            ("text", self.text_bytes),
            ("rodata", self.rodata_bytes),
            ("data", self.data_bytes),
            ("bss", self.bss_bytes),
            ("flash", self.flash_bytes),
            ("ram", self.ram_bytes),
        ]
    }
}

/// One loaded section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub(crate) struct Section {
    /// Its name (`.text`; on Mach-O `__TEXT,__text`).
    pub(crate) name: String,
    /// Its class.
    pub(crate) class: Class,
    /// Its size from the section header.
    pub(crate) size_bytes: u64,
}

/// The symbols of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub(crate) struct Symbol {
    /// Demangled, without the Rust hash.
    pub(crate) name: String,
    /// The class of the section holding it (of the largest, when several symbols share the name).
    pub(crate) class: Class,
    /// Their summed size.
    pub(crate) size_bytes: u64,
    /// How many symbols have this name.
    pub(crate) count: u32,
}

/// How symbol sizes were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SymbolSizes {
    /// From the symbol table (ELF `st_size`): exact.
    Exact,
    /// From the gap to the next symbol (Mach-O records no sizes): padding counts to the symbol
    /// before it.
    AddressGaps,
}

/// The static footprint of one binary.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub(crate) struct Footprint {
    /// The file, as given.
    pub(crate) path: String,
    /// `ELF` or `Mach-O`.
    pub(crate) format: &'static str,
    /// The target architecture as `object` names it (`X86_64`, `Arm`, `Riscv32`).
    pub(crate) architecture: String,
    /// Per class and the flash/RAM split.
    pub(crate) totals: Totals,
    /// Loaded sections, in file order.
    pub(crate) sections: Vec<Section>,
    /// Symbols by size, largest first (ties by name).
    pub(crate) symbols: Vec<Symbol>,
    /// How symbol sizes were obtained.
    pub(crate) symbol_sizes: SymbolSizes,
}

/// Measures a parsed binary.
///
/// # Errors
///
/// A section or symbol name that cannot be read (a corrupt string table).
pub(crate) fn measure(
    file: &object::File<'_>,
    format: &'static str,
    path: &Path,
) -> Result<Footprint> {
    let macho = format == "Mach-O";
    let mut sections = Vec::new();
    let mut classes = HashMap::new();
    let mut totals = Totals::default();
    for section in file.sections() {
        let Some(class) = classify(&section) else {
            continue;
        };
        let name = match section.segment_name()? {
            Some(segment) if macho => format!("{segment},{}", section.name()?),
            _ => section.name()?.to_owned(),
        };
        let size = section.size();
        *match class {
            Class::Text => &mut totals.text_bytes,
            Class::Rodata => &mut totals.rodata_bytes,
            Class::Data => &mut totals.data_bytes,
            Class::Bss => &mut totals.bss_bytes,
        } += size;
        classes.insert(section.index(), (class, section.address() + size));
        sections.push(Section {
            name,
            class,
            size_bytes: size,
        });
    }
    totals.flash_bytes = totals.text_bytes + totals.rodata_bytes + totals.data_bytes;
    totals.ram_bytes = totals.data_bytes + totals.bss_bytes;

    // (name, class, address, size, section end) of every defined symbol in a loaded section.
    let mut raw = Vec::new();
    let table = if file.symbols().next().is_some() {
        file.symbols()
    } else {
        file.dynamic_symbols()
    };
    for symbol in table {
        let (class, end) = match symbol.section() {
            SymbolSection::Section(index) => match classes.get(&index) {
                Some(&found) => found,
                None => continue,
            },
            SymbolSection::Common => (Class::Bss, 0),
            _ => continue,
        };
        if matches!(
            symbol.kind(),
            object::SymbolKind::Section | object::SymbolKind::File
        ) {
            continue;
        }
        let name = symbol.name()?;
        if name.is_empty() {
            continue;
        }
        raw.push((name, class, symbol.address(), symbol.size(), end));
    }
    let symbol_sizes = if macho {
        // Mach-O has no symbol sizes: each runs to the next symbol's address or its section's end.
        raw.sort_by_key(|&(_, _, address, _, end)| (end, address));
        for i in 0..raw.len() {
            let (_, _, address, _, end) = raw[i];
            let next = raw[i + 1..]
                .iter()
                .take_while(|s| s.4 == end)
                .find(|s| s.2 > address)
                .map_or(end, |s| s.2);
            raw[i].3 = next.saturating_sub(address);
        }
        SymbolSizes::AddressGaps
    } else {
        SymbolSizes::Exact
    };
    // name -> (the symbols of that name, the size of the largest, which gives the class).
    let mut by_name: BTreeMap<String, (Symbol, u64)> = BTreeMap::new();
    for (name, class, _, size, _) in raw {
        if size == 0 {
            continue;
        }
        let name = demangle(if macho {
            name.strip_prefix('_').unwrap_or(name)
        } else {
            name
        });
        let (entry, largest) = by_name.entry(name.clone()).or_insert((
            Symbol {
                name,
                class,
                size_bytes: 0,
                count: 0,
            },
            0,
        ));
        if size > *largest {
            *largest = size;
            entry.class = class;
        }
        entry.size_bytes += size;
        entry.count += 1;
    }
    let mut symbols: Vec<Symbol> = by_name.into_values().map(|(s, _)| s).collect();
    symbols.sort_by(|a, b| {
        b.size_bytes
            .cmp(&a.size_bytes)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(Footprint {
        path: path.display().to_string(),
        format,
        architecture: format!("{:?}", file.architecture()),
        totals,
        sections,
        symbols,
        symbol_sizes,
    })
}

/// A section's class, or `None` when it is not loaded (debug info, symbol tables, notes in the
/// file only).
fn classify(section: &object::Section<'_, '_>) -> Option<Class> {
    let kind = section.kind();
    let zero_fill = matches!(
        kind,
        SectionKind::UninitializedData | SectionKind::UninitializedTls | SectionKind::Common
    );
    match section.flags() {
        SectionFlags::Elf { sh_flags } => {
            let flag = |f: u32| sh_flags & u64::from(f) != 0;
            if !flag(object::elf::SHF_ALLOC) {
                None
            } else if zero_fill {
                Some(Class::Bss)
            } else if flag(object::elf::SHF_EXECINSTR) {
                Some(Class::Text)
            } else if flag(object::elf::SHF_WRITE) || flag(object::elf::SHF_TLS) {
                Some(Class::Data)
            } else {
                Some(Class::Rodata)
            }
        }
        _ => {
            let segment = section.segment_name().ok().flatten().unwrap_or("");
            if segment == "__DWARF" || kind == SectionKind::Debug {
                None
            } else if zero_fill {
                Some(Class::Bss)
            } else if kind == SectionKind::Text {
                Some(Class::Text)
            } else if segment == "__TEXT"
                || matches!(
                    kind,
                    SectionKind::ReadOnlyData | SectionKind::ReadOnlyString
                )
            {
                Some(Class::Rodata)
            } else {
                Some(Class::Data)
            }
        }
    }
}

/// A symbol name for people: Rust names demangled without their hash, others as they are.
fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_lose_their_hash_and_c_names_stay() {
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE"),
            "core::fmt::write"
        );
        assert_eq!(demangle("_RNvCs1234_7mycrate3foo"), "mycrate::foo");
        assert_eq!(demangle("big_table"), "big_table");
    }
}
