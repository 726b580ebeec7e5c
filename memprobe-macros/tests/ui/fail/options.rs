use memprobe::memprobe;

#[memprobe(max_alocs = 0)]
fn unknown_option() {}

#[memprobe(max_allocs = 1, max_allocs = 2)]
fn repeated_option() {}

#[memprobe(max_allocs = "0", iters = 1.5, purge = "yes")]
fn wrong_types() {}

#[memprobe(max_bytes = "12 KBB", max_rss_growth = "ten%", scope = "global")]
fn bad_strings() {}

#[memprobe(warmup = 10, baseline = "create_job")]
fn options_that_need_another() {}

#[memprobe(iters = 0, fail_if_growth = "64 KiB", report = "xml")]
fn out_of_range() {}

#[memprobe(max_bytes)]
fn missing_value() {}

#[memprobe(max_bytes = -1, max_peak = "99999999999 GiB", max_net = "10%")]
fn sizes_out_of_the_grammar() {}

#[memprobe(max_rss_growth = "5", fail_if_growth = "5", max_allocs = 1)]
fn bare_growth_numbers() {}

fn main() {}
