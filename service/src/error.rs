use domain::ApiError;
use sea_orm::DbErr;

/// A use case either refuses (an [`ApiError`] the caller may see) or fails on our side
/// (logged in full here, shown to the caller only as `internal`). A database that cannot be
/// reached is no fault of the request: that is `unavailable` (503), to be tried again.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Refused(#[from] ApiError),
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Internal(String),
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Refused(api) => api,
            ServiceError::Db(e) if crate::db::is_contended(&e) => {
                tracing::warn!(error = %e, "the database stayed busy");
                let mut busy = ApiError::unavailable();
                busy.retry_after_ms = Some(1000);
                busy
            }
            ServiceError::Db(e) if crate::db::is_unreachable(&e) => {
                tracing::warn!(error = %e, "the database cannot be reached");
                ApiError::unavailable()
            }
            other => {
                tracing::error!(error = %other, "request failed on our side");
                ApiError::internal()
            }
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
