//! Pieces the pages share.

pub mod banner;
pub mod bell;
pub mod composer;
pub mod icons;
pub mod members;
pub mod notices;
pub mod sidebar;
pub mod timeline;
pub mod upload;
pub mod widgets;
