//! What a baseline check allows and does: the allowed growth, the RSS noise allowance and the
//! command that blesses ([`Policy`]), and whether to compare, create or rewrite ([`Mode`], read
//! from `MEMPROBE_UPDATE` and `CI`).

use crate::error::{Error, Result};
use crate::units::parse_bytes;

/// How much growth is allowed, and how to bless.
///
/// # Examples
///
/// ```
/// use memprobe::baseline::Policy;
/// let p = Policy::new("10%")?.rss_noise("4 MiB")?;
/// assert_eq!(p.growth_percent(), 10.0);
/// assert!(Policy::new("10 KiB").is_err()); // growth over a baseline is relative
/// let bare = Policy::new("5").unwrap_err().to_string();
/// assert!(bare.contains("a bare number is ambiguous") && bare.contains("write `5%`"), "{bare}");
/// # Ok::<(), memprobe::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    growth_percent: f64,
    rss_noise_bytes: Option<u64>,
    update_command: String,
}

impl Policy {
    /// Allows each figure to grow by `growth`, a percentage such as `"10%"` or `"0%"`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSize`] when `growth` is not a percentage.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::baseline::Policy::new("2.5%")?.growth_percent(), 2.5);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn new(growth: &str) -> Result<Self> {
        let problem = match crate::units::grammar::baseline_growth(growth) {
            Ok(Some(p)) => {
                return Ok(Policy {
                    growth_percent: p,
                    rss_noise_bytes: None,
                    update_command: "MEMPROBE_UPDATE=1 cargo test".to_owned(),
                });
            }
            Ok(None) => {
                "growth over a baseline is relative to each figure: write a percentage".to_owned()
            }
            Err(problem) => problem.to_string(),
        };
        Err(Error::InvalidSize {
            kind: "growth over a baseline",
            input: growth.to_owned(),
            problem,
            expected: "a percentage such as `10%`, `2.5%` or `0%`",
        })
    }

    /// Also compares RSS growth, allowing `noise` (a size such as `"4 MiB"`) on top of the
    /// percentage.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSize`] when `noise` is not a size.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = memprobe::baseline::Policy::new("10%")?.rss_noise("1 MiB")?;
    /// assert_eq!(p.rss_noise_bytes(), Some(1 << 20));
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn rss_noise(mut self, noise: &str) -> Result<Self> {
        self.rss_noise_bytes = Some(parse_bytes(noise)?);
        Ok(self)
    }

    /// The command messages give for writing baselines (default `MEMPROBE_UPDATE=1 cargo test`).
    ///
    /// # Examples
    ///
    /// ```
    /// let p = memprobe::baseline::Policy::new("0%")?.update_command("MEMPROBE_UPDATE=1 cargo test -p parser");
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn update_command(mut self, command: impl Into<String>) -> Self {
        self.update_command = command.into();
        self
    }

    /// The command messages give for writing baselines.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = memprobe::baseline::Policy::new("0%")?.update_command("MEMPROBE_UPDATE=1 cargo test -p jobs");
    /// assert_eq!(p.update_command_line(), "MEMPROBE_UPDATE=1 cargo test -p jobs");
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn update_command_line(&self) -> &str {
        &self.update_command
    }

    /// The allowed growth, in percent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::baseline::Policy::new("0%")?.growth_percent(), 0.0);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn growth_percent(&self) -> f64 {
        self.growth_percent
    }

    /// The RSS noise allowance, when RSS is compared.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(memprobe::baseline::Policy::new("0%")?.rss_noise_bytes(), None);
    /// # Ok::<(), memprobe::Error>(())
    /// ```
    pub fn rss_noise_bytes(&self) -> Option<u64> {
        self.rss_noise_bytes
    }
}

/// What to do with baselines.
///
/// # Examples
///
/// ```
/// use memprobe::baseline::Mode;
/// assert_ne!(Mode::Local, Mode::Ci);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compare; create a missing baseline (a developer's machine).
    Local,
    /// Compare; a missing baseline is an error (continuous integration).
    Ci,
    /// Write the current figures, replacing any baseline ("bless").
    Update,
}

impl Mode {
    /// `Update` when `MEMPROBE_UPDATE` is set (and not `0`), else `Ci` when `CI` is set (and not
    /// `false` or `0`, as CI services set `CI=true`), else `Local`.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::baseline::Mode;
    /// // SAFETY: a doctest runs in a process of its own, and no other thread reads the environment.
    /// unsafe {
    ///     std::env::remove_var("MEMPROBE_UPDATE");
    ///     std::env::set_var("CI", "false");
    /// }
    /// assert_eq!(Mode::from_env(), Mode::Local);
    /// unsafe { std::env::set_var("CI", "true") };
    /// assert_eq!(Mode::from_env(), Mode::Ci);
    /// unsafe { std::env::set_var("MEMPROBE_UPDATE", "1") };
    /// assert_eq!(Mode::from_env(), Mode::Update);
    /// ```
    pub fn from_env() -> Self {
        let set = |name: &str| {
            std::env::var(name).is_ok_and(|v| {
                !matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "" | "0" | "false" | "no"
                )
            })
        };
        if set("MEMPROBE_UPDATE") {
            Mode::Update
        } else if set("CI") {
            Mode::Ci
        } else {
            Mode::Local
        }
    }
}
