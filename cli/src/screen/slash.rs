//! The composer's slash commands (docs/CLI.md, "The full-screen client"): what the admin
//! pages do, typed. Parsing is pure; the runner calls the API for the ones that need it.

use domain::message::{Color, StickerName};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slash {
    /// Join a room by name or id (or ask to, as its policy says).
    Join(String),
    /// Leave the current room.
    Leave,
    Invite(String),
    Kick {
        user: String,
        reason: Option<String>,
    },
    Ban {
        user: String,
        minutes: Option<u32>,
        reason: Option<String>,
    },
    Approve(String),
    /// The colour of what I send from now on; `None` for none.
    Color(Option<Color>),
    Sticker(StickerName),
    Help,
    Quit,
}

impl Slash {
    pub const HELP: &'static str = "/join ROOM · /leave · /invite USER · /kick USER [REASON] · \
         /ban USER [MINUTES] [REASON] · /approve USER · /color NAME|off · /sticker NAME · /quit";

    /// A line typed in the composer, starting with `/`; the refusal says what to type.
    pub fn parse(line: &str) -> Result<Self, String> {
        let line = line.trim().trim_start_matches('/');
        let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let (first, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let first = first.trim_start_matches(['@', '#']).to_owned();
        let tail = Some(tail.trim().to_owned()).filter(|t| !t.is_empty());
        let needs = |what: &str| format!("/{name} needs {what}.");
        let arg = |what: &str| {
            if first.is_empty() {
                Err(needs(what))
            } else {
                Ok(first.clone())
            }
        };
        match name.to_ascii_lowercase().as_str() {
            "join" => Ok(Self::Join(arg("a room's name")?)),
            "leave" | "part" => Ok(Self::Leave),
            "invite" => Ok(Self::Invite(arg("a username")?)),
            "kick" => Ok(Self::Kick {
                user: arg("a username")?,
                reason: tail,
            }),
            "ban" => {
                let user = arg("a username")?;
                // An optional number of minutes comes first: "/ban bob 30 spam".
                let (minutes, reason) = match tail.as_deref().map(|t| {
                    let (n, r) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
                    (n.parse::<u32>().ok(), r.trim())
                }) {
                    Some((Some(n), r)) => (Some(n), Some(r.to_owned()).filter(|r| !r.is_empty())),
                    _ => (None, tail),
                };
                Ok(Self::Ban {
                    user,
                    minutes,
                    reason,
                })
            }
            "approve" => Ok(Self::Approve(arg("a username")?)),
            "color" | "colour" => {
                let raw = arg("a colour, or off")?;
                if raw == "off" || raw == "none" {
                    return Ok(Self::Color(None));
                }
                Color::parse(Some(&raw))
                    .map(Self::Color)
                    .map_err(|e| e.message)
            }
            "sticker" => {
                let names: Vec<_> = StickerName::catalogue().map(StickerName::as_str).collect();
                let raw = arg(&format!("a sticker: {}", names.join(", ")))?;
                StickerName::parse(&raw)
                    .map(Self::Sticker)
                    .map_err(|_| format!("No sticker \"{raw}\". There are: {}.", names.join(", ")))
            }
            "help" | "?" => Ok(Self::Help),
            "quit" | "exit" => Ok(Self::Quit),
            _ => Err(format!("No command /{name}. {}", Self::HELP)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_their_arguments_and_refuse_with_what_to_type() {
        assert_eq!(
            Slash::parse("/join #General"),
            Ok(Slash::Join("General".into()))
        );
        assert_eq!(Slash::parse("/leave"), Ok(Slash::Leave));
        assert_eq!(
            Slash::parse("/invite @bob"),
            Ok(Slash::Invite("bob".into()))
        );
        assert_eq!(
            Slash::parse("/kick bob too loud today"),
            Ok(Slash::Kick {
                user: "bob".into(),
                reason: Some("too loud today".into())
            })
        );
        assert_eq!(
            Slash::parse("/ban bob 30 spam links"),
            Ok(Slash::Ban {
                user: "bob".into(),
                minutes: Some(30),
                reason: Some("spam links".into())
            })
        );
        assert_eq!(
            Slash::parse("/ban bob spam"),
            Ok(Slash::Ban {
                user: "bob".into(),
                minutes: None,
                reason: Some("spam".into())
            })
        );
        assert_eq!(
            Slash::parse("/approve carol"),
            Ok(Slash::Approve("carol".into()))
        );
        assert_eq!(
            Slash::parse("/color teal"),
            Ok(Slash::Color(Some(Color::Teal)))
        );
        assert_eq!(Slash::parse("/color off"), Ok(Slash::Color(None)));
        assert!(
            matches!(Slash::parse("/sticker shrug"), Ok(Slash::Sticker(s)) if s.as_str() == "shrug")
        );
        assert_eq!(Slash::parse("/kick"), Err("/kick needs a username.".into()));
        assert!(Slash::parse("/color mauve")
            .unwrap_err()
            .contains("not one of the colours"));
        assert!(Slash::parse("/sticker nope").unwrap_err().contains("shrug"));
        assert!(Slash::parse("/frobnicate")
            .unwrap_err()
            .starts_with("No command /frobnicate."));
    }
}
