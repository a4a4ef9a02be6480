//! What can go wrong, and the exit code each kind means (docs/CLI.md, "Exit codes"), so a
//! script can tell "not signed in" from "no such room" from "the server is down".

use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server refused: its stable code and its sentence.
    #[error("{message} ({code})")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// No answer from the server at all.
    #[error("cannot reach the server at {0}: {1}")]
    Unreachable(String, String),
    /// The command cannot run as asked (not signed in, no room by that name…).
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
}

/// Exit codes, as docs/CLI.md lists them.
pub mod exit {
    pub const OTHER: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const FORBIDDEN: u8 = 5;
    pub const RATE_LIMITED: u8 = 6;
    pub const UNREACHABLE: u8 = 7;
}

impl CliError {
    /// A refusal from its status and JSON body (`{code, message}`, docs/API.md "Errors").
    pub fn from_answer(status: u16, text: &str) -> Self {
        let body: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let field = |name: &str| body[name].as_str().map(str::to_owned);
        Self::Api {
            status,
            code: field("code").unwrap_or_else(|| format!("http_{status}")),
            message: field("message").unwrap_or_else(|| format!("The server answered {status}.")),
        }
    }

    #[cfg(test)]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        use exit::*;
        ExitCode::from(match self {
            Self::Api { status, .. } => match status {
                401 => AUTH,
                403 => FORBIDDEN,
                404 | 410 => NOT_FOUND,
                429 => RATE_LIMITED,
                503 => UNREACHABLE,
                _ => OTHER,
            },
            Self::Unreachable(..) => UNREACHABLE,
            Self::Usage(_) => USAGE,
            Self::Other(_) => OTHER,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_the_servers_code_and_sentence_and_map_to_exit_codes() {
        let e = CliError::from_answer(
            403,
            r#"{"code":"insufficient_scope","message":"Read only."}"#,
        );
        assert_eq!(e.code(), Some("insufficient_scope"));
        assert_eq!(e.to_string(), "Read only. (insufficient_scope)");
        assert_eq!(e.exit_code(), ExitCode::from(exit::FORBIDDEN));
        let e = CliError::from_answer(502, "<html>bad gateway</html>");
        assert_eq!(e.code(), Some("http_502"));
        assert_eq!(e.exit_code(), ExitCode::from(exit::OTHER));
        for (status, code) in [
            (401, exit::AUTH),
            (404, exit::NOT_FOUND),
            (429, exit::RATE_LIMITED),
        ] {
            assert_eq!(
                CliError::from_answer(status, "{}").exit_code(),
                ExitCode::from(code)
            );
        }
        assert_eq!(
            CliError::Unreachable("x".into(), "refused".into()).exit_code(),
            ExitCode::from(exit::UNREACHABLE)
        );
    }
}
