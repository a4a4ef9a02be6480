//! Parlor's API from the terminal: one `POST /api/…` per call, signed in by the stored
//! session cookie or an access token (docs/API.md, "Access tokens"), every refusal turned
//! into a [`CliError`] with the server's code and sentence.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, handshake::client::Request};

use crate::error::CliError;

/// How a request says who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// `parlor_session=…`, as login set it.
    Cookie(String),
    /// An access token, sent as `Authorization: Bearer`.
    Token(String),
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    pub base: String,
    pub auth: Auth,
}

impl Client {
    pub fn new(base: &str, auth: Auth) -> Result<Self, CliError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("parlor-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Other(format!("cannot set up HTTP: {e}")))?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            auth,
        })
    }

    fn request(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        let req = self
            .http
            .post(format!("{}/api/{path}", self.base))
            .json(body);
        match &self.auth {
            Auth::None => req,
            Auth::Cookie(cookie) => req.header(reqwest::header::COOKIE, cookie),
            Auth::Token(token) => req.bearer_auth(token),
        }
    }

    /// `POST /api/{path}` with `body`; the answer, or the server's refusal.
    pub async fn call<T: DeserializeOwned>(&self, path: &str, body: Value) -> Result<T, CliError> {
        let resp = self.send(path, &body).await?;
        resp.json::<T>().await.map_err(|e| {
            CliError::Other(format!("the server's answer to {path} did not parse: {e}"))
        })
    }

    /// Like [`Client::call`], with the response itself (login reads its cookie).
    pub async fn send(&self, path: &str, body: &Value) -> Result<reqwest::Response, CliError> {
        let resp = self
            .request(path, body)
            .send()
            .await
            .map_err(|e| CliError::Unreachable(self.base.clone(), e.to_string()))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        Err(CliError::from_answer(status, &text))
    }

    /// The live channel's address and the headers that sign it in.
    pub fn ws_request(&self) -> Result<Request, CliError> {
        let url = match self.base.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}/ws"),
            Some((_, rest)) => format!("ws://{rest}/ws"),
            None => format!("ws://{}/ws", self.base),
        };
        let mut req = url
            .into_client_request()
            .map_err(|e| CliError::Usage(format!("{} is not a server address: {e}", self.base)))?;
        let header = match &self.auth {
            Auth::None => None,
            Auth::Cookie(cookie) => Some(("cookie", cookie.clone())),
            Auth::Token(token) => Some(("authorization", format!("Bearer {token}"))),
        };
        if let Some((name, value)) = header {
            let value = value.parse().map_err(|_| {
                CliError::Usage("the stored credential is not a header value".into())
            })?;
            req.headers_mut().insert(name, value);
        }
        Ok(req)
    }
}
