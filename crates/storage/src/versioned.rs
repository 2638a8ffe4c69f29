//! In-memory entries tagged with the change counter they were read under.
//!
//! A reader takes the counter first, then the data, and keeps the data under the counter
//! it took: data read after the counter is at least that new, so an entry is never
//! tagged newer than it is. An entry serves only readers that see the same counter; when
//! the counter moves, every entry stops serving and is read again on first use.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

pub struct VersionedCache<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
    /// Entries kept; past this the cache starts over.
    limit: usize,
}

impl<K: Eq + Hash, V: Clone> VersionedCache<K, V> {
    pub fn new(limit: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            limit,
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, (i64, V)>> {
        // Plain data behind the lock: usable after a panic elsewhere.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry for `key` if it was read at counter `version`.
    pub fn get<Q>(&self, key: &Q, version: i64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries()
            .get(key)
            .filter(|(at, _)| *at == version)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value`, read after the counter showed `version`.
    pub fn put(&self, key: K, version: i64, value: V) {
        let mut entries = self.entries();
        if entries.len() >= self.limit {
            entries.clear();
        }
        entries.insert(key, (version, value));
    }
}

#[cfg(test)]
mod tests {
    use super::VersionedCache;

    #[test]
    fn an_entry_serves_only_its_own_counter_and_the_limit_starts_over() {
        let cache = VersionedCache::new(2);
        cache.put("a".to_string(), 7, 1);
        assert_eq!(cache.get("a", 7), Some(1));
        assert_eq!(cache.get("a", 8), None, "the counter moved");
        cache.put("b".to_string(), 7, 2);
        cache.put("c".to_string(), 7, 3);
        assert_eq!(cache.get("a", 7), None, "full: started over");
        assert_eq!(cache.get("c", 7), Some(3));
    }
}
