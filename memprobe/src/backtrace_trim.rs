//! Backtrace trimming for failure messages: of the backtrace captured at a probe's first
//! allocation, keep the frames between the allocator and the measured function, so a
//! `max_allocs = 0` failure points at the user's code.

/// The frames between the allocator and the measured function: drops the capture and allocator
/// frames at the top and the runtime and harness frames below `__private`.
pub(crate) fn trim_backtrace(trace: &str) -> String {
    let mut frames: Vec<Vec<&str>> = Vec::new();
    for line in trace.lines() {
        let is_header = line
            .trim_start()
            .split_once(": ")
            .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
        match frames.last_mut() {
            Some(frame) if !is_header => frame.push(line),
            _ => frames.push(vec![line]),
        }
    }
    let symbol = |frame: &Vec<&str>| {
        frame[0]
            .trim_start()
            .split_once(": ")
            .map_or("", |(_, s)| s)
            .to_owned()
    };
    let start = frames
        .iter()
        .position(|f| !is_machinery(&symbol(f)))
        .unwrap_or(0);
    let end = frames[start..]
        .iter()
        .position(|f| {
            let s = symbol(f);
            s.starts_with("memprobe::__private::")
                || s.starts_with("<memprobe::alloc::attribution::Scoped")
        })
        .map_or(frames.len(), |i| start + i)
        .min(start + 16);
    if start >= end {
        return trace.to_owned();
    }
    frames[start..end]
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Frames of the allocation path itself: the capture, memprobe's allocator, and the standard
/// library's allocation code (`Vec`, `String`, `<u8 as SpecFromElem>`, ...). A user type's impl of
/// a std trait (`<my::Type as core::clone::Clone>::clone`) is not machinery.
pub(crate) fn is_machinery(symbol: &str) -> bool {
    const OURS: &[&str] = &[
        "std::backtrace",
        // The `backtrace` crate, when the capture goes through it rather than std.
        "backtrace::",
        "<backtrace::",
        "memprobe::alloc",
        "<memprobe::alloc",
        "__rust",
        "__rdl",
        "__rg_",
    ];
    if OURS.iter().any(|p| symbol.starts_with(p)) {
        return true;
    }
    // Paths into the standard library, and primitive or built-in types (`u8`, `str`, `[T]`, `&T`).
    let std_path = |p: &str| {
        p.starts_with(['&', '*', '[', '('])
            || ["alloc::", "core::", "std::", "hashbrown::"]
                .iter()
                .any(|s| p.starts_with(s))
            || p.split(['<', '>']).next().is_some_and(|head| {
                !head.contains("::") && head.starts_with(|c: char| c.is_ascii_lowercase())
            })
    };
    // A generic impl's own parameter (`<T as alloc::vec::spec_from_elem::SpecFromElem>`, as
    // legacy symbol names print it): any type, so the trait decides.
    let type_parameter = |p: &str| {
        p.starts_with(|c: char| c.is_ascii_uppercase())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match symbol.strip_prefix('<') {
        Some(qualified) => {
            let (self_ty, rest) = qualified.split_once(" as ").unwrap_or((qualified, ""));
            if type_parameter(self_ty) && !rest.is_empty() {
                return std_path(rest);
            }
            std_path(self_ty) && (rest.is_empty() || std_path(rest))
        }
        None => std_path(symbol),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machinery_frames() {
        for s in [
            "std::backtrace::Backtrace::force_capture",
            "backtrace::backtrace::libunwind::trace",
            "memprobe::alloc::attribution::Group::capture_first",
            "<memprobe::alloc::Counting<A> as core::alloc::global::GlobalAlloc>::alloc",
            "__rustc::__rust_alloc",
            "alloc::raw_vec::RawVec<T,A>::allocate_in",
            "<u8 as alloc::vec::spec_from_elem::SpecFromElem>::from_elem",
            "<alloc::string::String as core::clone::Clone>::clone",
            "<[T] as alloc::slice::hack::ConvertVec>::to_vec",
            "<T as alloc::vec::spec_from_elem::SpecFromElem>::from_elem",
            "<I as core::iter::traits::collect::IntoIterator>::into_iter",
        ] {
            assert!(is_machinery(s), "{s}");
        }
        for s in [
            "attribute::zero::allocates::{{closure}}",
            "<myapp::Job as core::clone::Clone>::clone",
            "<T as myapp::Encode>::encode",
            "myapp::parse",
            "memprobe::measure",
        ] {
            assert!(!is_machinery(s), "{s}");
        }
    }

    #[test]
    fn backtraces_keep_the_callers_frames() {
        let trace = "   0: std::backtrace::Backtrace::force_capture\n             at /rustc/library/std/src/backtrace.rs:1\n   1: memprobe::alloc::attribution::Group::capture_first\n   2: alloc::raw_vec::RawVec::allocate\n   3: mytests::zero::allocates::{{closure}}\n             at ./tests/x.rs:10:5\n   4: memprobe::__private::run\n   5: std::rt::lang_start";
        assert_eq!(
            trim_backtrace(trace),
            "   3: mytests::zero::allocates::{{closure}}\n             at ./tests/x.rs:10:5"
        );
    }
}
