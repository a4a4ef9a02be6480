//! The `parlor` server: configuration, logging, the HTTP router and start-up. The rules live
//! in `domain`, the use cases in `service`, the pages and server functions in `app`.

pub mod assets;
pub mod backup;
pub mod client_addr;
pub mod config;
pub mod exporter;
pub mod guards;
pub mod http;
pub mod live;
pub mod log_export;
pub mod serve;
pub mod server;
pub mod shared_limits;
pub mod telemetry;
pub mod uploads;

pub use config::Config;
