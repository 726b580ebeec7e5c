//! What a probe counts: the probing thread and whoever enters its attribution, or every thread
//! of the process. Vocabulary shared by [`crate::probe`] (which counts) and [`crate::report`]
//! (which records the scope a report was measured in), so it sits below both.

use serde::{Deserialize, Serialize};

/// What a probe counts.
///
/// # Examples
///
/// ```
/// assert_eq!(memprobe::Scope::default(), memprobe::Scope::Thread);
/// assert_eq!("process".parse::<memprobe::Scope>().unwrap(), memprobe::Scope::Process);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The probing thread and the threads that enter its [`Attribution`](crate::Attribution).
    #[default]
    Thread,
    /// Every thread of the process.
    Process,
}

impl std::str::FromStr for Scope {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "thread" => Ok(Scope::Thread),
            "process" => Ok(Scope::Process),
            _ => Err(crate::Error::InvalidInput {
                kind: "scope",
                input: s.to_owned(),
                expected: "`thread` or `process`",
            }),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scope::Thread => "thread",
            Scope::Process => "process",
        })
    }
}
