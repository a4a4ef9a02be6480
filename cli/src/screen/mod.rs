//! The full-screen client, `parlor-cli` with no command (docs/CLI.md, "The full-screen
//! client"). [`state`] holds everything and changes only in its reducer; [`view`] draws it;
//! this module runs the loop: keys, the live channel and API answers in, effects out.
//! The live channel is owned by one task here ([`live`]), as the browser's `live` module
//! owns its socket.

pub mod slash;
pub mod state;
pub mod view;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use crossterm::event::{
    DisableBracketedPaste, EnableBracketedPaste, Event as TermEvent, EventStream, KeyEventKind,
};
use domain::{
    message::MessageView,
    views::{MemberView, MyRoom},
    wire::ClientFrame,
    RoomId, User,
};
use futures::{SinkExt, Stream, StreamExt};
use ratatui::{backend::Backend, Terminal};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    actions,
    client::Client,
    error::CliError,
    tail::{self, Ended},
};
use slash::Slash;
use state::{Effect, Event, Screen, HISTORY_PAGE};

/// Runs the screen until Esc, Ctrl-C or `/quit`. The terminal is restored on the way out,
/// on an error, and on a panic (ratatui's hook).
pub async fn run(client: Client) -> Result<(), CliError> {
    #[derive(Deserialize)]
    struct Me {
        user: User,
    }
    // Who we are first, so "not signed in" is a plain error on a plain terminal.
    let me: Me = client.call("auth/me", json!({})).await?;
    let mut terminal = ratatui::init();
    // A paste arrives whole, not as keys (a newline in it would send half of it).
    let _ = crossterm::execute!(std::io::stdout(), EnableBracketedPaste);
    let app = Screen::new(me.user, &client.base);
    let result = drive(&client, app, &mut terminal, EventStream::new(), |_| {}).await;
    let _ = crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    result
}

/// The loop: draw, wait for a key, a frame, an answer or the clock, update, carry out.
/// `drawn` sees the screen after each draw (the tests read it there).
pub async fn drive<B, K>(
    client: &Client,
    mut app: Screen,
    terminal: &mut Terminal<B>,
    mut keys: K,
    mut drawn: impl FnMut(&B),
) -> Result<(), CliError>
where
    B: Backend,
    K: Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let (events, mut inbox) = mpsc::unbounded_channel::<Event>();
    let (frames, outbox) = mpsc::unbounded_channel::<ClientFrame>();
    let live = tokio::spawn(live(client.clone(), events.clone(), outbox));
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    carry_out(client, &events, &frames, vec![Effect::LoadRooms]);
    let ended = loop {
        terminal
            .draw(|f| view::draw(f, &app, Instant::now()))
            .map_err(|e| CliError::Other(format!("cannot draw: {e}")))?;
        drawn(terminal.backend());
        let event = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => Event::Key(k),
                Some(Ok(TermEvent::Paste(text))) => Event::Paste(text),
                Some(Ok(_)) => continue,
                Some(Err(e)) => break Err(CliError::Other(format!("cannot read the terminal: {e}"))),
                None => break Ok(()),
            },
            Some(event) = inbox.recv() => event,
            _ = tick.tick() => Event::Tick,
        };
        if let Event::SignedOut(why) = event {
            break Err(CliError::Api {
                status: 401,
                code: "unauthenticated".into(),
                message: why,
            });
        }
        let effects = app.update(event, Instant::now());
        if app.quit {
            break Ok(());
        }
        carry_out(client, &events, &frames, effects);
    };
    live.abort();
    ended
}

/// Each effect runs on its own task and answers with an event; frames go to the socket.
fn carry_out(
    client: &Client,
    events: &mpsc::UnboundedSender<Event>,
    frames: &mpsc::UnboundedSender<ClientFrame>,
    effects: Vec<Effect>,
) {
    for effect in effects {
        match effect {
            Effect::Live(frame) => {
                let _ = frames.send(frame);
            }
            effect => {
                let client = client.clone();
                let events = events.clone();
                tokio::spawn(async move {
                    let event = match perform(&client, effect).await {
                        Ok(event) => event,
                        Err(e) => Event::Failed(e.to_string()),
                    };
                    let _ = events.send(event);
                });
            }
        }
    }
}

#[derive(Deserialize)]
struct Messages {
    messages: Vec<MessageView>,
}

