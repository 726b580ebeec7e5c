//! GitHub Actions workflow commands: `::error file=…,line=…,title=…::message` lines that the
//! runner turns into annotations on the pull request, at the source line they name. One wording
//! of the escaping for every producer (a failing `#[memprobe]` test, `watch`, `verdict`,
//! `compare`): `%`, CR and LF in the message; those and `:` and `,` in properties, which the
//! runner would otherwise read as separators.

use std::fmt;

/// How the runner shows an annotation.
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::github::Level::Warning.to_string(), "warning");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// `::error`: a failure.
    Error,
    /// `::warning`: worth a look, not a failure.
    Warning,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Error => "error",
            Level::Warning => "warning",
        })
    }
}

/// One annotation; its `Display` is the workflow command line (without the newline).
///
/// # Examples
///
/// ```
/// use memprobe::github::{Annotation, Level};
/// let a = Annotation::new(Level::Error, "memprobe", "grew: 10%\nsee log").at("tests/a,b.rs", 7);
/// assert_eq!(a.to_string(), "::error file=tests/a%2Cb.rs,line=7,title=memprobe::grew: 10%25%0Asee log");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    level: Level,
    file: Option<(String, u32)>,
    title: String,
    message: String,
}

impl Annotation {
    /// An annotation without a source location.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::github::{Annotation, Level};
    /// let a = Annotation::new(Level::Warning, "memprobe watch", "inconclusive: too short");
    /// assert_eq!(a.to_string(), "::warning title=memprobe watch::inconclusive: too short");
    /// ```
    pub fn new(level: Level, title: impl Into<String>, message: impl Into<String>) -> Self {
        Annotation {
            level,
            file: None,
            title: title.into(),
            message: message.into(),
        }
    }

    /// The annotation at `line` of `file` (relative to the repository root, as `file!()` gives
    /// it for a workspace crate).
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::github::{Annotation, Level};
    /// let a = Annotation::new(Level::Error, "t", "m").at("src/lib.rs", 3);
    /// assert!(a.to_string().starts_with("::error file=src/lib.rs,line=3,"));
    /// ```
    #[must_use]
    pub fn at(mut self, file: impl Into<String>, line: u32) -> Self {
        self.file = Some((file.into(), line));
        self
    }
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "::{} ", self.level)?;
        if let Some((file, line)) = &self.file {
            write!(f, "file={},line={line},", property(file))?;
        }
        write!(
            f,
            "title={}::{}",
            property(&self.title),
            data(&self.message)
        )
    }
}

/// Whether this process runs in GitHub Actions (`GITHUB_ACTIONS=true`), where annotations are
/// printed without being asked for.
///
/// # Examples
///
/// ```
/// let expected = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
/// assert_eq!(memprobe::github::in_actions(), expected);
/// ```
pub fn in_actions() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// `s` escaped as a command's message.
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::github::data("10%\r\nx: y"), "10%25%0D%0Ax: y");
/// ```
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `s` escaped as a property value (`file=`, `title=`).
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::github::property("a:b,c%"), "a%3Ab%2Cc%25");
/// ```
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
