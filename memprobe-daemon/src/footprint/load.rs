//! Reading one binary: the file's bytes, parsed by `object` as ELF or Mach-O, then measured by
//! [`super::measure`]. Every failure is one line naming the side (`BINARY`, `BINARY2`), the path
//! and what to give instead.

use super::measure::{self, Footprint};
use anyhow::{Context, Result, bail};
use object::BinaryFormat;
use std::path::Path;

/// Reads and measures the binary at `path`; `role` names it in errors (`BINARY`, `BINARY2`).
///
/// # Errors
///
/// A missing or unreadable file, a file that is not an object file (or is truncated), or an
/// object file of a format other than ELF and Mach-O.
pub(crate) fn load(role: &str, path: &Path) -> Result<Footprint> {
    let data = std::fs::read(path)
        .with_context(|| format!("{role} {}: cannot read it", path.display()))?;
    let file = match object::File::parse(&*data) {
        Ok(file) => file,
        Err(e) => bail!(
            "{role} {}: not an ELF or Mach-O object file, or truncated ({e}); give an \
             executable, a shared library or an object file (.o), for any target",
            path.display()
        ),
    };
    let format = match file.format() {
        BinaryFormat::Elf => "ELF",
        BinaryFormat::MachO => "Mach-O",
        other => bail!(
            "{role} {}: a {other:?} file; footprint reads ELF and Mach-O only",
            path.display()
        ),
    };
    measure::measure(&file, format, path)
        .with_context(|| format!("{role} {}: reading its sections", path.display()))
}