/// One effect against the API; what it found, as an event for the reducer.
pub async fn perform(client: &Client, effect: Effect) -> Result<Event, CliError> {
    match effect {
        Effect::LoadRooms => {
            #[derive(Deserialize)]
            struct Mine {
                rooms: Vec<MyRoom>,
            }
            let mine: Mine = client.call("rooms/mine", json!({})).await?;
            Ok(Event::Rooms(mine.rooms))
        }
        Effect::LoadHistory { room, before } => {
            let page: Result<Messages, _> = client
                .call(
                    "messages/history",
                    json!({"room_id": room, "before": before, "limit": HISTORY_PAGE}),
                )
                .await;
            Ok(match page {
                Ok(page) => Event::History {
                    room,
                    messages: page.messages,
                },
                Err(e) => Event::LoadFailed {
                    room,
                    why: e.to_string(),
                },
            })
        }
        Effect::CatchUp { room, after } => Ok(match tail::since(client, &room, after).await {
            Ok(messages) => Event::CaughtUp { room, messages },
            Err(e) => Event::LoadFailed {
                room,
                why: e.to_string(),
            },
        }),
        Effect::LoadMembers { room } => {
            #[derive(Deserialize)]
            struct Members {
                members: Vec<MemberView>,
            }
            let list: Members = client
                .call("rooms/members", json!({"room_id": room}))
                .await?;
            Ok(Event::Members {
                room,
                members: list.members,
            })
        }
        Effect::Run { room, command } => run_slash(client, room, command).await,
        // Frames go to the socket, never here (`carry_out`).
        Effect::Live(_) => Ok(Event::Done(None)),
    }
}

/// A slash command that calls the API, as the matching scriptable command does.
async fn run_slash(
    client: &Client,
    room: Option<RoomId>,
    command: Slash,
) -> Result<Event, CliError> {
    let in_room = || {
        room.clone()
            .ok_or_else(|| CliError::Usage("Join a room first.".into()))
    };
    let said = match command {
        Slash::Join(name) => {
            let id = crate::room_id(client, &name, true).await?;
            match actions::join(client, &id).await? {
                actions::Joined::Asked => format!("Asked to join #{name}; an admin will answer."),
                actions::Joined::Member => format!("Joined #{name}."),
            }
        }
        Slash::Leave => {
            actions::leave(client, &in_room()?).await?;
            "You left the room.".into()
        }
        Slash::Invite(user) => {
            actions::invite(client, &in_room()?, &user).await?;
            format!("Invited {user}.")
        }
        Slash::Kick { user, reason } => {
            actions::kick(client, &in_room()?, &user, reason.as_deref()).await?;
            format!("Removed {user}.")
        }
        Slash::Ban {
            user,
            minutes,
            reason,
        } => {
            actions::ban(client, &in_room()?, &user, reason.as_deref(), minutes).await?;
            match minutes {
                Some(m) => format!("Banned {user} for {m} minutes."),
                None => format!("Banned {user}."),
            }
        }
        Slash::Approve(user) => {
            actions::approve(client, &in_room()?, &user).await?;
            format!("Let {user} in.")
        }
        Slash::Color(_) | Slash::Sticker(_) | Slash::Help | Slash::Quit => {
            return Ok(Event::Done(None))
        }
    };
    Ok(Event::Done(Some(said)))
}

/// The live channel, for as long as the screen runs: frames in as events, frames out from
/// `outbox`. When it is lost it says so and tries again with backoff (docs/RULES.md §9);
/// the reducer catches up once on `ready`.
async fn live(
    client: Client,
    events: mpsc::UnboundedSender<Event>,
    mut outbox: mpsc::UnboundedReceiver<ClientFrame>,
) {
    let mut attempt: u32 = 0;
    loop {
        let why = match tail::open(&client).await {
            Ok(mut ws) => loop {
                tokio::select! {
                    next = ws.next() => match tail::read(next) {
                        Ok(Some(frame)) => {
                            if matches!(frame, domain::wire::ServerFrame::Ready { .. }) {
                                attempt = 0;
                            }
                            let _ = events.send(Event::Frame(Box::new(frame)));
                        }
                        Ok(None) => {}
                        Err(ended) => break ended,
                    },
                    Some(frame) = outbox.recv() => {
                        let Ok(text) = serde_json::to_string(&frame) else { continue };
                        if let Err(e) = ws.send(Message::text(text)).await {
                            break Ended::Lost(e.to_string());
                        }
                    }
                }
            },
            Err(ended) => ended,
        };
        match why {
            Ended::Final(result) => {
                // The sentence alone: the runner ends with it as an `unauthenticated` error.
                let why = match result {
                    Err(CliError::Api { message, .. }) => message,
                    Err(e) => e.to_string(),
                    Ok(()) => "the live channel ended".into(),
                };
                let _ = events.send(Event::SignedOut(why));
                return;
            }
            Ended::Lost(why) => {
                let wait = tail::backoff(attempt);
                attempt = attempt.saturating_add(1);
                let _ = events.send(Event::Offline {
                    why,
                    retry_in: wait,
                });
                // Frames queued while away would be stale: the reducer resends what matters.
                tokio::time::sleep(wait).await;
                while outbox.try_recv().is_ok() {}
            }
        }
    }
}
