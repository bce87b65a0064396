//! Writes sent with the read that follows them: a call's `set`s and `delete`s are held
//! back (see [`crate::write_behind`]) and go to the backend with its next read, in one
//! request (Redis: one script; redb: one write transaction; memory: one lock).

/// One held-back write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Set the key to the value.
    Set(String, Vec<u8>),
    /// Remove the key (nothing happens if it is missing).
    Delete(String),
}

impl Write {
    /// The key written.
    pub fn key(&self) -> &str {
        match self {
            Write::Set(k, _) | Write::Delete(k) => k,
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
