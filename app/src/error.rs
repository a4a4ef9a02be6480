use domain::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// The error every server function returns. On the wire it is exactly the API's error body
/// (`{"code","message",…}`); the HTTP status is set from the code by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(transparent)]
#[error(transparent)]
pub struct AppError(pub ApiError);

impl AppError {
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The message to show beside `field`, if this error belongs to it.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.0.field.as_deref() == Some(field)).then(|| self.0.message.clone())
    }

    /// The message to show above a form: errors that belong to no single field.
    pub fn general(&self) -> Option<String> {
        self.0.field.is_none().then(|| self.0.message.clone())
    }
}

impl From<ApiError> for AppError {
    fn from(err: ApiError) -> Self {
        Self(err)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(err: ServerFnErrorErr) -> Self {
        let api = match err {
            // The body could not be read as this endpoint's input: missing field, wrong
            // type, not JSON at all.
            ServerFnErrorErr::Args(why) | ServerFnErrorErr::MissingArg(why) => bad_request(&why),
            // On the server this is the request body failing to decode; in the browser it
            // would be an unreadable answer, which is our fault.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(why) => bad_request(&why),
            ServerFnErrorErr::Request(_) => ApiError::new(
                ErrorCode::ServerUnreachable,
                "The server cannot be reached. Check your connection; we will retry.",
            ),
            _ => ApiError::internal(),
        };
        Self(api)
    }
}

fn bad_request(why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidInput,
        format!("The request is not valid: {why}."),
    )
}
