//! The bounded store of the verdict's samples: an evenly thinned copy of a stream, at most
//! [`KEEP`] items for any run length.

/// Samples of each stream kept for the verdict.
pub(crate) const KEEP: usize = 4096;

/// An evenly thinned copy of a stream: at most [`KEEP`] items, those whose index is a multiple of
/// [`stride`](Self::stride), which doubles each time the copy fills up.
///
/// ```text
///  stride 1: 0 1 2 3 … 4095   full ─▶ stride 2: 0 2 4 … 4094, then 4096 4098 …
/// ```
#[derive(Debug, Clone)]
pub(crate) struct Thinned<T> {
    items: Vec<T>,
    stride: u64,
    seen: u64,
}

impl<T> Default for Thinned<T> {
    fn default() -> Self {
        Thinned {
            items: Vec::with_capacity(KEEP),
            stride: 1,
            seen: 0,
        }
    }
}

impl<T> Thinned<T> {
    /// Offers the next item of the stream. Never allocates once created.
    pub(crate) fn push(&mut self, item: T) {
        let index = self.seen;
        self.seen += 1;
        if index % self.stride != 0 {
            return;
        }
        if self.items.len() == KEEP {
            let mut position = 0;
            self.items.retain(|_| {
                position += 1;
                position % 2 == 1
            });
            self.stride *= 2;
            if index % self.stride != 0 {
                return;
            }
        }
        self.items.push(item);
    }

    /// The items kept, oldest first.
    pub(crate) fn items(&self) -> &[T] {
        &self.items
    }

    /// Items offered in all.
    pub(crate) fn seen(&self) -> u64 {
        self.seen
    }

    /// One item kept per this many offered.
    pub(crate) fn stride(&self) -> u64 {
        self.stride
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_every_stride_th_sample_within_bounds() {
        let mut t = Thinned::default();
        let cap = t.items.capacity();
        for i in 0..(KEEP as u64 * 5 + 3) {
            t.push(i);
        }
        assert_eq!(t.stride(), 8);
        assert_eq!(t.items.capacity(), cap, "never reallocates");
        assert!(t.items().len() <= KEEP && t.items().len() > KEEP / 2);
        assert!(
            t.items()
                .iter()
                .enumerate()
                .all(|(k, &i)| i == k as u64 * 8)
        );
        assert_eq!(t.seen(), KEEP as u64 * 5 + 3);
    }
}
