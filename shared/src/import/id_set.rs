//! The persons a run has read, for the passes after the persons' pages.
//!
//! Written here rather than a `HashSet<u128>`: a run holds one id per person
//! of the municipality (about 257,000 at 100,000 pupils), and a hash set
//! spends 17 bytes per bucket at up to twice the buckets it needs (8.4 MiB
//! at that size, plus the old table while it grows), where a sorted vector
//! spends 16 bytes per id (3.9 MiB). Ids are added during one pass and only
//! looked up after it, so the set is built, then sealed once, then read.

/// Ids added in any order; [`IdSet::seal`] before the first lookup.
#[derive(Debug, Default)]
pub struct IdSet {
    ids: Vec<u128>,
    sealed: bool,
}

impl IdSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, id: u128) {
        self.ids.push(id);
        self.sealed = false;
    }

    /// Sorts (in linear time when the ids came in order, as the registry
    /// pages them), drops repeats and gives back the spare capacity.
    pub fn seal(&mut self) {
        self.ids.sort_unstable();
        self.ids.dedup();
        self.ids.shrink_to_fit();
        self.sealed = true;
    }

    /// Whether `id` was added. Only meaningful once sealed.
    pub fn contains(&self, id: u128) -> bool {
        debug_assert!(self.sealed, "IdSet read before it was sealed");
        self.ids.binary_search(&id).is_ok()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::IdSet;

    #[test]
    fn ids_added_out_of_order_and_twice_are_found_once_sealed() {
        let mut set = IdSet::new();
        for id in [9u128, 3, 7, 3, u128::MAX, 0] {
            set.insert(id);
        }
        set.seal();
        assert_eq!(set.len(), 5);
        for id in [0u128, 3, 7, 9, u128::MAX] {
            assert!(set.contains(id), "{id}");
        }
        for id in [1u128, 8, 10] {
            assert!(!set.contains(id), "{id}");
        }
    }

    #[test]
    fn ids_added_in_order_are_found() {
        let mut set = IdSet::new();
        for id in 1..=1000u128 {
            set.insert(id * 2);
        }
        set.seal();
        assert!(set.contains(2) && set.contains(2000) && set.contains(1000));
        assert!(!set.contains(1) && !set.contains(2001));
    }

    #[test]
    fn an_empty_set_contains_nothing() {
        let mut set = IdSet::new();
        set.seal();
        assert_eq!(set.len(), 0);
        assert!(!set.contains(0));
    }
}
