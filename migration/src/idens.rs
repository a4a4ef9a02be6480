//! The tables and columns the migrations name, one enum per table holding every column any
//! migration touches. A column's name never changes once a migration has made it, so every
//! migration can share these instead of declaring its own copy of `Rooms { Table, Id }`.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden, Clone, Copy)]
pub enum Users {
    Table,
    Id,
    Username,
    UsernameKey,
    UsernameSkeleton,
    PasswordHash,
    CreatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Sessions {
    Table,
    Id,
    Data,
    UserId,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Rooms {
    Table,
    Id,
    Name,
    NameKey,
    NameSkeleton,
    Topic,
    JoinPolicy,
    MaxMembers,
    Status,
    CreatedBy,
    CreatedAt,
    TerminatedAt,
    SlowModeSeconds,
    Announcement,
    RequestCooldownSeconds,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Memberships {
    Table,
    RoomId,
    UserId,
    Role,
    Status,
    JoinedAt,
    JoinSeq,
    FirstJoinedAt,
    LeftAt,
    ReadTo,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum JoinRequests {
    Table,
    RoomId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum RequestCooldowns {
    Table,
    RoomId,
    UserId,
    Until,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Invites {
    Table,
    RoomId,
    UserId,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Bans {
    Table,
    RoomId,
    UserId,
    BannedBy,
    Reason,
    CreatedAt,
    Until,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Mutes {
    Table,
    RoomId,
    UserId,
    MutedBy,
    Reason,
    Until,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Notifications {
    Table,
    Id,
    UserId,
    Kind,
    RoomId,
    RoomName,
    ActorId,
    Reason,
    CreatedAt,
    ReadAt,
    MessageId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum ModLog {
    Table,
    Id,
    RoomId,
    Kind,
    ActorId,
    TargetId,
    Reason,
    CreatedAt,
    Until,
    ReportId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Messages {
    Table,
    Id,
    RoomId,
    AuthorId,
    Kind,
    Body,
    Color,
    Sticker,
    FileId,
    ClientId,
    CreatedAt,
    SubjectId,
    Seq,
    EditedAt,
    DeletedAt,
    DeletedBy,
    DeleteReason,
    ReplyTo,
    MentionsRoom,
    SearchText,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Files {
    Table,
    Id,
    RoomId,
    UploaderId,
    Name,
    ContentType,
    Size,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum MessageVersions {
    Table,
    Id,
    MessageId,
    Body,
    WrittenAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Reactions {
    Table,
    MessageId,
    UserId,
    Emoji,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Mentions {
    Table,
    MessageId,
    UserId,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Reports {
    Table,
    Id,
    RoomId,
    MessageId,
    AuthorId,
    ReporterId,
    Reason,
    Text,
    Status,
    Action,
    ResolvedBy,
    ResolvedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum AccessTokens {
    Table,
    Id,
    UserId,
    Name,
    Scope,
    SecretHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}
