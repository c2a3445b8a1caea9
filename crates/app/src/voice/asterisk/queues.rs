//! An application's events, handled in order per call and in parallel
//! across calls. Each call has a queue of its own while its events come
//! (its handler ends after a quiet spell), and at most [`AT_ONCE`] events
//! are handled at a time, first come first served. So an event waits only
//! for its own call's earlier events and for its turn at the database —
//! never behind another call's burst, as it would in a queue shared by a
//! fixed group of calls.

use super::events::Routed;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex, Semaphore};
use tokio::task::JoinSet;

/// Events handled at the same time, across calls.
pub(super) const AT_ONCE: usize = 16;

/// A call's handler ends after this long without an event; the next event
/// starts another.
pub(super) const QUIET: Duration = Duration::from_secs(60);

/// Routed events between map clean-ups of the handlers that ended.
const PRUNE_EVERY: u64 = 1024;

/// What handles one event.
pub(super) type Handler = Arc<dyn Fn(Routed) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A call's queue, and the turn its handlers take one after another: a
/// handler that ended on a quiet spell may still be finishing what it had
/// when the next one starts.
struct CallQueue {
    events: mpsc::UnboundedSender<Routed>,
    turn: Arc<Mutex<()>>,
}

pub(super) struct CallQueues {
    handler: Handler,
    quiet: Duration,
    permits: Arc<Semaphore>,
    calls: HashMap<String, CallQueue>,
    handlers: JoinSet<()>,
    routed: u64,
}

impl CallQueues {
    pub(super) fn new(handler: Handler, at_once: usize, quiet: Duration) -> Self {
        Self {
            handler,
            quiet,
            permits: Arc::new(Semaphore::new(at_once)),
            calls: HashMap::new(),
            handlers: JoinSet::new(),
            routed: 0,
        }
    }

    /// Hands an event to its call's queue, starting the call's handler
    /// when it has none.
    pub(super) fn route(&mut self, routed: Routed) {
        self.routed += 1;
        if self.routed.is_multiple_of(PRUNE_EVERY) {
            self.prune();
        }
        let call_id = routed.channel.call_id.clone();
        let (routed, turn) = match self.calls.get(&call_id) {
            Some(queue) => match queue.events.send(routed) {
                Ok(()) => return,
                // Its handler ended: the next one waits for its turn.
                Err(mpsc::error::SendError(routed)) => (routed, queue.turn.clone()),
            },
            None => (routed, Arc::new(Mutex::new(()))),
        };
        let (events, rx) = mpsc::unbounded_channel();
        let _ = events.send(routed);
        self.handlers.spawn(handle_call(
            self.handler.clone(),
            self.permits.clone(),
            turn.clone(),
            self.quiet,
            rx,
        ));
        self.calls.insert(call_id, CallQueue { events, turn });
    }

    /// Forgets the calls whose handler is over.
    fn prune(&mut self) {
        self.calls
            .retain(|_, q| !q.events.is_closed() || q.turn.try_lock().is_err());
        while self.handlers.try_join_next().is_some() {}
    }

    /// How many calls have a handler or a turn held.
    #[cfg(test)]
    fn calls(&mut self) -> usize {
        self.prune();
        self.calls.len()
    }

    /// Waits until every event routed so far is handled.
    pub(super) async fn finish(mut self) {
        self.calls.clear();
        while self.handlers.join_next().await.is_some() {}
    }
}

