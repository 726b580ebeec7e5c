//! Per-site A/B: two profiles in, one delta per site out, largest growth first.
//!
//! Sites are matched by function name. A site present on one side only counts as zero on the
//! other. Deltas are signed: a site that shrank has a negative delta.

use serde::{Deserialize, Serialize};

use super::profile::{Profile, SiteStats};

/// One site's change from profile A (before) to profile B (after).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SiteDelta {
    /// The site's function.
    pub function: String,
    /// Its estimates in A (zero if absent).
    pub before: SiteStats,
    /// Its estimates in B (zero if absent).
    pub after: SiteStats,
    /// B − A estimated bytes allocated.
    pub alloc_bytes_delta: i64,
    /// B − A estimated allocations.
    pub alloc_count_delta: i64,
    /// B − A estimated live bytes.
    pub live_bytes_delta: i64,
}

/// The per-site deltas of two profiles, by [`SiteDelta::alloc_bytes_delta`], largest first.
///
/// # Examples
///
/// ```
/// # memprobe::sites::__doc_allocator!();
/// use memprobe::sites::{ProfileDiff, Sampling, Session};
///
/// #[inline(never)]
/// fn work(n: usize) -> Vec<u8> { Vec::with_capacity(n) }
///
/// let a = { let s = Session::start(Sampling::Exact)?; drop(work(1000)); s.finish() };
/// let b = { let s = Session::start(Sampling::Exact)?; drop(work(3000)); s.finish() };
/// let diff = ProfileDiff::new(&a, &b);
/// assert!(diff.sites[0].function.ends_with("work"));
/// assert_eq!(diff.sites[0].alloc_bytes_delta, 2000);
/// # Ok::<(), memprobe::sites::SitesError>(())
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProfileDiff {
    /// Every site of either profile, largest growth in bytes allocated first.
    pub sites: Vec<SiteDelta>,
}

impl ProfileDiff {
    /// Matches the sites of `before` and `after` by function and sorts by growth.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::sites::{Profile, ProfileDiff};
    /// assert!(ProfileDiff::new(&Profile::default(), &Profile::default()).sites.is_empty());
    /// ```
    pub fn new(before: &Profile, after: &Profile) -> ProfileDiff {
        let mut sites: Vec<SiteDelta> = Vec::new();
        let mut entry = |function: &str| -> usize {
            match sites.iter().position(|d| d.function == function) {
                Some(i) => i,
                None => {
                    sites.push(SiteDelta {
                        function: function.to_owned(),
                        before: SiteStats::default(),
                        after: SiteStats::default(),
                        alloc_bytes_delta: 0,
                        alloc_count_delta: 0,
                        live_bytes_delta: 0,
                    });
                    sites.len() - 1
                }
            }
        };
        let mut pairs = Vec::new();
        for site in &before.sites {
            pairs.push((entry(&site.function), true, site.stats));
        }
        for site in &after.sites {
            pairs.push((entry(&site.function), false, site.stats));
        }
        for (i, is_before, stats) in pairs {
            if is_before {
                sites[i].before = stats;
            } else {
                sites[i].after = stats;
            }
        }
        let signed = |a: u64, b: u64| b as i64 - a as i64;
        for d in &mut sites {
            d.alloc_bytes_delta = signed(d.before.alloc_bytes, d.after.alloc_bytes);
            d.alloc_count_delta = signed(d.before.alloc_count, d.after.alloc_count);
            d.live_bytes_delta = signed(d.before.live_bytes, d.after.live_bytes);
        }
        sites.sort_by(|a, b| {
            b.alloc_bytes_delta
                .cmp(&a.alloc_bytes_delta)
                .then_with(|| a.function.cmp(&b.function))
        });
        ProfileDiff { sites }
    }

    /// The same deltas ordered by growth of live bytes, largest first: for a soak's growth
    /// verdict, where what stays matters more than what passes through.
    ///
    /// # Examples
    ///
    /// ```
    /// use memprobe::sites::{Profile, ProfileDiff};
    /// let diff = ProfileDiff::new(&Profile::default(), &Profile::default()).by_live_growth();
    /// assert!(diff.sites.is_empty());
    /// ```
    pub fn by_live_growth(mut self) -> ProfileDiff {
        self.sites.sort_by(|a, b| {
            b.live_bytes_delta
                .cmp(&a.live_bytes_delta)
                .then_with(|| a.function.cmp(&b.function))
        });
        self
    }
}
