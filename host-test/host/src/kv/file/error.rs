//! The file store's errors: redb's many error types boxed into one, and mapped onto
//! [`StoreError`] with the database's path and never a stored value.

use super::{Shared, StoreError};
use std::path::Path;

impl Shared {
    pub(super) fn err(&self, e: impl Into<DbError>) -> StoreError {
        from_redb(&self.path, *e.into().0)
    }
}

/// Any redb error, boxed (redb's own error type is large).
pub(super) struct DbError(Box<redb::Error>);

impl<E: Into<redb::Error>> From<E> for DbError {
    fn from(e: E) -> DbError {
        DbError(Box::new(e.into()))
    }
}

/// Maps a redb error; redb's messages carry no stored values.
pub(super) fn from_redb(path: &Path, e: redb::Error) -> StoreError {
    let path = path.display();
    match e {
        redb::Error::Corrupted(msg) => StoreError::Corrupt(format!("{path}: {msg}")),
        redb::Error::Io(e) => StoreError::Unavailable(format!("{path}: I/O error: {e}")),
        redb::Error::PreviousIo => StoreError::Unavailable(format!(
            "{path}: an earlier I/O error left the database unusable until it is reopened"
        )),
        redb::Error::DatabaseAlreadyOpen => {
            StoreError::Other(format!("{path} is already open in another process"))
        }
        redb::Error::UpgradeRequired(v) => StoreError::Corrupt(format!(
            "{path} is in redb file format {v}, which this redb cannot open"
        )),
        e @ (redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TableIsNotMultimap(_)
        | redb::Error::TypeDefinitionChanged { .. }) => {
            StoreError::Corrupt(format!("{path}: unexpected table layout: {e}"))
        }
        e => StoreError::Other(format!("{path}: {e}")),
    }
}