/// One call's handler: its events in order, each when a permit is free.
async fn handle_call(
    handler: Handler,
    permits: Arc<Semaphore>,
    turn: Arc<Mutex<()>>,
    quiet: Duration,
    mut rx: mpsc::UnboundedReceiver<Routed>,
) {
    let _turn = turn.lock().await;
    loop {
        let routed = match tokio::time::timeout(quiet, rx.recv()).await {
            Ok(Some(routed)) => routed,
            Ok(None) => return,
            // Quiet: no more events are taken; what came meanwhile is
            // still handled (the loop ends when the queue is empty).
            Err(_) => {
                rx.close();
                continue;
            }
        };
        let Ok(_permit) = permits.acquire().await else {
            return;
        };
        handler(routed).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recado_channels::voice::asterisk::{AriEvent, ChannelRef};
    use std::sync::Mutex as StdMutex;
    use std::time::Instant;

    fn event(call: &str, n: u32) -> Routed {
        let channel = ChannelRef::main(call.to_string(), 1);
        Routed {
            event: AriEvent::ChannelStateChange {
                channel_id: channel.channel_id(),
                state: n.to_string(),
            },
            channel,
            at: Instant::now(),
        }
    }

    type Seen = Arc<StdMutex<Vec<(String, u32)>>>;
    /// Events being handled now, and the most at once.
    type Busy = Arc<StdMutex<(usize, usize)>>;

    /// A handler that records (call, n) once it has slept `slow` for the
    /// call `slow_call`, and the most events handled at once.
    fn recording(slow_call: &'static str, slow: Duration) -> (Handler, Seen, Busy) {
        let seen = Seen::default();
        let busy = Busy::default();
        let (s, b) = (seen.clone(), busy.clone());
        let handler: Handler = Arc::new(move |routed: Routed| {
            let (seen, busy) = (s.clone(), b.clone());
            Box::pin(async move {
                {
                    let mut b = busy.lock().unwrap();
                    b.0 += 1;
                    b.1 = b.1.max(b.0);
                }
                if routed.channel.call_id == slow_call {
                    tokio::time::sleep(slow).await;
                } else {
                    tokio::task::yield_now().await;
                }
                let AriEvent::ChannelStateChange { state, .. } = &routed.event else {
                    unreachable!()
                };
                seen.lock()
                    .unwrap()
                    .push((routed.channel.call_id.clone(), state.parse().unwrap()));
                busy.lock().unwrap().0 -= 1;
            })
        });
        (handler, seen, busy)
    }

    fn of(seen: &[(String, u32)], call: &str) -> Vec<u32> {
        seen.iter().filter(|(c, _)| c == call).map(|(_, n)| *n).collect()
    }

    #[tokio::test]
    async fn a_calls_events_are_handled_in_the_order_they_came() {
        let (handler, seen, _) = recording("slow", Duration::from_millis(5));
        let mut queues = CallQueues::new(handler, 4, QUIET);
        for n in 0..20 {
            queues.route(event("slow", n));
            queues.route(event("fast", n));
        }
        queues.finish().await;
        let seen = seen.lock().unwrap();
        assert_eq!(of(&seen, "slow"), (0..20).collect::<Vec<_>>());
        assert_eq!(of(&seen, "fast"), (0..20).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_slow_call_never_holds_back_another_calls_events() {
        let (handler, seen, _) = recording("slow", Duration::from_millis(200));
        let mut queues = CallQueues::new(handler, 4, QUIET);
        queues.route(event("slow", 0));
        for n in 0..10 {
            queues.route(event("fast", n));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            of(&seen.lock().unwrap(), "fast").len(),
            10,
            "the fast call's events are all handled"
        );
        assert!(of(&seen.lock().unwrap(), "slow").is_empty());
        queues.finish().await;
    }

    #[tokio::test]
    async fn no_more_events_are_handled_at_once_than_the_permits() {
        let (handler, _, busy) = recording("none", Duration::ZERO);
        let mut queues = CallQueues::new(handler, 3, QUIET);
        for call in 0..50 {
            queues.route(event(&format!("call{call}"), 0));
        }
        queues.finish().await;
        assert_eq!(busy.lock().unwrap().1, 3);
    }

    #[tokio::test]
    async fn a_call_quiet_for_a_while_starts_a_new_handler_and_keeps_its_order() {
        let (handler, seen, _) = recording("a", Duration::from_millis(30));
        let mut queues = CallQueues::new(handler, 4, Duration::from_millis(20));
        queues.route(event("a", 0));
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(queues.calls(), 0, "the quiet call's handler ended");
        for n in 1..4 {
            queues.route(event("a", n));
        }
        queues.finish().await;
        assert_eq!(of(&seen.lock().unwrap(), "a"), vec![0, 1, 2, 3]);
    }
}
