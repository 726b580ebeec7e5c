//! Diagnostics shared by both phases: [`Errors`] gathers every problem into one `syn::Error`,
//! and the messages for an option given twice or unknown (with the closest valid name).

use super::table::OPTIONS;
use proc_macro2::Span;

/// Errors gathered across options, combined into one.
#[derive(Debug, Default)]
pub(crate) struct Errors(pub(super) Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn extend(&mut self, other: Errors) {
        if let Some(e) = other.0 {
            self.push(e);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn into_result(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The error on the second of two occurrences of option `name`.
pub(super) fn twice(span: Span, name: &str) -> syn::Error {
    syn::Error::new(span, format!("`{name}` is given twice: keep one"))
}

pub(super) fn unknown(span: Span, name: &str) -> syn::Error {
    let hint = closest(name)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    syn::Error::new(
        span,
        format!(
            "unknown option `{name}`{hint}; the options are: {}",
            OPTIONS.join(", ")
        ),
    )
}

/// The option within two edits of `name`, if any.
pub(super) fn closest(name: &str) -> Option<&'static str> {
    OPTIONS
        .iter()
        .copied()
        .map(|o| (edit_distance(name, o), o))
        .filter(|&(d, _)| d <= 2)
        .min()
        .map(|(_, o)| o)
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

pub(super) fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}
