//! SeaORM entities: one module per table. Server only; the browser never compiles this.

pub mod session;
pub mod user;
