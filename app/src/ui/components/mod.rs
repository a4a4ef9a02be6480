//! Pieces the pages share.

pub mod banner;
pub mod bell;
pub mod composer;
pub mod drawer;
pub mod icons;
pub mod members;
pub mod mention_list;
pub mod message;
pub mod message_dialog;
pub mod moderation;
pub mod notices;
pub mod sidebar;
pub mod timeline;
pub mod upload;
pub mod widgets;
