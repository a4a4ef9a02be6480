use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Random, opaque, stable: the public id others invite by.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// As typed at sign-up.
    pub username: String,
    /// Lower-cased username; unique, so "Bob" and "bob" cannot both exist.
    #[sea_orm(unique)]
    pub username_key: String,
    /// The confusable skeleton of the username: unique, so `rnike` cannot sign up beside
    /// `mike`. `None` for deleted accounts and for an account that already shared one with
    /// an older account when skeletons came in.
    pub username_skeleton: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    /// Set when the account was deleted: the row stays so the messages it wrote keep an
    /// author, shown as "deleted user"; it can no longer sign in or be found.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
