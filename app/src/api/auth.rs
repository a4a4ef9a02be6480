use domain::User;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::ssr::{form_reply, Landing};
use crate::AppError;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserResponse {
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Empty {}

#[server(endpoint = "auth/signup", input = server_fn::codec::Json, output = server_fn::codec::Json)]
pub async fn signup(username: String, password: String) -> Result<UserResponse, AppError> {
    let user = inner::signup(&username, &password).await?;
    Ok(UserResponse { user })
}

#[server(endpoint = "auth/login", input = server_fn::codec::Json, output = server_fn::codec::Json)]
pub async fn login(username: String, password: String) -> Result<UserResponse, AppError> {
    let user = inner::login(&username, &password).await?;
    Ok(UserResponse { user })
}

#[server(endpoint = "auth/logout", input = server_fn::codec::Json, output = server_fn::codec::Json)]
pub async fn logout() -> Result<Empty, AppError> {
    crate::ssr::end_session().await?;
    Ok(Empty {})
}

#[server(endpoint = "auth/me", input = server_fn::codec::Json, output = server_fn::codec::Json)]
pub async fn me() -> Result<UserResponse, AppError> {
    let user = crate::ssr::require_user().await?;
    Ok(UserResponse { user })
}

#[server(endpoint = "auth/password", input = server_fn::codec::Json, output = server_fn::codec::Json)]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<Empty, AppError> {
    crate::ssr::change_password(&current_password, &new_password).await?;
    Ok(Empty {})
}

#[server(endpoint = "auth/logout_all", input = server_fn::codec::Json, output = server_fn::codec::Json)]
pub async fn logout_all() -> Result<Empty, AppError> {
    crate::ssr::end_every_session().await?;
    Ok(Empty {})
}

#[server(endpoint = "auth/delete", input = server_fn::codec::Json, output = server_fn::codec::Json)]
pub async fn delete_account(password: String) -> Result<Empty, AppError> {
    crate::ssr::delete_account(&password).await?;
    Ok(Empty {})
}

/// The account page's password form. Stays on the account page, which says it worked.
#[server(endpoint = "form/password")]
pub async fn change_password_form(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    form_reply(
        crate::ssr::change_password(&current_password, &new_password).await,
        |()| Landing::PlainPostOnly("/account?password=changed".to_owned()),
        "/account",
        ChangePasswordForm::PATH,
        &[],
    )
}

#[server(endpoint = "form/logout_all")]
pub async fn logout_all_form() -> Result<(), AppError> {
    crate::ssr::end_every_session().await?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(endpoint = "form/delete_account")]
pub async fn delete_account_form(password: String) -> Result<(), AppError> {
    form_reply(
        crate::ssr::delete_account(&password).await,
        // A hydrated page goes there itself, with a full load (its live channel is closing
        // with "account deleted" at the same moment, and heads to the same place).
        |()| Landing::PlainPostOnly(ACCOUNT_DELETED_PAGE.to_owned()),
        "/account",
        DeleteAccountForm::PATH,
        &[],
    )
}

/// Where deleting an account lands: the login page, saying so.
pub const ACCOUNT_DELETED_PAGE: &str = "/login?account=deleted";

/// The sign-up page's form. Lands on the home page when it worked.
#[server(endpoint = "form/signup")]
pub async fn signup_form(username: String, password: String) -> Result<(), AppError> {
    form_reply(
        inner::signup(&username, &password).await,
        |_| Landing::Everyone("/".to_owned()),
        "/signup",
        SignupForm::PATH,
        &[("username", &username)],
    )
}

/// The login page's form. Lands on the home page when it worked.
#[server(endpoint = "form/login")]
pub async fn login_form(username: String, password: String) -> Result<(), AppError> {
    form_reply(
        inner::login(&username, &password).await,
        |_| Landing::Everyone("/".to_owned()),
        "/login",
        LoginForm::PATH,
        &[("username", &username)],
    )
}

#[server(endpoint = "form/logout")]
pub async fn logout_form() -> Result<(), AppError> {
    crate::ssr::end_session().await?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[cfg(feature = "ssr")]
mod inner {
    use domain::{ApiError, User};

    use crate::{ssr, AppError};

    pub async fn signup(username: &str, password: &str) -> Result<User, AppError> {
        let user = ssr::ctx()?
            .accounts
            .signup(username, password)
            .await
            .map_err(ApiError::from)?;
        ssr::start_session(&user).await?;
        Ok(user)
    }

    pub async fn login(username: &str, password: &str) -> Result<User, AppError> {
        let user = ssr::ctx()?
            .accounts
            .login(username, password)
            .await
            .map_err(ApiError::from)?;
        ssr::start_session(&user).await?;
        Ok(user)
    }
}
