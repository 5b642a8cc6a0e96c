//! The `log` dataset: web-server access log entries (modeled on the public
//! rust_serialization_benchmark's `log` dataset): short strings and small integers.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Entries in the benchmark's `log` dataset.
pub const LOG_ENTRIES: usize = 10_000;

/// An IPv4 address.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct Address {
    /// First octet.
    pub x0: u8,
    /// Second octet.
    pub x1: u8,
    /// Third octet.
    pub x2: u8,
    /// Fourth octet.
    pub x3: u8,
}

/// One access log entry, as a web server's common log format has it.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct Log {
    /// Client address.
    pub address: Address,
    /// RFC 1413 identity (always `-`).
    pub identity: String,
    /// Authenticated user, or `-`.
    pub userid: String,
    /// Request time, `dd/Mon/yyyy:hh:mm:ss +zzzz`.
    pub date: String,
    /// Request line: method, path, protocol.
    pub request: String,
    /// HTTP status code.
    pub code: u16,
    /// Response size in bytes.
    pub size: u64,
}

/// A batch of log entries: the `log` dataset's value.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
    bitcode::Encode,
    bitcode::Decode,
    zerocodec::Message,
)]
pub struct Logs {
    /// The entries.
    pub logs: Vec<Log>,
}

const USERIDS: [&str; 9] = [
    "-", "alice", "bob", "carmen", "david", "eric", "frank", "george", "harry",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const CODES: [u16; 24] = [
    100, 101, 200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 409, 429,
    500, 501, 502, 503, 504,
];
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const ROUTES: [&str; 7] = [
    "/favicon.ico",
    "/css/index.css",
    "/css/font-awesome.min.css",
    "/img/logo-full.svg",
    "/img/splash.jpg",
    "/api/login",
    "/api/logout",
];
const PROTOCOLS: [&str; 4] = ["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/3"];

impl Log {
    /// One entry drawn from `rng`.
    pub fn generate(rng: &mut Rng) -> Self {
        let zone = rng.range(-12, 13);
        let date = format!(
            "{:02}/{}/{}:{:02}:{:02}:{:02} {}{:02}00",
            rng.range(1, 29),
            rng.pick(&MONTHS),
            rng.range(1970, 2026),
            rng.range(0, 24),
            rng.range(0, 60),
            rng.range(0, 60),
            if zone < 0 { '-' } else { '+' },
            zone.abs(),
        );
        let request = format!(
            "{} {} {}",
            rng.pick(&METHODS),
            rng.pick(&ROUTES),
            rng.pick(&PROTOCOLS)
        );
        let next_u8 = |rng: &mut Rng| rng.below(256) as u8;
        Self {
            address: Address {
                x0: next_u8(rng),
                x1: next_u8(rng),
                x2: next_u8(rng),
                x3: next_u8(rng),
            },
            identity: "-".to_owned(),
            userid: (*rng.pick(&USERIDS)).to_owned(),
            date,
            request,
            code: *rng.pick(&CODES),
            size: rng.below(100_000_000),
        }
    }
}

impl Logs {
    /// `n` entries drawn from `rng`.
    pub fn generate(rng: &mut Rng, n: usize) -> Self {
        Self {
            logs: (0..n).map(|_| Log::generate(rng)).collect(),
        }
    }
}
