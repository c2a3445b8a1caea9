//! The IVR menu (SPEC §6; API "Voice"): what each key, a wrong key and
//! silence lead to, and how often the menu is played before the call says
//! goodbye. Pure: the call's state machine ([`super::call`]) keeps the
//! [`MenuState`] and hands the provider adapter the [`Reaction`] to carry
//! out (play a narration, transfer, hang up).
//!
//! * The menu is played at most `max_plays` times in all (the first play
//!   counts). A wrong key and a timeout without a key each play the menu
//!   again while plays remain, and say goodbye after the last one.
//! * A defined key runs its action once; keys pressed while an action runs
//!   (its narration, a transfer) or after goodbye are ignored.
//! * An action followed by `then: menu` plays the menu again — that play
//!   counts too, so no definition loops for ever.
//! * A timeout names the play it was armed for; a stale one (the contact
//!   pressed a key meanwhile) is ignored.

use super::Key;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The default and the most plays of a menu (API: `max_menu_plays`).
pub const DEFAULT_MAX_PLAYS: u32 = 3;

/// What follows a key's narration or SMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    Menu,
    Hangup,
}

/// A key's action, without its texts (the adapter looks them up by key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum KeyAction {
    /// Play the key's narration, then `then`.
    Play { then: Then },
    /// Narration (optional), then bridge the call to another number.
    Transfer,
    /// Send the key's SMS (the hub does), play its narration, then `then`.
    SendSms { then: Then },
    /// Record the opt-out from voice, play the confirmation, hang up.
    Unsubscribe,
}

impl KeyAction {
    /// What follows once the action's narration has played.
    fn then(self) -> Then {
        match self {
            KeyAction::Play { then } | KeyAction::SendSms { then } => then,
            KeyAction::Transfer | KeyAction::Unsubscribe => Then::Hangup,
        }
    }
}

/// A menu: actions by key and how many plays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Menu {
    pub keys: BTreeMap<Key, KeyAction>,
    pub max_plays: u32,
}

impl Menu {
    pub fn new(keys: impl IntoIterator<Item = (Key, KeyAction)>) -> Menu {
        Menu {
            keys: keys.into_iter().collect(),
            max_plays: DEFAULT_MAX_PLAYS,
        }
    }

    /// The action of `key`; only digits have actions.
    pub fn action(&self, key: Key) -> Option<KeyAction> {
        key.is_digit().then(|| self.keys.get(&key).copied()).flatten()
    }

    /// The opt-out key, if the menu has one.
    pub fn unsubscribe_key(&self) -> Option<Key> {
        self.keys
            .iter()
            .find(|(_, action)| **action == KeyAction::Unsubscribe)
            .map(|(key, _)| *key)
    }

    fn max_plays(&self) -> u32 {
        self.max_plays.max(1)
    }
}

/// Where the menu is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MenuStatus {
    /// The menu is playing or waiting for a key.
    Listening,
    /// A key's action runs; keys are ignored until it is done.
    Acting,
    /// Goodbye was said (or the action ends the call).
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuState {
    /// Plays of the menu so far, the current one included (1 after
    /// [`start`]).
    pub plays: u32,
    pub status: MenuStatus,
}

/// What happens next; the adapter carries it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reaction")]
pub enum Reaction {
    /// Play the menu (play number `play`) and wait for a key.
    PlayMenu { play: u32 },
    /// Run the key's action (stop the menu first).
    Run { key: Key, action: KeyAction },
    /// Play the wrong-key narration, then the menu (`again`) or goodbye.
    WrongKey { again: bool },
    /// Play the no-input narration, then the menu (`again`) or goodbye.
    NoInput { again: bool },
    /// Say goodbye and hang up.
    Goodbye,
    /// Nothing to do (a key during an action, a stale timeout...).
    Ignored,
}

/// The first play of the menu, when the call is answered.
pub fn start() -> (MenuState, Reaction) {
    (
        MenuState {
            plays: 1,
            status: MenuStatus::Listening,
        },
        Reaction::PlayMenu { play: 1 },
    )
}

