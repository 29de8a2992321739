//! User accounts, stored beside the documents.

use std::ops::ControlFlow;

use super::Archive;
use crate::encoding::{decode, encode};
use crate::{ArchiveError, Store, Table, UserRecord};

impl<S: Store> Archive<S> {
    /// Creates or replaces a user account.
    pub fn put_user(&self, user: &UserRecord) -> Result<(), ArchiveError> {
        self.grouped(|_, s| {
            s.batch.put(Table::Users, user.name.as_bytes().to_vec(), encode(user));
            Ok(())
        })
    }

    /// A user account by name.
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>, ArchiveError> {
        let Some(bytes) = self.store.get(Table::Users, name.as_bytes())? else {
            return Ok(None);
        };
        // A record of the older form ends where the current one has its `disabled_at`, so reading it as
        // the current form fails at the end of its bytes, and it is read as what it is.
        match postcard::from_bytes::<UserRecord>(&bytes) {
            Ok(user) => Ok(Some(user)),
            Err(_) => decode::<crate::records::UserRecordV1>("user", name.as_bytes(), &bytes).map(|v1| Some(v1.into())),
        }
    }

    /// Every user account, by name.
    pub fn users(&self) -> Result<Vec<UserRecord>, ArchiveError> {
        let mut names = Vec::new();
        self.store.scan(Table::Users, &[], &[], &mut |key, _| {
            names.push(String::from_utf8_lossy(key).into_owned());
            ControlFlow::Continue(())
        })?;
        // Read one by one, since records of the older form are upgraded as they are read.
        names.iter().filter_map(|name| self.user(name).transpose()).collect()
    }

    /// Whether any user account exists.
    pub fn has_users(&self) -> Result<bool, ArchiveError> {
        let mut any = false;
        self.store.scan(Table::Users, &[], &[], &mut |_, _| {
            any = true;
            ControlFlow::Break(())
        })?;
        Ok(any)
    }
}
