//! Where the terminal client keeps who it is signed in as: `parlor/credentials.json` in the
//! user's config directory (`$XDG_CONFIG_HOME`, else `~/.config`), readable by the user
//! alone (mode 0600, its folder 0700). It holds a session cookie (after `login`) or an access
//! token (`token create --save`), and the server they belong to.

use std::{fs, io::Write, path::PathBuf};

use serde::{Deserialize, Serialize};

use crate::{client::Auth, error::CliError};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub server: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub cookie: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
}

impl Stored {
    /// The credential for `server`, if this one belongs to it (a token before a cookie).
    pub fn auth_for(&self, server: &str) -> Auth {
        if self.server.trim_end_matches('/') != server.trim_end_matches('/') {
            return Auth::None;
        }
        match (&self.token, &self.cookie) {
            (Some(token), _) => Auth::Token(token.clone()),
            (None, Some(cookie)) => Auth::Cookie(cookie.clone()),
            (None, None) => Auth::None,
        }
    }
}

fn path() -> Result<PathBuf, CliError> {
    let dir = dirs::config_dir().ok_or_else(|| {
        CliError::Usage("no config directory: set XDG_CONFIG_HOME or HOME".into())
    })?;
    Ok(dir.join("parlor").join("credentials.json"))
}

pub fn load() -> Stored {
    path()
        .ok()
        .and_then(|p| fs::read_to_string(p).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

pub fn save(stored: &Stored) -> Result<(), CliError> {
    let path = path()?;
    let failed =
        |e: std::io::Error| CliError::Other(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(failed)?;
        restrict(dir, 0o700).map_err(failed)?;
    }
    let text = serde_json::to_string_pretty(stored)
        .map_err(|e| CliError::Other(format!("cannot store the credentials: {e}")))?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(failed)?;
    // A file made by an older version may have been wider: narrow it before writing.
    restrict(&path, 0o600).map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)
}

pub fn forget() -> Result<(), CliError> {
    let path = path()?;
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::Other(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(unix)]
fn restrict(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_: &std::path::Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_serves_only_its_own_server_and_a_token_comes_first() {
        let stored = Stored {
            server: "http://127.0.0.1:3000/".into(),
            username: Some("ann".into()),
            cookie: Some("parlor_session=abc".into()),
            token: None,
        };
        assert_eq!(
            stored.auth_for("http://127.0.0.1:3000"),
            Auth::Cookie("parlor_session=abc".into())
        );
        assert_eq!(stored.auth_for("http://elsewhere:3000"), Auth::None);
        let with_token = Stored {
            token: Some("parlor_x".into()),
            ..stored
        };
        assert_eq!(
            with_token.auth_for("http://127.0.0.1:3000"),
            Auth::Token("parlor_x".into())
        );
    }
}