/// The contact pressed `key`.
pub fn on_key(menu: &Menu, state: MenuState, key: Key) -> (MenuState, Reaction) {
    if state.status != MenuStatus::Listening {
        return (state, Reaction::Ignored);
    }
    match menu.action(key) {
        Some(action) => (
            MenuState {
                status: MenuStatus::Acting,
                ..state
            },
            Reaction::Run { key, action },
        ),
        None => {
            let (next, again) = replay(menu, state);
            (next, Reaction::WrongKey { again })
        }
    }
}

/// The no-input timeout armed for menu play `play` expired.
pub fn on_no_input(menu: &Menu, state: MenuState, play: u32) -> (MenuState, Reaction) {
    if state.status != MenuStatus::Listening || play != state.plays {
        return (state, Reaction::Ignored);
    }
    let (next, again) = replay(menu, state);
    (next, Reaction::NoInput { again })
}

/// The running action's narration (or SMS) is done: the menu again, or
/// goodbye. Transfers and opt-outs end the call themselves.
pub fn on_action_done(menu: &Menu, state: MenuState, action: KeyAction) -> (MenuState, Reaction) {
    if state.status != MenuStatus::Acting {
        return (state, Reaction::Ignored);
    }
    match action.then() {
        Then::Hangup => (
            MenuState {
                status: MenuStatus::Done,
                ..state
            },
            Reaction::Goodbye,
        ),
        Then::Menu => match replay(menu, state) {
            (next, true) => (next, Reaction::PlayMenu { play: next.plays }),
            (next, false) => (next, Reaction::Goodbye),
        },
    }
}

