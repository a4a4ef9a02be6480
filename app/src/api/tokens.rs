//! Personal access tokens (docs/RULES.md §1, "Access tokens"): made, listed and revoked by
//! their owner, from a password session only (a token cannot make tokens: `domain::token`).
//! The account page's forms are the twins at the end.

use domain::{
    token::{TokenScope, TokenView},
    TokenId,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use super::auth::Empty;
#[cfg(feature = "ssr")]
use crate::ssr::caller;
use crate::AppError;

/// `tokens/create`: the new token's id and its secret, the only time the secret is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub id: TokenId,
    pub token: String,
    pub name: String,
    pub scope: TokenScope,
    pub expires_at: Option<String>,
}

/// `tokens/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensResponse {
    pub tokens: Vec<TokenView>,
    /// A token the account page's form made without JavaScript, told here once (the form's
    /// answer is a redirect, which cannot carry it); null otherwise.
    #[serde(default)]
    pub fresh: Option<CreatedToken>,
}

#[cfg(feature = "ssr")]
async fn create(name: &str, scope: &str, days: Option<u32>) -> Result<CreatedToken, AppError> {
    let (me, ctx) = caller().await?;
    let scope = TokenScope::parse(scope)?;
    let (view, token) = ctx.tokens.create(&me.id, name, scope, days).await?;
    Ok(CreatedToken {
        id: view.id,
        token,
        name: view.name,
        scope: view.scope,
        expires_at: view.expires_at,
    })
}

#[server(endpoint = "tokens/create", input = Json, output = Json)]
pub async fn create_token(
    name: String,
    scope: String,
    days: Option<u32>,
) -> Result<CreatedToken, AppError> {
    create(&name, &scope, days).await
}

#[server(endpoint = "tokens/list", input = Json, output = Json)]
pub async fn list_tokens() -> Result<TokensResponse, AppError> {
    // A page may load this twice while it renders (`once_per_request` says why): the fresh
    // token is taken from the session once, and both loads must get it.
    crate::ssr::once_per_request("tokens/list".to_owned(), async {
        // Read before the first await, as `caller` reads its context.
        let fresh = crate::ssr::take_fresh_token::<CreatedToken>();
        let (me, ctx) = caller().await?;
        let tokens = ctx.tokens.list(&me.id).await?;
        Ok(TokensResponse {
            tokens,
            fresh: fresh.await?,
        })
    })
    .await
}

#[server(endpoint = "tokens/revoke", input = Json, output = Json)]
pub async fn revoke_token(id: TokenId) -> Result<Empty, AppError> {
    let (me, ctx) = caller().await?;
    ctx.tokens.revoke(&me.id, &id).await?;
    Ok(Empty {})
}

/// The account page's "New token" form. A hydrated page gets the token in the answer; a
/// browser's own post is sent back to the account page, which tells it there once.
/// `days` is empty for a token that lives until revoked.
#[server(endpoint = "form/tokens/create")]
pub async fn create_token_form(
    name: String,
    scope: String,
    days: String,
) -> Result<Option<CreatedToken>, AppError> {
    use server_fn::ServerFn;
    let days = match days.trim() {
        "" => None,
        d => Some(d.parse::<u32>().map_err(|_| {
            domain::ApiError::invalid_field("days", "Choose how long the token lives.")
        })?),
    };
    let created = create(&name, &scope, days).await;
    if crate::ssr::is_plain_form_post() {
        if let Ok(created) = &created {
            crate::ssr::keep_fresh_token(created).await?;
        }
        crate::ssr::form_reply(
            created,
            |_| crate::ssr::Landing::Everyone(TOKENS_SECTION.to_owned()),
            "/account",
            CreateTokenForm::PATH,
            &[("name", &name)],
        )?;
        return Ok(None);
    }
    created.map(Some)
}

#[server(endpoint = "form/tokens/revoke")]
pub async fn revoke_token_form(id: TokenId) -> Result<(), AppError> {
    use server_fn::ServerFn;
    crate::ssr::form_reply(
        revoke_token(id).await,
        |_| crate::ssr::Landing::PlainPostOnly(TOKENS_SECTION.to_owned()),
        "/account",
        RevokeTokenForm::PATH,
        &[],
    )
}

/// The account page's tokens section.
pub const TOKENS_SECTION: &str = "/account#tokens";
