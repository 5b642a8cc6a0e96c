//! Seeded generators for the seed types: [`ChatMessage`] and [`RpcRequest`] values.
//!
//! The `chat` and `rpc` datasets are one message each (the per-message cost case). The
//! corpora ([`chat_messages`], [`rpc_requests`]) give many distinct messages from a seed, for
//! training a compression dictionary on one set and measuring it on another.

use serde_json::{Value, json};

use crate::rng::Rng;
use crate::seed::{ChatMessage, RpcMethod, RpcRequest};

const ROOMS: [&str; 8] = [
    "general",
    "random",
    "engineering",
    "design-review",
    "incident-2291",
    "support",
    "release-train",
    "watercooler",
];

const WORDS: [&str; 48] = [
    "the",
    "build",
    "is",
    "green",
    "again",
    "after",
    "we",
    "reverted",
    "flaky",
    "test",
    "in",
    "staging",
    "can",
    "someone",
    "review",
    "my",
    "pull",
    "request",
    "for",
    "cache",
    "eviction",
    "deploy",
    "looks",
    "good",
    "on",
    "canary",
    "latency",
    "dropped",
    "by",
    "half",
    "thanks",
    "let's",
    "ship",
    "it",
    "tomorrow",
    "morning",
    "please",
    "check",
    "dashboard",
    "alerts",
    "are",
    "quiet",
    "now",
    "lunch",
    "anyone",
    "meeting",
    "moved",
    "to",
];

const USERS: [&str; 12] = [
    "ada", "grace", "linus", "barbara", "ken", "dennis", "margaret", "edsger", "donald", "frances",
    "john", "radia",
];

/// Milliseconds since the Unix epoch around which timestamps are drawn (late 2025).
const EPOCH_MS: u64 = 1_763_700_000_000;

/// One chat message drawn from `rng`.
pub fn chat_message(rng: &mut Rng) -> ChatMessage {
    let words = rng.count(8, 24);
    let mut content = String::with_capacity(words * 7);
    for i in 0..words {
        if i > 0 {
            content.push(' ');
        }
        let word = rng.pick(&WORDS);
        content.push_str(word);
    }
    ChatMessage {
        id: format!(
            "msg-{:08x}-{:04x}-{:012x}",
            rng.next_u32(),
            rng.next_u32() & 0xFFFF,
            rng.next_u64() & 0xFFFF_FFFF_FFFF
        ),
        content,
        timestamp: EPOCH_MS + rng.below(86_400_000),
        sender: format!("{}-{}", rng.pick(&USERS), rng.below(1000)),
        room_id: (*rng.pick(&ROOMS)).to_owned(),
    }
}

const METHODS: [&str; 10] = [
    "users.get",
    "users.search",
    "orders.list",
    "orders.create",
    "orders.cancel",
    "inventory.reserve",
    "payments.capture",
    "feed.subscribe",
    "search.query",
    "audit.stream",
];

const STATUSES: [&str; 4] = ["active", "pending", "suspended", "archived"];
const FIELDS: [&str; 8] = [
    "name",
    "email",
    "created_at",
    "plan",
    "region",
    "owner",
    "tags",
    "balance",
];

/// One RPC request drawn from `rng`, with a JSON object of parameters a few levels deep.
pub fn rpc_request(rng: &mut Rng) -> RpcRequest {
    let method = *rng.pick(&METHODS);
    let method_type = if method.ends_with("subscribe") || method.ends_with("stream") {
        RpcMethod::Subscription
    } else if method.ends_with("create")
        || method.ends_with("cancel")
        || method.ends_with("reserve")
        || method.ends_with("capture")
    {
        RpcMethod::Mutation
    } else {
        RpcMethod::Query
    };
    let fields: Vec<Value> = (0..rng.count(1, 5))
        .map(|_| Value::from(*rng.pick(&FIELDS)))
        .collect();
    let limit = *rng.pick(&[10, 25, 50, 100]);
    let mut params = json!({
        "account_id": rng.below(10_000_000),
        "fields": fields,
        "limit": limit,
        "filter": {
            "status": *rng.pick(&STATUSES),
            "since": EPOCH_MS - rng.below(30 * 86_400_000),
            "min_total": (rng.below(100_000) as f64) / 100.0,
        },
        "include_deleted": rng.chance(0.1),
    });
    if rng.chance(0.5) {
        params["cursor"] = Value::from(format!("c_{:016x}", rng.next_u64()));
    }
    RpcRequest {
        id: format!("req-{:016x}", rng.next_u64()),
        method: method.to_owned(),
        params,
        method_type,
    }
}

/// `n` distinct chat messages from `seed`.
pub fn chat_messages(seed: u64, n: usize) -> Vec<ChatMessage> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| chat_message(&mut rng)).collect()
}

/// `n` distinct RPC requests from `seed`.
pub fn rpc_requests(seed: u64, n: usize) -> Vec<RpcRequest> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rpc_request(&mut rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_messages_are_deterministic_and_about_json_record_size() {
        let a = chat_messages(1, 50);
        assert_eq!(a, chat_messages(1, 50));
        assert_ne!(a, chat_messages(2, 50));
        let total: usize = a.iter().map(|m| serde_json::to_vec(m).unwrap().len()).sum();
        let mean = total / a.len();
        assert!((120..400).contains(&mean), "mean chat json size {mean}");
    }

    #[test]
    fn rpc_method_type_follows_the_method_name() {
        for r in rpc_requests(3, 200) {
            let expected = match r.method.rsplit('.').next().unwrap() {
                "subscribe" | "stream" => RpcMethod::Subscription,
                "create" | "cancel" | "reserve" | "capture" => RpcMethod::Mutation,
                _ => RpcMethod::Query,
            };
            assert_eq!(r.method_type, expected, "{}", r.method);
            assert!(r.params["filter"]["status"].is_string());
        }
    }
}
