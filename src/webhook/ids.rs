//! The UUIDs GitLab puts on every webhook request: one per event
//! (`X-Gitlab-Event-UUID`, `Idempotency-Key`) and one per hook
//! (`X-Gitlab-Webhook-UUID`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use crate::model::Hook;

/// A version 4 UUID. Each `RandomState` is seeded afresh, so two in a row
/// give unrelated halves.
pub(super) fn random_uuid() -> String {
    let half = || RandomState::new().build_hasher().finish();
    uuid_text(half(), half())
}

/// GitLab's `X-Gitlab-Webhook-UUID`: the same for every event of one hook,
/// derived from its id and creation so it survives a restart.
pub(super) fn webhook_uuid(hook: &Hook) -> String {
    let seeded = |salt: u64| {
        let mut hasher = std::hash::DefaultHasher::new();
        hasher.write_u64(salt);
        hasher.write_i64(hook.id);
        hasher.write_i64(hook.created_at.as_millisecond());
        hasher.finish()
    };
    uuid_text(seeded(1), seeded(2))
}

fn uuid_text(high: u64, low: u64) -> String {
    let high = (high & !0xf000) | 0x4000;
    let low = (low & !(0b11 << 62)) | (0b10 << 62);
    let hex = format!("{high:016x}{low:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
