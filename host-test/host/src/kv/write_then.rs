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
    /// Add the member to the set ([`super::Store::set_add`]).
    SetAdd(String, String),
    /// Remove the member from the set ([`super::Store::set_remove`]).
    SetRemove(String, String),
    /// Remove the whole set ([`super::Store::set_clear`]).
    SetClear(String),
}

impl Write {
    /// The key written, or the set's name.
    pub fn key(&self) -> &str {
        match self {
            Write::Set(k, _) | Write::Delete(k) => k,
            Write::SetAdd(s, _) | Write::SetRemove(s, _) | Write::SetClear(s) => s,
        }
    }

    /// Whether it writes a set rather than a key.
    pub fn is_set(&self) -> bool {
        matches!(
            self,
            Write::SetAdd(..) | Write::SetRemove(..) | Write::SetClear(_)
        )
    }

    /// The bytes it carries (key or set name, value or member).
    pub fn bytes(&self) -> usize {
        self.key().len()
            + match self {
                Write::Set(_, v) => v.len(),
                Write::SetAdd(_, m) | Write::SetRemove(_, m) => m.len(),
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
