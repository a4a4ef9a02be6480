//! Write transactions that serialise with every other writer of the same room.

use std::collections::BTreeSet;

use domain::RoomId;
use entity::room as room_row;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

/// A write transaction: SQLite takes the write lock at `BEGIN`; on PostgreSQL the caller
/// locks the room rows it decides about ([`lock_rooms`], or the room load's own lock).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Locks the rooms about to get messages as room decisions lock them (PostgreSQL; SQLite's
/// write lock, taken at `BEGIN`, already serialises every writer). A kick or termination
/// then either commits before the posts are checked (and is seen) or waits until they are
/// committed; and per room, message ids are handed out in commit order, so catch-up by
/// "after id" never skips one.
pub async fn lock_rooms<'a>(
    txn: &DatabaseTransaction,
    room_ids: impl IntoIterator<Item = &'a RoomId>,
) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let ids: BTreeSet<&str> = room_ids.into_iter().map(RoomId::as_str).collect();
    room_row::Entity::find()
        .filter(room_row::Column::Id.is_in(ids))
        .order_by(room_row::Column::Id, Order::Asc)
        .lock_exclusive()
        .all(txn)
        .await?;
    Ok(())
}
