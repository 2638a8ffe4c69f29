//! The change feed of system users (`systemuser/internal/systemusers/stream`): every
//! system user that was created, changed or deleted, in the order of the history rows
//! that recorded it, with the row's sequence number as the continuation token. Deleted
//! users are in it (as deleted), so a consumer that follows the feed mirrors them all.

use systembruker_storage::{HistoryFilter, StoredSystemUser};
use uuid::Uuid;

use crate::{App, AppError, AppResult};

/// Rows of the history read per page, as the reference's page of 100.
pub const STREAM_PAGE: i64 = 100;

/// A system user as of the change at `sequence`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamItem {
    pub user: StoredSystemUser,
    /// The history row of the change: what `token` continues after.
    pub sequence: i64,
}

/// Keeps the last change of each system user (a user changed twice in one page is
/// listed once, at its last change), in the order of those changes.
pub fn last_change_of_each(changes: Vec<(i64, Uuid)>) -> Vec<(i64, Uuid)> {
    let mut out: Vec<(i64, Uuid)> = Vec::new();
    for (seq, id) in changes {
        out.retain(|(_, seen)| *seen != id);
        out.push((seq, id));
    }
    out
}

/// The next page of the feed after `after` (0: from the start), and the sequence number
/// the page ends at (the `token` of the next page; `after` when the page is empty).
pub async fn stream(app: &App, after: i64) -> AppResult<(Vec<StreamItem>, i64)> {
    if after < 0 {
        return Err(AppError::invalid_field(
            "token",
            "the token is not one this API gave out",
        ));
    }
    let rows = app
        .store
        .history(&HistoryFilter {
            entity: Some("system_user".into()),
            entity_id: None,
            after,
            limit: STREAM_PAGE,
        })
        .await?;
    let end = rows.last().map_or(after, |r| r.seq);
    let changes = rows
        .iter()
        .filter_map(|r| Uuid::parse_str(&r.entity_id).ok().map(|id| (r.seq, id)))
        .collect();
    let mut items = Vec::new();
    for (sequence, id) in last_change_of_each(changes) {
        if let Some(user) = app.store.system_user(id).await? {
            items.push(StreamItem { user, sequence });
        }
    }
    Ok((items, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_user_changed_twice_in_a_page_is_listed_once_at_its_last_change() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(
            last_change_of_each(vec![(1, a), (2, b), (3, a)]),
            vec![(2, b), (3, a)]
        );
        assert!(last_change_of_each(Vec::new()).is_empty());
    }
}
