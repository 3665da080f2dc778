//! The one source of time behind every status and timestamp.
//!
//! [`Clock`] is the trait the rest of the mock reads. [`SystemClock`] is the
//! wall clock; [`VirtualClock`] wraps any other clock and can be frozen,
//! advanced and resumed, which is how a test jumps past a five-minute
//! pipeline in one request. The server always runs on a `VirtualClock` over
//! the system clock: with no offset and not frozen it *is* system time.
//!
//! The transitions themselves live on [`ClockState`] as pure functions of the
//! source's reading, so they can be checked without any waiting.

use jiff::{SignedDuration, Timestamp};
use parking_lot::Mutex;

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant, truncated to whole milliseconds because that is
    /// the precision GitLab prints and the store keeps.
    fn now(&self) -> Timestamp;
}

/// Wall-clock time from the operating system.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        truncate_to_millis(Timestamp::now())
    }
}

/// The spelling of an instant everywhere the mock prints one: RFC 3339 in
/// UTC with exactly three fractional digits and `Z`, as GitLab does
/// (`2026-12-03T10:00:00.000Z`).
///
/// Every trigger and poll prints three to five of these, so the common case
/// (years 0 to 9999) writes its 24 bytes directly instead of going through
/// jiff's general printer, which cost several times as much in the
/// profile. Other years, which only an absurd freeze reaches, keep jiff's
/// spelling.
pub fn rfc3339_millis(instant: Timestamp) -> String {
    let mut text = Vec::with_capacity(24);
    push_rfc3339_millis(&mut text, instant);
    // Only ASCII digits and separators, or jiff's own text, were written.
    String::from_utf8(text).unwrap_or_default()
}

/// [`rfc3339_millis`], appended to `out`: the JSON writer of the pipeline
/// entity prints its timestamps this way, without a `String` each.
pub fn push_rfc3339_millis(out: &mut Vec<u8>, instant: Timestamp) {
    let civil = jiff::tz::Offset::UTC.to_datetime(instant);
    if !(0..=9999).contains(&civil.year()) {
        out.extend_from_slice(format!("{instant:.3}").as_bytes());
        return;
    }

    let mut text = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut text[0..4], i32::from(civil.year()));
    put_digits(&mut text[5..7], i32::from(civil.month()));
    put_digits(&mut text[8..10], i32::from(civil.day()));
    put_digits(&mut text[11..13], i32::from(civil.hour()));
    put_digits(&mut text[14..16], i32::from(civil.minute()));
    put_digits(&mut text[17..19], i32::from(civil.second()));
    put_digits(&mut text[20..23], i32::from(civil.millisecond()));
    out.extend_from_slice(&text);
}

/// Writes `value`, which is not negative, as decimal digits filling
/// `digits` (the lowest in the last place).
fn put_digits(digits: &mut [u8], mut value: i32) {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Drops everything below a millisecond.
pub fn truncate_to_millis(instant: Timestamp) -> Timestamp {
    Timestamp::from_millisecond(instant.as_millisecond()).unwrap_or(instant)
}

/// How a [`VirtualClock`] relates to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Time flows with the source, shifted by a fixed offset (zero when the
    /// clock has never been touched).
    Running { offset: SignedDuration },
    /// Time stands still at one instant until advanced or resumed.
    Frozen { at: Timestamp },
}

/// Why a clock change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("cannot freeze at {requested:.3}: it is before the clock's current time {now:.3}")]
    Backwards {
        requested: Timestamp,
        now: Timestamp,
    },
    #[error("cannot move the clock past the largest supported instant")]
    OutOfRange,
}

impl ClockState {
    /// The state of a clock that follows its source exactly.
    pub const SYSTEM: ClockState = ClockState::Running {
        offset: SignedDuration::ZERO,
    };

    /// The instant this state shows, given what the source reads.
    pub fn now(self, source_now: Timestamp) -> Timestamp {
        match self {
            Self::Frozen { at } => at,
            Self::Running { offset } => source_now.saturating_add(offset).unwrap_or(source_now),
        }
    }

    /// Whether time stands still.
    pub fn is_frozen(self) -> bool {
        matches!(self, Self::Frozen { .. })
    }

    /// Stops time at `at`, or at the current instant when `at` is `None`.
    /// Refuses to go back, because a pipeline observed as finished must
    /// never be observed running again.
    pub fn freeze(self, at: Option<Timestamp>, source_now: Timestamp) -> Result<Self, ClockError> {
        let now = self.now(source_now);
        let at = at.map(truncate_to_millis).unwrap_or(now);
        if at < now {
            return Err(ClockError::Backwards { requested: at, now });
        }
        Ok(Self::Frozen { at })
    }

