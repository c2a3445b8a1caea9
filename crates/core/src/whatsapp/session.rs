//! The customer-service window (SPEC §4 "Session"). A contact's inbound message
//! opens a 24-hour window in which free-form messages may be sent; outside it
//! only approved templates may go out.

/// How long a session stays open after the contact's last inbound message.
pub const SESSION_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// A contact's session, known only through the time of their last inbound
/// message. Times are milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionWindow {
    pub last_inbound_at_ms: Option<i64>,
}

impl SessionWindow {
    /// A session last touched by an inbound message at `at_ms`.
    pub fn opened_at(at_ms: i64) -> Self {
        SessionWindow {
            last_inbound_at_ms: Some(at_ms),
        }
    }

    /// Records an inbound message. Webhooks arrive out of order, so an older
    /// message reported late never shortens the window a newer one opened.
    pub fn record_inbound(&mut self, at_ms: i64) {
        self.last_inbound_at_ms = Some(self.last_inbound_at_ms.map_or(at_ms, |last| last.max(at_ms)));
    }

    /// The instant the session closes (exclusive), or `None` when the contact
    /// has never written.
    pub fn expires_at_ms(&self) -> Option<i64> {
        self.last_inbound_at_ms.map(|at| at.saturating_add(SESSION_WINDOW_MS))
    }

    /// Whether free-form messages may be sent at `now_ms`: strictly before the
    /// last inbound message plus 24 hours. At exactly +24 h the window is closed,
    /// so Recado never sends at the instant the provider would refuse it.
    pub fn is_open(&self, now_ms: i64) -> bool {
        self.expires_at_ms().is_some_and(|expires| now_ms < expires)
    }

    /// Milliseconds left in the session at `now_ms`; 0 when it is closed.
    pub fn remaining_ms(&self, now_ms: i64) -> i64 {
        self.expires_at_ms()
            .map_or(0, |expires| expires.saturating_sub(now_ms).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;
    const MINUTE: i64 = 60_000;

    #[test]
    fn session_is_open_just_after_an_inbound_message() {
        let session = SessionWindow::opened_at(T0);
        assert!(session.is_open(T0));
        assert!(session.is_open(T0 + 1));
        assert_eq!(session.remaining_ms(T0 + MINUTE), SESSION_WINDOW_MS - MINUTE);
        assert_eq!(session.expires_at_ms(), Some(T0 + SESSION_WINDOW_MS));
    }

    #[test]
    fn session_is_still_open_one_millisecond_before_24_hours() {
        let session = SessionWindow::opened_at(T0);
        assert!(session.is_open(T0 + SESSION_WINDOW_MS - 1));
        assert_eq!(session.remaining_ms(T0 + SESSION_WINDOW_MS - 1), 1);
    }

    #[test]
    fn session_is_closed_exactly_24_hours_after_the_last_inbound() {
        let session = SessionWindow::opened_at(T0);
        assert!(!session.is_open(T0 + SESSION_WINDOW_MS));
        assert!(!session.is_open(T0 + SESSION_WINDOW_MS + MINUTE));
        assert_eq!(session.remaining_ms(T0 + SESSION_WINDOW_MS), 0);
        assert_eq!(session.remaining_ms(T0 + 2 * SESSION_WINDOW_MS), 0);
    }

    #[test]
    fn a_newer_inbound_message_extends_the_session() {
        let mut session = SessionWindow::opened_at(T0);
        session.record_inbound(T0 + 20 * 60 * MINUTE);
        assert!(session.is_open(T0 + SESSION_WINDOW_MS));
        assert_eq!(session.expires_at_ms(), Some(T0 + 20 * 60 * MINUTE + SESSION_WINDOW_MS));
    }

    #[test]
    fn an_older_inbound_reported_late_does_not_shorten_the_session() {
        let mut session = SessionWindow::opened_at(T0);
        session.record_inbound(T0 - 10 * 60 * MINUTE);
        assert_eq!(session.last_inbound_at_ms, Some(T0));
        assert!(session.is_open(T0 + SESSION_WINDOW_MS - 1));
    }

    #[test]
    fn a_contact_who_never_wrote_has_no_open_session() {
        let session = SessionWindow::default();
        assert!(!session.is_open(T0));
        assert_eq!(session.expires_at_ms(), None);
        assert_eq!(session.remaining_ms(T0), 0);
    }
}