/// One more play of the menu if plays remain (and whether there was one).
fn replay(menu: &Menu, state: MenuState) -> (MenuState, bool) {
    if state.plays < menu.max_plays() {
        (
            MenuState {
                plays: state.plays + 1,
                status: MenuStatus::Listening,
            },
            true,
        )
    } else {
        (
            MenuState {
                status: MenuStatus::Done,
                ..state
            },
            false,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(c: char) -> Key {
        Key::new(c).unwrap()
    }

    fn menu() -> Menu {
        Menu::new([
            (key('1'), KeyAction::Transfer),
            (key('2'), KeyAction::SendSms { then: Then::Hangup }),
            (key('3'), KeyAction::Play { then: Then::Menu }),
            (key('9'), KeyAction::Unsubscribe),
        ])
    }

    #[test]
    fn a_defined_key_runs_its_action() {
        let (state, _) = start();
        let (state, reaction) = on_key(&menu(), state, key('1'));
        assert_eq!(
            reaction,
            Reaction::Run {
                key: key('1'),
                action: KeyAction::Transfer
            }
        );
        assert_eq!(state.status, MenuStatus::Acting);
    }

    #[test]
    fn a_wrong_key_plays_the_menu_again_while_plays_remain() {
        let (state, _) = start();
        let (state, reaction) = on_key(&menu(), state, key('5'));
        assert_eq!(reaction, Reaction::WrongKey { again: true });
        assert_eq!(state.plays, 2);
        let (state, reaction) = on_key(&menu(), state, key('#'));
        assert_eq!(reaction, Reaction::WrongKey { again: true });
        let (state, reaction) = on_key(&menu(), state, key('*'));
        assert_eq!(reaction, Reaction::WrongKey { again: false });
        assert_eq!(state.status, MenuStatus::Done);
    }

    #[test]
    fn silence_plays_the_menu_again_then_says_goodbye() {
        let m = menu();
        let (mut state, _) = start();
        for play in 1..m.max_plays {
            let reaction;
            (state, reaction) = on_no_input(&m, state, play);
            assert_eq!(reaction, Reaction::NoInput { again: true });
        }
        let (state, reaction) = on_no_input(&m, state, m.max_plays);
        assert_eq!(reaction, Reaction::NoInput { again: false });
        assert_eq!(state.status, MenuStatus::Done);
    }

    #[test]
    fn a_stale_timeout_is_ignored() {
        let (state, _) = start();
        let (state, _) = on_key(&menu(), state, key('7'));
        assert_eq!(on_no_input(&menu(), state, 1), (state, Reaction::Ignored));
    }

    #[test]
    fn keys_during_an_action_are_ignored() {
        let (state, _) = start();
        let (state, _) = on_key(&menu(), state, key('1'));
        assert_eq!(on_key(&menu(), state, key('9')), (state, Reaction::Ignored));
        assert_eq!(on_no_input(&menu(), state, 1), (state, Reaction::Ignored));
    }

    #[test]
    fn then_menu_plays_the_menu_again_and_counts_the_play() {
        let m = menu();
        let (state, _) = start();
        let (state, _) = on_key(&m, state, key('3'));
        let (state, reaction) = on_action_done(&m, state, KeyAction::Play { then: Then::Menu });
        assert_eq!(reaction, Reaction::PlayMenu { play: 2 });
        assert_eq!(state.status, MenuStatus::Listening);
    }

    #[test]
    fn then_hangup_and_opt_out_end_with_goodbye() {
        let m = menu();
        for (k, action) in [
            (key('2'), KeyAction::SendSms { then: Then::Hangup }),
            (key('9'), KeyAction::Unsubscribe),
        ] {
            let (state, _) = start();
            let (state, _) = on_key(&m, state, k);
            let (state, reaction) = on_action_done(&m, state, action);
            assert_eq!(reaction, Reaction::Goodbye);
            assert_eq!(state.status, MenuStatus::Done);
        }
    }

    #[test]
    fn a_menu_knows_its_opt_out_key_and_stars_have_no_action() {
        assert_eq!(menu().unsubscribe_key(), Some(key('9')));
        let mut m = menu();
        m.keys.insert(key('*'), KeyAction::Transfer);
        assert_eq!(m.action(key('*')), None);
    }

    #[derive(Clone, Copy, Debug)]
    enum Step {
        Press(Key),
        Silence,
        Done,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            prop::sample::select(Key::all().collect::<Vec<_>>()).prop_map(Step::Press),
            Just(Step::Silence),
            Just(Step::Done),
        ]
    }

    proptest! {
        #[test]
        fn the_menu_never_plays_more_than_max_plays_and_always_ends(
            steps in prop::collection::vec(step(), 0..40),
            max_plays in 1u32..5,
        ) {
            let mut m = menu();
            m.max_plays = max_plays;
            let (mut state, _) = start();
            let mut plays = 1;
            let mut running = None;
            for s in steps.iter().copied().chain(std::iter::repeat_n(Step::Silence, 10)) {
                let reaction;
                (state, reaction) = match s {
                    Step::Press(k) => on_key(&m, state, k),
                    Step::Silence => on_no_input(&m, state, state.plays),
                    Step::Done => match running {
                        Some(action) => on_action_done(&m, state, action),
                        None => (state, Reaction::Ignored),
                    },
                };
                match reaction {
                    Reaction::PlayMenu { .. } | Reaction::WrongKey { again: true } | Reaction::NoInput { again: true } => plays += 1,
                    Reaction::Run { action, .. } => running = Some(action),
                    _ => {}
                }
                prop_assert_eq!(plays, state.plays);
                prop_assert!(state.plays <= max_plays);
                if matches!(reaction, Reaction::Goodbye | Reaction::WrongKey { again: false } | Reaction::NoInput { again: false }) {
                    prop_assert_eq!(state.status, MenuStatus::Done);
                }
                if state.status == MenuStatus::Acting {
                    // A running action ends only when the adapter says so.
                    let after;
                    (state, after) = on_action_done(&m, state, running.unwrap());
                    if let Reaction::PlayMenu { .. } = after { plays += 1 }
                }
            }
            // Ten silences after anything leave the menu done.
            prop_assert_eq!(state.status, MenuStatus::Done);
        }
    }
}
