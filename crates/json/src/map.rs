//! [`Map`], the JSON object type: a `Vec` of entries kept sorted by key and
//! searched by binary search, giving serde_json's (BTreeMap) iteration and
//! output order with much less code.

use super::value::Value;

/// A JSON object: entries kept sorted by key (byte order), one per key.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Map {
    entries: Vec<(String, Value)>,
}

/// One `(key, value)` entry of a [`Map`].
type Entry = (String, Value);

impl Map {
    /// An empty map.
    pub fn new() -> Map {
        Map::default()
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Map {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// Binary search for `k`: `Ok(index)` if present, else insertion point.
    fn find(&self, k: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.0.as_str().cmp(k))
    }

    /// Inserts or replaces `k`, returning the previous value.
    pub fn insert(&mut self, k: String, v: Value) -> Option<Value> {
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, v)),
            Err(i) => {
                self.entries.insert(i, (k, v));
                None
            }
        }
    }

    /// The value under `k`.
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.find(k).ok().map(|i| &self.entries[i].1)
    }

    /// Mutable access to the value under `k`.
    pub fn get_mut(&mut self, k: &str) -> Option<&mut Value> {
        let i = self.find(k).ok()?;
        Some(&mut self.entries[i].1)
    }

    /// The value under `k`, inserting `Null` first if it is missing.
    pub(super) fn entry_or_null(&mut self, k: &str) -> &mut Value {
        let i = match self.find(k) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (k.to_owned(), Value::Null));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Removes `k`, returning its value.
    pub fn remove(&mut self, k: &str) -> Option<Value> {
        let i = self.find(k).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// Whether `k` is present.
    pub fn contains_key(&self, k: &str) -> bool {
        self.find(k).is_ok()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in key order.
    pub fn iter(&self) -> MapIter<'_> {
        MapIter(self.entries.iter())
    }

    /// Entries in key order, values mutable.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&String, &mut Value)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.entries.iter().map(|e| &e.0)
    }

    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|e| &e.1)
    }

    /// Builds a map from entries in any order; for duplicate keys the last
    /// one wins. Already sorted input (the common case) is taken as is.
    pub(super) fn from_entries(v: Vec<Entry>) -> Map {
        if v.windows(2).all(|w| w[0].0 < w[1].0) {
            return Map { entries: v };
        }
        let sorted = merge_sort(v);
        let mut entries: Vec<Entry> = Vec::with_capacity(sorted.len());
        for (k, val) in sorted {
            match entries.last_mut() {
                Some(last) if last.0 == k => last.1 = val,
                _ => entries.push((k, val)),
            }
        }
        Map { entries }
    }
}

/// Stable sort of entries by key (small code, `O(n log n)`), so that after
/// sorting the last of several duplicate keys is the last one in input order.
fn merge_sort(mut v: Vec<Entry>) -> Vec<Entry> {
    if v.len() <= 16 {
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && v[j - 1].0 > v[j].0 {
                v.swap(j - 1, j);
                j -= 1;
            }
        }
        return v;
    }
    let right = v.split_off(v.len() / 2);
    let (left, right) = (merge_sort(v), merge_sort(right));
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    loop {
        let take_left = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => a.0 <= b.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return out,
        };
        out.extend(if take_left { l.next() } else { r.next() });
    }
}

/// Borrowing iterator over a [`Map`]'s entries in key order.
#[derive(Clone, Debug)]
pub struct MapIter<'a>(std::slice::Iter<'a, Entry>);

impl<'a> Iterator for MapIter<'a> {
    type Item = (&'a String, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for MapIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for MapIter<'_> {}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = MapIter<'a>;
    fn into_iter(self) -> MapIter<'a> {
        self.iter()
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(it: I) -> Map {
        Map::from_entries(it.into_iter().collect())
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, it: I) {
        for (k, v) in it {
            self.insert(k, v);
        }
    }
}
