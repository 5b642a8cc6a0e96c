//! A local `nats-server -js` for the example, the tests and the benchmark: on 127.0.0.1, an
//! ephemeral port and a store directory of the caller's, killed when dropped.

#![allow(
    dead_code,
    reason = "the example, the tests and the benchmark use different parts"
)]

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How to install the server, for the error that says it is missing.
pub(crate) const INSTALL: &str = "install it with `apt-get install -y nats-server` (Debian, Ubuntu; \
                           it goes to /usr/sbin), or download it from \
                           https://github.com/nats-io/nats-server/releases, or set \
                           NATS_SERVER to its path";

/// How long a start may take before it is a failure.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// The directories searched after `PATH`: where Debian's package and hand installs put the
/// server (a shell's `PATH` often lacks /usr/sbin).
pub(crate) const FALLBACK_DIRS: [&str; 4] =
    ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/sbin"];

/// Where `nats-server` is: `$NATS_SERVER`, then `PATH`, then [`FALLBACK_DIRS`].
pub(crate) fn find() -> Result<PathBuf, String> {
    find_in(
        std::env::var_os("NATS_SERVER"),
        std::env::var_os("PATH"),
        &FALLBACK_DIRS,
    )
}

/// [`find`] with the values of `NATS_SERVER` and `PATH`, and the fallback directories, given.
pub(crate) fn find_in(
    explicit: Option<OsString>,
    path: Option<OsString>,
    fallbacks: &[&str],
) -> Result<PathBuf, String> {
    if let Some(explicit) = explicit {
        let explicit = PathBuf::from(explicit);
        return if explicit.is_file() {
            Ok(explicit)
        } else {
            Err(format!(
                "NATS_SERVER is set to {}, which is not a file: {INSTALL}",
                explicit.display()
            ))
        };
    }
    let dirs = path
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain(fallbacks.iter().map(PathBuf::from))
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "nats-server was not found on PATH nor in {}: {INSTALL}",
                fallbacks.join(", ")
            )
        })
}

/// A running `nats-server -js`, killed (and waited for) when dropped.
pub(crate) struct NatsServer {
    binary: PathBuf,
    store: PathBuf,
    port: u16,
    child: Option<Child>,
    starts: u32,
}

impl NatsServer {
    /// Starts a server with JetStream, storing under `store`, on 127.0.0.1 at a free port.
    pub(crate) fn start(store: &Path) -> io::Result<Self> {
        let binary = find().map_err(|msg| io::Error::new(io::ErrorKind::NotFound, msg))?;
        let mut last = None;
        // The port is free when chosen; another process may take it before the server binds
        // it, so a failed start is tried again on another port.
        for _ in 0..3 {
            let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
                .local_addr()?
                .port();
            let mut server = Self {
                binary: binary.clone(),
                store: store.to_path_buf(),
                port,
                child: None,
                starts: 0,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(err) => last = Some(err),
            }
        }
        Err(last.expect("three attempts were made"))
    }

    /// The URL clients connect to.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash or a power cut would, and waits for it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store (after [`kill`](Self::kill)).
    pub(crate) fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.spawn()
    }

    fn spawn(&mut self) -> io::Result<()> {
        self.starts += 1;
        let log = self
            .store
            .join(format!("nats-server-{}-{}.log", self.port, self.starts));
        let child = Command::new(&self.binary)
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(&self.store)
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let started = Instant::now();
        loop {
            let text = fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Server is ready") {
                return Ok(());
            }
            let exited = match self.child.as_mut().map(Child::try_wait) {
                Some(Ok(Some(status))) => Some(status.to_string()),
                Some(Err(err)) => Some(err.to_string()),
                _ => None,
            };
            if exited.is_some() || started.elapsed() > READY_WITHIN {
                self.kill();
                return Err(io::Error::other(format!(
                    "nats-server on port {} {}; its log:\n{text}",
                    self.port,
                    match exited {
                        Some(status) => format!("exited ({status})"),
                        None => format!("was not ready within {READY_WITHIN:?}"),
                    }
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl fmt::Debug for NatsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsServer")
            .field("url", &self.url())
            .field("store", &self.store)
            .field("running", &self.child.is_some())
            .finish()
    }
}
