//! `tail ROOM`: follows a room's new messages on the live channel, one line each (or one JSON
//! object each). When the server goes away it says so on stderr, tries again with backoff
//! (1 s doubling to 30 s, with jitter, as the browser does: docs/RULES.md §9), and on its
//! return catches up through `messages/since`, so every message sent in between is printed,
//! once, in order.

use std::{io::Write, time::Duration};

use domain::{
    message::MessageView,
    wire::{Close, ServerFrame},
    MessageId, RoomId,
};
use futures::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    client::Client,
    error::CliError,
    render::{message_line, Style},
};

/// How a followed stream of messages is printed.
#[derive(Debug, Clone, Copy)]
pub enum Output {
    Lines(Style),
    Json,
}

/// Prints what is new (past `newest`) and remembers it, so nothing prints twice.
struct Printer {
    output: Output,
    newest: Option<MessageId>,
    /// Say once, on stderr, when the room is followed.
    announce: bool,
}

impl Printer {
    fn print(&mut self, m: &MessageView) -> Result<(), CliError> {
        if self.newest.is_some_and(|n| m.id <= n) {
            return Ok(());
        }
        self.newest = Some(m.id);
        let line = match self.output {
            Output::Lines(style) => message_line(m, style),
            Output::Json => serde_json::to_string(m)
                .map_err(|e| CliError::Other(format!("cannot write a message as JSON: {e}")))?,
        };
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) ends the tail quietly.
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            std::process::exit(0);
        }
        Ok(())
    }
}

#[derive(serde::Deserialize)]
struct Messages {
    messages: Vec<MessageView>,
}

/// How a connection ended.
pub enum Ended {
    /// Gone for a reason that passes: try again.
    Lost(String),
    /// Over for good: signed out, the room ended.
    Final(Result<(), CliError>),
}

pub async fn run(client: &Client, room: RoomId, output: Output) -> Result<(), CliError> {
    // Start from now: the newest message there is, not printed.
    let newest: Messages = client
        .call("messages/history", json!({"room_id": room, "limit": 1}))
        .await?;
    let mut printer = Printer {
        output,
        newest: newest.messages.first().map(|m| m.id),
        announce: true,
    };
    let mut attempt: u32 = 0;
    loop {
        let ended = follow(client, &room, &mut printer, &mut attempt).await;
        match ended {
            Ended::Final(result) => return result,
            Ended::Lost(why) => {
                let wait = backoff(attempt);
                attempt = attempt.saturating_add(1);
                eprintln!(
                    "Can't reach the server ({why}); trying again in {:.1} s.",
                    wait.as_secs_f32()
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// 1 s doubling to 30 s, each with up to a fifth more at random, so many clients that lost
/// one server do not all come back in the same instant.
pub fn backoff(attempt: u32) -> Duration {
    let base = 1000u64.saturating_mul(1 << attempt.min(5)).min(30_000);
    let jitter = rand::random_range(0..=base / 5);
    Duration::from_millis(base + jitter)
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the live channel, signed in as the client is. A refusal of who we are is final;
/// anything else passes and is tried again.
pub async fn open(client: &Client) -> Result<Socket, Ended> {
    let request = client.ws_request().map_err(|e| Ended::Final(Err(e)))?;
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let refused = CliError::from_answer(status, &body);
            Err(match status {
                401 | 403 => Ended::Final(Err(refused)),
                _ => Ended::Lost(refused.to_string()),
            })
        }
        Err(e) => Err(Ended::Lost(e.to_string())),
    }
}

/// What one message from the live channel is: a frame, or the end of the connection.
pub fn read(
    next: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Result<Option<ServerFrame>, Ended> {
    let text = match next {
        None => return Err(Ended::Lost("the live channel closed".into())),
        Some(Ok(Message::Text(t))) => t,
        Some(Ok(Message::Close(frame))) => {
            let close = frame.and_then(|f| Close::from_code(u16::from(f.code)));
            return Err(match close {
                Some(Close::SignedOut | Close::AccountDeleted) => {
                    Ended::Final(Err(CliError::Api {
                        status: 401,
                        code: "unauthenticated".into(),
                        message: "The session or token you signed in with ended.".into(),
                    }))
                }
                Some(c) => Ended::Lost(c.reason().to_owned()),
                None => Ended::Lost("the live channel closed".into()),
            });
        }
        Some(Ok(_)) => return Ok(None),
        Some(Err(e)) => return Err(Ended::Lost(e.to_string())),
    };
    // A frame this client does not know (a newer server) is passed over.
    Ok(serde_json::from_str::<ServerFrame>(text.as_str()).ok())
}

async fn follow(client: &Client, room: &RoomId, printer: &mut Printer, attempt: &mut u32) -> Ended {
    let mut ws = match open(client).await {
        Ok(ws) => ws,
        Err(ended) => return ended,
    };
    loop {
        let frame = match read(ws.next().await) {
            Ok(Some(frame)) => frame,
            Ok(None) => continue,
            Err(ended) => return ended,
        };
        match frame {
            ServerFrame::Ready { rooms } => {
                if !rooms.contains(room) {
                    return Ended::Final(Err(CliError::Usage(
                        "You are not a member of that room.".into(),
                    )));
                }
                if *attempt > 0 {
                    eprintln!("Back online.");
                } else if printer.announce {
                    eprintln!("Following the room; Ctrl-C stops.");
                    printer.announce = false;
                }
                *attempt = 0;
                // What was said while away, before what comes live (which waits meanwhile).
                if let Err(e) = catch_up(client, room, printer).await {
                    return Ended::Lost(e.to_string());
                }
            }
            ServerFrame::Message { message } | ServerFrame::Ack { message, .. }
                if &message.room_id == room =>
            {
                if let Err(e) = printer.print(&message) {
                    return Ended::Final(Err(e));
                }
            }
            ServerFrame::RoomTerminated { room_id } if &room_id == room => {
                eprintln!("The room was terminated.");
                return Ended::Final(Ok(()));
            }
            _ => {}
        }
    }
}

async fn catch_up(client: &Client, room: &RoomId, printer: &mut Printer) -> Result<(), CliError> {
    // A room with nothing in it yet: everything is new.
    let after = printer.newest.unwrap_or_default();
    let mut messages = since(client, room, after).await?;
    // In id order: the pages come in the order of each message's last change, so a message
    // edited meanwhile comes after newer ones, and printing in that order would skip it.
    messages.sort_by_key(|m| m.id);
    for m in &messages {
        printer.print(m)?;
    }
    Ok(())
}

/// Everything in a room past `after` (docs/API.md, `messages/since`), every page of it.
pub async fn since(
    client: &Client,
    room: &RoomId,
    mut after: MessageId,
) -> Result<Vec<MessageView>, CliError> {
    let mut messages = Vec::new();
    loop {
        let page: Messages = client
            .call("messages/since", json!({"room_id": room, "after": after}))
            .await?;
        let Some(last) = page.messages.iter().map(|m| m.seq.max(m.id)).max() else {
            return Ok(messages);
        };
        messages.extend(page.messages);
        if last <= after {
            return Ok(messages);
        }
        after = last;
    }
}
