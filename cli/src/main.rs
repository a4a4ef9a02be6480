//! `parlor-cli`: Parlor from a terminal (docs/CLI.md). Scriptable commands on the same API
//! and live channel as the browser, with the wire types shared with the server. Rooms are
//! named by name or id, people by username or id. Errors print the server's sentence and
//! code on stderr and exit with a code that says what kind of failure it was.

mod actions;
mod client;
mod config;
mod error;
mod render;
mod screen;
mod tail;

use std::{io::Read, process::ExitCode};

use clap::{Parser, Subcommand};
use domain::{
    message::MessageView,
    views::{MyRoom, NotificationView, PreviousRoom, RoomView},
    RoomId, User,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    client::{Auth, Client},
    error::CliError,
    render::{inert, message_line, Style},
};

#[derive(Parser)]
#[command(
    name = "parlor-cli",
    version,
    about = "Parlor from a terminal: chat, moderate and script a Parlor server.",
    long_about = "Parlor from a terminal: chat, moderate and script a Parlor server.\n\n\
        With no command, the full-screen client opens (sign in first with `login`)."
)]
struct Cli {
    /// The Parlor server.
    #[arg(
        long,
        env = "PARLOR_SERVER",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    server: String,
    /// An access token to act with, instead of the stored session or token.
    #[arg(long, env = "PARLOR_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// What to do; with none, the full-screen client opens.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Create an account and sign in (the password is read from a prompt, or from stdin).
    Signup { username: String },
    /// Sign in (the password is read from a prompt, or from stdin).
    Login { username: String },
    /// Sign out, and forget the stored session or token.
    Logout,
    /// Who you are signed in as.
    Whoami,
    /// Your rooms (with unread counts), or rooms you left, or rooms to join.
    Rooms {
        /// Rooms you left or were removed from.
        #[arg(long, conflicts_with = "search")]
        previous: bool,
        /// Listed rooms whose name contains this.
        #[arg(long)]
        search: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Create a room.
    Create {
        name: String,
        /// Who may join: open, request or invite.
        #[arg(long, default_value = "request")]
        policy: String,
        #[arg(long)]
        topic: Option<String>,
    },
    /// Join a room (or ask to, as its policy says).
    Join { room: String },
    /// Leave a room.
    Leave { room: String },
    /// Send a message: TEXT, or stdin when TEXT is absent.
    Send {
        room: String,
        text: Option<String>,
        /// A colour for the text (red, orange, amber, green, teal, blue, indigo, purple,
        /// pink, gray).
        #[arg(long)]
        color: Option<String>,
        /// Send this sticker instead of text.
        #[arg(long, conflicts_with = "text")]
        sticker: Option<String>,
    },
    /// Follow a room's new messages until interrupted.
    Tail {
        room: String,
        /// One JSON object per message, one per line.
        #[arg(long)]
        json: bool,
    },
    /// A room's latest messages, oldest first.
    History {
        room: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Invite someone to a room (admins).
    Invite { room: String, user: String },
    /// Remove a member (admins).
    Kick {
        room: String,
        user: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Ban someone (admins).
    Ban {
        room: String,
        user: String,
        #[arg(long)]
        reason: Option<String>,
        /// For this many minutes (absent: until lifted).
        #[arg(long)]
        minutes: Option<u32>,
    },
    /// Lift a ban (admins).
    Unban { room: String, user: String },
    /// Let in someone who asked to join (admins).
    Approve { room: String, user: String },
    /// Your notifications, newest first.
    Notifications {
        #[arg(long)]
        json: bool,
    },
    /// Access tokens for scripts (made from a password session).
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token and print it (shown this once).
    Create {
        name: String,
        /// read, or write (read and write).
        #[arg(long, default_value = "read")]
        scope: String,
        /// How many days it lives (absent: until revoked).
        #[arg(long)]
        days: Option<u32>,
        /// Also keep it as this client's credential, in place of the session.
        #[arg(long)]
        save: bool,
    },
    /// Your tokens.
    List,
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[tokio::main]
async fn main() -> ExitCode {
    // One TLS provider for the HTTP client and the live channel alike.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let style = Style::detect();
            eprintln!("{} {e}", style.red("error:"));
            e.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let stored = config::load();
    let auth = match &cli.token {
        Some(token) => Auth::Token(token.clone()),
        None => stored.auth_for(&cli.server),
    };
    let client = Client::new(&cli.server, auth)?;
    let style = Style::detect();
    let Some(command) = cli.command else {
        return screen::run(client).await;
    };
    match command {
        Command::Signup { username } => sign_in(&client, "auth/signup", &username).await,
        Command::Login { username } => sign_in(&client, "auth/login", &username).await,
        Command::Logout => logout(&client).await,
        Command::Whoami => {
            let me: UserAnswer = client.call("auth/me", json!({})).await?;
            println!("{} ({})", inert(&me.user.username), me.user.id);
            Ok(())
        }
        Command::Rooms {
            previous,
            search,
            json,
        } => rooms(&client, previous, search, json, style).await,
        Command::Create {
            name,
            policy,
            topic,
        } => {
            let made: RoomAnswer = client
                .call(
                    "rooms/create",
                    json!({"name": name, "join_policy": policy, "topic": topic}),
                )
                .await?;
            println!("{}", made.room.id);
            Ok(())
        }
        Command::Join { room } => {
            let id = room_id(&client, &room, true).await?;
            match actions::join(&client, &id).await? {
                actions::Joined::Asked => println!("Asked to join; an admin will answer."),
                actions::Joined::Member => println!("Joined."),
            }
            Ok(())
        }
        Command::Leave { room } => {
            let id = room_id(&client, &room, false).await?;
            actions::leave(&client, &id).await
        }
        Command::Send {
            room,
            text,
            color,
            sticker,
        } => send(&client, &room, text, color, sticker).await,
        Command::Tail { room, json } => {
            let id = room_id(&client, &room, false).await?;
            let output = if json {
                tail::Output::Json
            } else {
                tail::Output::Lines(style)
            };
            tail::run(&client, id, output).await
        }
        Command::History { room, limit, json } => {
            let id = room_id(&client, &room, false).await?;
            let page: MessagesAnswer = client
                .call("messages/history", json!({"room_id": id, "limit": limit}))
                .await?;
            for m in page.messages.iter().rev() {
                print_message(m, json, style)?;
            }
            Ok(())
        }
        Command::Invite { room, user } => {
            let id = room_id(&client, &room, false).await?;
            actions::invite(&client, &id, &user).await
        }
        Command::Kick { room, user, reason } => {
            let id = room_id(&client, &room, false).await?;
            actions::kick(&client, &id, &user, reason.as_deref()).await
        }
        Command::Ban {
            room,
            user,
            reason,
            minutes,
        } => {
            let id = room_id(&client, &room, false).await?;
            actions::ban(&client, &id, &user, reason.as_deref(), minutes).await
        }
        Command::Unban { room, user } => {
            let id = room_id(&client, &room, false).await?;
            actions::unban(&client, &id, &user).await
        }
        Command::Approve { room, user } => {
            let id = room_id(&client, &room, false).await?;
            actions::approve(&client, &id, &user).await
        }
        Command::Notifications { json } => notifications(&client, json, style).await,
        Command::Token { action } => token(&client, &cli.server, action).await,
    }
}

#[derive(Deserialize)]
struct UserAnswer {
    user: User,
}

#[derive(Deserialize)]
struct RoomAnswer {
    room: RoomView,
}

#[derive(Deserialize)]
struct MessagesAnswer {
    messages: Vec<MessageView>,
}

/// A password from a prompt on a terminal, else the first line of stdin: never an argument,
/// which other users of the machine could read in the process list.
fn read_password() -> Result<String, CliError> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ")
            .map_err(|e| CliError::Usage(format!("cannot read the password: {e}")));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| CliError::Usage(format!("cannot read the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn sign_in(client: &Client, path: &str, username: &str) -> Result<(), CliError> {
    let password = read_password()?;
    let anonymous = Client::new(&client.base, Auth::None)?;
    let resp = anonymous
        .send(path, &json!({"username": username, "password": password}))
        .await?;
    let cookie = session_cookie(&resp)?;
    let me: UserAnswer = resp
        .json()
        .await
        .map_err(|e| CliError::Other(format!("the server's answer did not parse: {e}")))?;
    config::save(&config::Stored {
        server: client.base.clone(),
        username: Some(me.user.username.clone()),
        cookie: Some(cookie),
        token: None,
    })?;
    println!("Signed in as {}.", inert(&me.user.username));
    Ok(())
}

/// The `parlor_session=…` pair a sign-in answer sets.
fn session_cookie(resp: &reqwest::Response) -> Result<String, CliError> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|v| v.starts_with("parlor_session="))
        .map(str::to_owned)
        .ok_or_else(|| CliError::Other("the server set no session cookie".into()))
}

async fn logout(client: &Client) -> Result<(), CliError> {
    // A session ends on the server; a token stays valid until revoked (tokens cannot log out).
    if let Auth::Cookie(_) = client.auth {
        client.call::<Value>("auth/logout", json!({})).await?;
    }
    config::forget()
}

async fn rooms(
    client: &Client,
    previous: bool,
    search: Option<String>,
    json: bool,
    style: Style,
) -> Result<(), CliError> {
    #[derive(Deserialize)]
    struct Mine {
        rooms: Vec<MyRoom>,
    }
    #[derive(Deserialize)]
    struct Previous {
        rooms: Vec<PreviousRoom>,
    }
    #[derive(Deserialize)]
    struct Found {
        rooms: Vec<RoomView>,
    }
    let lines: Vec<(Value, String)> = if previous {
        let list: Previous = client.call("rooms/previous", json!({})).await?;
        list.rooms
            .into_iter()
            .map(|p| {
                let how = serde_json::to_value(p.reason).unwrap_or_default();
                let line = format!(
                    "{}  {}  {} {}{}",
                    p.room.id,
                    style.bold(&inert(&p.room.name)),
                    how.as_str().unwrap_or_default(),
                    &p.left_at,
                    p.until
                        .as_deref()
                        .map(|u| format!(" (banned until {u})"))
                        .unwrap_or_default()
                );
                (serde_json::to_value(&p).unwrap_or_default(), line)
            })
            .collect()
    } else if let Some(query) = search {
        let list: Found = client
            .call("rooms/search", json!({"query": query, "limit": 100}))
            .await?;
        list.rooms
            .into_iter()
            .map(|r| {
                let line = format!(
                    "{}  {}  {} members",
                    r.id,
                    style.bold(&inert(&r.name)),
                    r.member_count
                );
                (serde_json::to_value(&r).unwrap_or_default(), line)
            })
            .collect()
    } else {
        let list: Mine = client.call("rooms/mine", json!({})).await?;
        list.rooms
            .into_iter()
            .map(|r| {
                let unread = if r.unread > 0 {
                    format!("  {} unread", r.unread)
                } else {
                    String::new()
                };
                let line = format!(
                    "{}  {}{}",
                    r.room.id,
                    style.bold(&inert(&r.room.name)),
                    unread
                );
                (serde_json::to_value(&r).unwrap_or_default(), line)
            })
            .collect()
    };
    for (value, line) in lines {
        if json {
            println!("{value}");
        } else {
            println!("{line}");
        }
    }
    Ok(())
}

/// A room named by id or by name: first among your rooms, then (to join) among listed ones.
/// Anything else is taken as an id, and the server says if there is no such room.
async fn room_id(client: &Client, room: &str, listed_too: bool) -> Result<RoomId, CliError> {
    #[derive(Deserialize)]
    struct Rooms {
        rooms: Vec<RoomView>,
    }
    let mine: Rooms = client.call("rooms/mine", json!({})).await?;
    let named = |rooms: &[RoomView]| {
        rooms
            .iter()
            .find(|r| r.id.as_str() == room)
            .or_else(|| rooms.iter().find(|r| r.name.eq_ignore_ascii_case(room)))
            .map(|r| r.id.clone())
    };
    if let Some(id) = named(&mine.rooms) {
        return Ok(id);
    }
    if listed_too {
        let found: Rooms = client
            .call("rooms/search", json!({"query": room, "limit": 100}))
            .await?;
        if let Some(id) = named(&found.rooms) {
            return Ok(id);
        }
    }
    Ok(RoomId::from(room))
}

/// Someone in one of a room's lists (members, bans, requests), by username or id; a name
/// not there is passed on as an id, and the server answers for it.
async fn user_in(
    client: &Client,
    path: &str,
    list: &str,
    room: &RoomId,
    user: &str,
) -> Result<String, CliError> {
    let answer: Value = client.call(path, json!({"room_id": room})).await?;
    let wanted = user.trim_start_matches('@');
    let found = answer[list].as_array().and_then(|items| {
        items.iter().find_map(|item| {
            let who = &item["user"];
            let name = who["username"].as_str()?;
            (name.eq_ignore_ascii_case(wanted) || who["id"] == wanted)
                .then(|| who["id"].as_str().map(str::to_owned))
                .flatten()
        })
    });
    Ok(found.unwrap_or_else(|| wanted.to_owned()))
}

async fn send(
    client: &Client,
    room: &str,
    text: Option<String>,
    color: Option<String>,
    sticker: Option<String>,
) -> Result<(), CliError> {
    let id = room_id(client, room, false).await?;
    let body = match (&sticker, text) {
        (Some(_), _) => None,
        (None, Some(text)) => Some(text),
        (None, None) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::Usage(format!("cannot read the message from stdin: {e}")))?;
            Some(text.trim_end_matches(['\r', '\n']).to_owned())
        }
    };
    let client_id = format!("cli-{:016x}", rand::random::<u64>());
    client
        .call::<Value>(
            "messages/send",
            json!({"room_id": id, "client_id": client_id, "body": body, "color": color, "sticker": sticker}),
        )
        .await?;
    Ok(())
}

fn print_message(m: &MessageView, json: bool, style: Style) -> Result<(), CliError> {
    if json {
        let line = serde_json::to_string(m)
            .map_err(|e| CliError::Other(format!("cannot write a message as JSON: {e}")))?;
        println!("{line}");
    } else {
        println!("{}", message_line(m, style));
    }
    Ok(())
}

async fn notifications(client: &Client, json: bool, style: Style) -> Result<(), CliError> {
    #[derive(Deserialize)]
    struct List {
        notifications: Vec<NotificationView>,
    }
    let list: List = client.call("notifications/list", json!({})).await?;
    for n in list.notifications {
        if json {
            println!("{}", serde_json::to_value(&n).unwrap_or_default());
            continue;
        }
        let mark = if n.read { " " } else { "•" };
        println!(
            "{mark} {} {}",
            style.dim(&n.created_at),
            render::describe(&n)
        );
    }
    Ok(())
}

async fn token(client: &Client, server: &str, action: TokenCommand) -> Result<(), CliError> {
    match action {
        TokenCommand::Create {
            name,
            scope,
            days,
            save,
        } => {
            let made: Value = client
                .call(
                    "tokens/create",
                    json!({"name": name, "scope": scope, "days": days}),
                )
                .await?;
            let secret = made["token"].as_str().unwrap_or_default().to_owned();
            if save {
                let mut stored = config::load();
                stored.server = server.trim_end_matches('/').to_owned();
                stored.token = Some(secret.clone());
                stored.cookie = None;
                config::save(&stored)?;
            }
            println!("{secret}");
            Ok(())
        }
        TokenCommand::List => {
            let list: Value = client.call("tokens/list", json!({})).await?;
            for t in list["tokens"].as_array().into_iter().flatten() {
                println!(
                    "{}  {}  {}  expires {}  last used {}",
                    t["id"].as_str().unwrap_or_default(),
                    inert(t["name"].as_str().unwrap_or_default()),
                    t["scope"].as_str().unwrap_or_default(),
                    t["expires_at"].as_str().unwrap_or("never"),
                    t["last_used_at"].as_str().unwrap_or("never"),
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            client
                .call::<Value>("tokens/revoke", json!({"id": id}))
                .await?;
            Ok(())
        }
    }
}
