//! The statements every migration builds alike: a cascading foreign key, an index, one
//! column added or dropped, an index or a table dropped. Each migration still spells out
//! its own tables and columns; these only spare it the same builder chains.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string;

use crate::idens::{Rooms, Users};

/// A foreign key from `table.column` to `target.id`: the row goes with the row it names.
pub fn cascade(
    table: impl IntoIden,
    column: impl IntoIden,
    target: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(target, Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A table keyed by (room, user), each going with its room and its user: the shape of
/// memberships, requests, invites, bans, timeouts and request cooldowns.
pub fn room_user_table(
    table: impl IntoIden + Copy,
    room: impl IntoIden + Copy,
    user: impl IntoIden + Copy,
) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(string(room))
        .col(string(user))
        .primary_key(Index::create().col(room).col(user))
        .foreign_key(&mut cascade(table, room, Rooms::Table))
        .foreign_key(&mut cascade(table, user, Users::Table))
        .to_owned()
}

/// An index named `name` over `columns` of `table`, in that order.
pub fn index<C: IntoIndexColumn>(
    name: &str,
    table: impl IntoIden,
    columns: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    let mut index = Index::create().name(name).table(table).to_owned();
    for column in columns {
        index.col(column);
    }
    index
}

/// Adds one column. One per statement: SQLite alters one thing at a time.
pub async fn add_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    mut column: ColumnDef,
) -> Result<(), DbErr> {
    let statement = Table::alter()
        .table(table)
        .add_column(&mut column)
        .to_owned();
    manager.alter_table(statement).await
}

pub async fn drop_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    let statement = Table::alter().table(table).drop_column(column).to_owned();
    manager.alter_table(statement).await
}

pub async fn drop_index(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    name: &str,
) -> Result<(), DbErr> {
    let statement = Index::drop().name(name).table(table).to_owned();
    manager.drop_index(statement).await
}

pub async fn drop_table(manager: &SchemaManager<'_>, table: impl IntoIden) -> Result<(), DbErr> {
    manager
        .drop_table(Table::drop().table(table).to_owned())
        .await
}
