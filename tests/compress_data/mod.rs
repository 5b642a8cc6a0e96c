//! A small deterministic generator of varied chat messages and RPC requests, for the
//! compression tests and bench: training sets and held-out sets come from different seeds.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "the tests and the bench each use a subset"
)]

use zerocodec_datasets::{ChatMessage, RpcMethod, RpcRequest};

/// splitmix64: tiny, deterministic, good enough to vary test data.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const WORDS: &[&str] = &[
    "hello",
    "team",
    "the",
    "deploy",
    "is",
    "done",
    "can",
    "you",
    "review",
    "my",
    "pull",
    "request",
    "please",
    "meeting",
    "moved",
    "to",
    "tomorrow",
    "at",
    "lunch",
    "anyone",
    "seen",
    "this",
    "error",
    "before",
    "looks",
    "like",
    "a",
    "timeout",
    "in",
    "staging",
    "thanks",
    "great",
    "work",
    "on",
    "release",
    "notes",
    "I'll",
    "check",
    "after",
    "standup",
    "coffee",
    "build",
    "failed",
    "again",
    "retrying",
    "now",
    "merged",
    "ship",
    "it",
    "ok",
    "sounds",
    "good",
    "where",
    "are",
    "we",
    "with",
    "migration",
    "database",
    "backup",
    "restored",
    "🎉",
    "👍",
    "ETA?",
    "LGTM",
    "fixed",
    "flaky",
    "test",
    "rolling",
    "back",
];
const ROOMS: &[&str] = &[
    "room-general",
    "room-random",
    "team-backend",
    "team-frontend",
    "ops-oncall",
    "proj-zerocodec",
    "proj-billing",
    "announcements",
    "help-desk",
    "design-review",
    "dm-4417-9012",
    "incident-2025-11-03",
];
const METHODS: &[(&str, RpcMethod)] = &[
    ("rooms.post", RpcMethod::Mutation),
    ("rooms.history", RpcMethod::Query),
    ("rooms.join", RpcMethod::Mutation),
    ("rooms.leave", RpcMethod::Mutation),
    ("rooms.watch", RpcMethod::Subscription),
    ("users.get", RpcMethod::Query),
    ("users.search", RpcMethod::Query),
    ("users.update_profile", RpcMethod::Mutation),
    ("presence.subscribe", RpcMethod::Subscription),
    ("files.upload_url", RpcMethod::Mutation),
    ("files.list", RpcMethod::Query),
    ("auth.refresh", RpcMethod::Mutation),
    ("notifications.stream", RpcMethod::Subscription),
    ("search.messages", RpcMethod::Query),
];

fn sentence(g: &mut Gen) -> String {
    let words = 3 + g.below(22) as usize;
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        if g.chance(6) {
            s.push_str(&g.below(10_000).to_string());
        } else {
            s.push_str(g.pick::<&str>(WORDS));
        }
    }
    if g.chance(50) {
        s.push(*g.pick(&['.', '!', '?']));
    }
    s
}

/// `n` chat messages from `seed`.
pub fn chat_messages(seed: u64, n: usize) -> Vec<ChatMessage> {
    let mut g = Gen::new(seed);
    let mut ts = 1_763_700_000_000 + g.below(1 << 30);
    (0..n)
        .map(|_| {
            ts += g.below(90_000);
            ChatMessage {
                id: format!("msg-{:010}", g.below(10_000_000_000)),
                content: sentence(&mut g),
                timestamp: ts,
                sender: format!("user-{}", g.below(800)),
                room_id: g.pick(ROOMS).to_string(),
            }
        })
        .collect()
}

fn params(g: &mut Gen, method: &str) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut m = Map::new();
    let (family, _) = method.split_once('.').unwrap_or((method, ""));
    match family {
        "rooms" | "search" => {
            m.insert("room".into(), json!(g.pick(ROOMS)));
            if g.chance(70) {
                m.insert("limit".into(), json!(*g.pick(&[10, 20, 50, 100])));
            }
            if g.chance(40) {
                m.insert("cursor".into(), json!(format!("{:016x}", g.next_u64())));
            }
            if g.chance(30) {
                m.insert("text".into(), json!(sentence(g)));
            }
        }
        "users" | "presence" => {
            m.insert("user_id".into(), json!(format!("user-{}", g.below(800))));
            if g.chance(50) {
                m.insert(
                    "fields".into(),
                    json!(["name", "avatar", "status", "timezone"][..1 + g.below(4) as usize]),
                );
            }
        }
        "files" => {
            m.insert(
                "name".into(),
                json!(format!(
                    "{}-{}.{}",
                    g.pick(WORDS),
                    g.below(1000),
                    g.pick(&["png", "pdf", "txt"])
                )),
            );
            m.insert("size".into(), json!(g.below(50_000_000)));
        }
        _ => {
            m.insert(
                "token".into(),
                json!(format!(
                    "{:032x}",
                    u128::from(g.next_u64()) << 64 | u128::from(g.next_u64())
                )),
            );
        }
    }
    if g.chance(25) {
        m.insert(
            "trace".into(),
            json!({"span": format!("{:08x}", g.below(1 << 32)), "sampled": g.chance(10)}),
        );
    }
    Value::Object(m)
}

/// `n` RPC requests from `seed`.
pub fn rpc_requests(seed: u64, n: usize) -> Vec<RpcRequest> {
    let mut g = Gen::new(seed);
    (0..n)
        .map(|_| {
            let (method, kind) = *g.pick(METHODS);
            RpcRequest {
                id: format!("req-{:x}", g.next_u64() >> 16),
                method: method.to_string(),
                params: params(&mut g, method),
                method_type: kind,
            }
        })
        .collect()
}

/// Training and held-out seeds: never the same data.
pub const TRAIN_SEED: u64 = 0x7EA1_0001;
pub const HELD_OUT_SEED: u64 = 0x0BE1_D007;