    /// Moves time forward by `step`, frozen or running.
    pub fn advance(self, step: SignedDuration, source_now: Timestamp) -> Result<Self, ClockError> {
        // Moving by nothing always succeeds, even at the end of time, where
        // a running clock's offset no longer fits on top of the source.
        if step.is_zero() {
            return Ok(self);
        }
        match self {
            Self::Frozen { at } => {
                let at = at.checked_add(step).map_err(|_| ClockError::OutOfRange)?;
                Ok(Self::Frozen { at })
            }
            Self::Running { offset } => {
                let offset = offset.checked_add(step).ok_or(ClockError::OutOfRange)?;
                source_now
                    .checked_add(offset)
                    .map_err(|_| ClockError::OutOfRange)?;
                Ok(Self::Running { offset })
            }
        }
    }

    /// Lets time flow again from the frozen instant, with no jump back to
    /// the source's time.
    pub fn resume(self, source_now: Timestamp) -> Self {
        match self {
            Self::Frozen { at } => Self::Running {
                offset: at.duration_since(source_now),
            },
            running => running,
        }
    }
}

/// A clock that tests and the `/_mock/clock` routes can steer.
///
/// The state sits behind a `parking_lot::Mutex` held only for the few
/// instructions of a read or a transition, never across an `.await`.
pub struct VirtualClock {
    source: Box<dyn Clock>,
    state: Mutex<ClockState>,
}

impl std::fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualClock")
            .field("state", &*self.state.lock())
            .finish()
    }
}

impl VirtualClock {
    /// A clock over `source`, starting in `state`.
    pub fn new(source: impl Clock, state: ClockState) -> Self {
        Self {
            source: Box::new(source),
            state: Mutex::new(state),
        }
    }

    /// A clock that shows system time until someone moves it.
    pub fn system() -> Self {
        Self::new(SystemClock, ClockState::SYSTEM)
    }

    /// A clock over system time, frozen at `at`: the starting point of every
    /// deterministic test.
    pub fn frozen_at(at: Timestamp) -> Self {
        Self::new(
            SystemClock,
            ClockState::Frozen {
                at: truncate_to_millis(at),
            },
        )
    }

    /// The current state.
    pub fn state(&self) -> ClockState {
        *self.state.lock()
    }

    /// Applies `change` to the state atomically. `change` receives the state
    /// and the source's reading and may do a short synchronous side effect,
    /// such as persisting the new state, before it is installed; an error
    /// leaves the clock as it was.
    pub fn update<E>(
        &self,
        change: impl FnOnce(ClockState, Timestamp) -> Result<ClockState, E>,
    ) -> Result<ClockState, E> {
        let mut state = self.state.lock();
        let next = change(*state, self.source.now())?;
        *state = next;
        Ok(next)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        let state = *self.state.lock();
        state.now(self.source.now())
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use proptest::prelude::*;

    use super::rfc3339_millis;

    /// Milliseconds from 0000-01-01 to the end of 9999, the years printed
    /// directly.
    const ORDINARY_YEARS: std::ops::Range<i64> = -62_167_219_200_000..253_402_300_800_000;

    proptest! {
        /// The direct printer spells every instant as jiff does, including
        /// the years outside 0 to 9999 that it hands to jiff.
        #[test]
        fn prints_as_jiff_does(
            millis in Timestamp::MIN.as_millisecond()..=Timestamp::MAX.as_millisecond()
        ) {
            let instant = Timestamp::from_millisecond(millis).unwrap();
            prop_assert_eq!(rfc3339_millis(instant), format!("{instant:.3}"));
        }

        /// The same, drawn only from the years printed directly, which the
        /// whole range above seldom reaches.
        #[test]
        fn prints_ordinary_years_as_jiff_does(millis in ORDINARY_YEARS) {
            let instant = Timestamp::from_millisecond(millis).unwrap();
            prop_assert_eq!(rfc3339_millis(instant), format!("{instant:.3}"));
        }
    }

    #[test]
    fn prints_gitlab_spelling() {
        let instant: Timestamp = "2026-12-03T10:00:00.5Z".parse().unwrap();
        assert_eq!(rfc3339_millis(instant), "2026-12-03T10:00:00.500Z");
    }
}
