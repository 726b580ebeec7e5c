//! `memprobe-daemon watch` end to end, on real processes (the `memprobe-soak-target` helper), one
//! file per area in one test binary, their set-up in `support`. Runs are short (≤ 4 s each) so
//! the whole binary stays well under a minute on two cores.

mod support;

mod cgroup;
mod cli;
mod extras;
mod fakeproc;
mod faults;
mod growth;
mod loads;
mod sampling;
mod shapes;
mod signals;
mod sites;
mod tree;
mod verdict_command;
