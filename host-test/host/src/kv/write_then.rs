//! Writes sent with the read that follows them: a call's `set`s and `delete`s are held
//! back (see [`crate::write_behind`]) and go to the backend with its next read, in one
//! request (Redis: one script; redb: one write transaction; memory: one lock). The host's
//! own clean-ups of sets go the same way, many writes in one request.

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Set the key to the value.
    Set(String, Vec<u8>),
    /// Remove the key (nothing happens if it is missing).
    Delete(String),
    /// Remove the key only while it holds exactly this value: a record that names one
    /// handover is forgotten without reading it first, and never another handover's.
    DeleteIfEqual(String, Vec<u8>),
    /// Add the member to the set ([`super::Store::set_add`]).
    SetAdd(String, String),
    /// Remove the member from the set ([`super::Store::set_remove`]).
    SetRemove(String, String),
    /// Remove the whole set ([`super::Store::set_clear`]).
    SetClear(String),
    /// Remove the set and, first, every key named by the second string followed by one of
    /// its members: records indexed by a set are forgotten without reading the set first.
    SetClearWithKeys(String, String),
}

impl Write {
    /// The key written, or the set's name.
    pub fn key(&self) -> &str {
        match self {
            Write::Set(k, _) | Write::Delete(k) | Write::DeleteIfEqual(k, _) => k,
            Write::SetAdd(s, _)
            | Write::SetRemove(s, _)
            | Write::SetClear(s)
            | Write::SetClearWithKeys(s, _) => s,
        }
    }

    /// Whether it writes a set rather than a key.
    pub fn is_set(&self) -> bool {
        matches!(
            self,
            Write::SetAdd(..)
                | Write::SetRemove(..)
                | Write::SetClear(_)
                | Write::SetClearWithKeys(..)
        )
    }

    /// The bytes it carries (key or set name, value or member).
    pub fn bytes(&self) -> usize {
        self.key().len()
            + match self {
                Write::Set(_, v) | Write::DeleteIfEqual(_, v) => v.len(),
                Write::SetAdd(_, m) | Write::SetRemove(_, m) | Write::SetClearWithKeys(_, m) => {
                    m.len()
                }
                Write::Delete(_) | Write::SetClear(_) => 0,
            }
    }
}

/// What is done after the writes, in the same request.
#[derive(Debug, Clone, Copy)]
pub enum Then<'a> {
    /// Nothing: the writes alone.
    Nothing,
    /// [`super::Store::get`].
    Get(&'a str),
    /// [`super::Store::exists`].
    Exists(&'a str),
    /// [`super::Store::get_many`].
    GetMany(&'a [String]),
    /// [`super::Store::increment`].
    Increment(&'a str, u64),
}

/// The answer of a [`Then`], the variant of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// To [`Then::Nothing`].
    Nothing,
    /// To [`Then::Get`].
    Value(Option<Vec<u8>>),
    /// To [`Then::Exists`].
    Exists(bool),
    /// To [`Then::GetMany`].
    Values(Vec<Option<Vec<u8>>>),
    /// To [`Then::Increment`].
    Count(u64),
}
