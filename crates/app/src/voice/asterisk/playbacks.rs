//! Playback ids: every narration played on a call's channel gets an id the
//! hub chooses, naming the call's channel and what the narration is — so
//! the end of a playback (`PlaybackFinished`) says by itself what comes
//! next, on whichever node reads it, and a key can stop the menu of the
//! current play (barge-in) without remembering what was started.
//!
//! `{channel id}.message`, `{channel id}.menu.{play}`,
//! `{channel id}.key.{key}.{play}`, `{channel id}.wrong.{play}`,
//! `{channel id}.silence.{play}`. The hub's channel ids never contain `.`.

use recado_channels::voice::asterisk::ChannelRef;
use recado_core::voice::Key;

/// What a playback plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// A voice message's narration: the call hangs up after it.
    Message,
    /// Play `n` of the IVR menu: the no-input timeout starts after it.
    Menu(u32),
    /// The narration of a key's action, pressed during play `n`.
    Key(Key, u32),
    /// The wrong-key narration leading to play `n` (or to goodbye).
    WrongKey(u32),
    /// The no-input narration leading to play `n` (or to goodbye).
    NoInput(u32),
}

/// The id of `part` played on `channel`.
pub fn playback_id(channel: &ChannelRef, part: Part) -> String {
    let channel = channel.channel_id();
    match part {
        Part::Message => format!("{channel}.message"),
        Part::Menu(play) => format!("{channel}.menu.{play}"),
        Part::Key(key, play) => format!("{channel}.key.{key}.{play}"),
        Part::WrongKey(play) => format!("{channel}.wrong.{play}"),
        Part::NoInput(play) => format!("{channel}.silence.{play}"),
    }
}

/// Reads an id written by [`playback_id`]; `None` for any other.
pub fn parse(playback_id: &str) -> Option<(ChannelRef, Part)> {
    let mut pieces = playback_id.split('.');
    let channel = ChannelRef::parse(pieces.next()?)?;
    let play = |piece: Option<&str>| -> Option<u32> {
        let text = piece?;
        (!text.starts_with('0')).then_some(())?;
        text.parse().ok()
    };
    let part = match pieces.next()? {
        "message" => Part::Message,
        "menu" => Part::Menu(play(pieces.next())?),
        "key" => {
            let mut symbols = pieces.next()?.chars();
            let key = match (symbols.next(), symbols.next()) {
                (Some(c), None) => Key::new(c)?,
                _ => return None,
            };
            Part::Key(key, play(pieces.next())?)
        }
        "wrong" => Part::WrongKey(play(pieces.next())?),
        "silence" => Part::NoInput(play(pieces.next())?),
        _ => return None,
    };
    pieces.next().is_none().then_some((channel, part))
}

/// What may be playing while the menu's play `play` listens for a key: the
/// narration leading to it and the menu itself. A key stops them all.
pub fn listening(play: u32) -> [Part; 3] {
    [Part::WrongKey(play), Part::NoInput(play), Part::Menu(play)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> Key {
        Key::new(c).unwrap()
    }

    #[test]
    fn every_part_reads_back_from_its_id() {
        let channel = ChannelRef::main("msg_01kbq7zc3m9yx0ge4d6a8v2rt1", 2);
        for part in [
            Part::Message,
            Part::Menu(1),
            Part::Menu(10),
            Part::Key(key('9'), 3),
            Part::WrongKey(2),
            Part::NoInput(4),
        ] {
            let id = playback_id(&channel, part);
            assert_eq!(parse(&id), Some((channel.clone(), part)), "{id}");
        }
        assert_eq!(
            playback_id(&channel, Part::Key(key('1'), 2)),
            "msg_01kbq7zc3m9yx0ge4d6a8v2rt1-2.key.1.2"
        );
    }

    #[test]
    fn ids_the_hub_did_not_write_are_not_its_playbacks() {
        for id in [
            "",
            "msg_1-1",
            "msg_1-1.menu",
            "msg_1-1.menu.01",
            "msg_1-1.menu.x",
            "msg_1-1.key.12.1",
            "msg_1-1.key.A.1",
            "msg_1-1.message.1",
            "msg_1-1.tune.1",
            "msg_1.menu.1",
            "2f7c1a8e-0d4b-4a4e-9a57-2f0f1f7c1a8e",
        ] {
            assert_eq!(parse(id), None, "{id}");
        }
    }

    #[test]
    fn the_transfer_legs_playbacks_name_that_leg() {
        let agent = ChannelRef::main("msg_1", 1).transfer();
        let id = playback_id(&agent, Part::Menu(1));
        assert_eq!(parse(&id).map(|(c, _)| c), Some(agent));
    }
}
