//! Nodes run as child processes of the real `signpost-node` binary, for
//! tests that need a node apart from the test process: one killed in the
//! middle of its work (`crash.rs`), or one holding more connections than a
//! single process's open files allow for both ends of each
//! (`slow_clients.rs`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use signpost_node::config::{Config, CONFIG_FILE, DATABASE_FILE};
use tempfile::TempDir;

use crate::{binary, init_aggregator, Api};

/// How long a node may take to start serving (a debug build opening its
/// store and rebuilding its search index on a busy machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A child process that is killed when the test ends, however it ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `signpost-node serve` on a temporary data directory, in a child process
/// that is killed (SIGKILL) when this is dropped. Its HTTP API is its
/// [`Api`], reached through `Deref` as a [`crate::TestNode`]'s is. It keeps
/// its loopback address across [`NodeProcess::kill`] and
/// [`NodeProcess::serve`].
pub struct NodeProcess {
    pub dir: TempDir,
    pub hub_id: String,
    /// The address it serves on.
    pub addr: SocketAddr,
    pub api: Api,
    bin: PathBuf,
    child: Option<Killed>,
}

impl std::ops::Deref for NodeProcess {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl NodeProcess {
    /// Initialises an aggregator as [`crate::TestNode::start_aggregator`]
    /// does ([`init_aggregator`], `tweak` last), writes its settings to its
    /// config file and serves it from the binary on a free loopback port;
    /// returns once it accepts connections. The child inherits this
    /// process's limits (open files among them).
    pub async fn start_aggregator(name: &str, tweak: impl FnOnce(&mut Config)) -> NodeProcess {
        let bin = binary("signpost-node", "signpost-node");
        let (dir, outcome, config) = init_aggregator(name, 0, tweak);
        std::fs::write(dir.path().join(CONFIG_FILE), config.to_commented_toml())
            .expect("config written");
        let (child, addr) = spawn_serving(&bin, &dir, None).await;
        NodeProcess {
            api: Api::new(format!("http://{addr}"), outcome.admin_token),
            hub_id: outcome.hub_id,
            dir,
            addr,
            bin,
            child: Some(child),
        }
    }

    /// The node's SQLite store.
    pub fn database(&self) -> PathBuf {
        self.dir.path().join(DATABASE_FILE)
    }

    /// Kills the node at once (SIGKILL, as a crash or the OOM killer
    /// would) and waits for it to be gone; nothing if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.0.kill().expect("kill the node");
            child.0.wait().expect("wait for the node");
        }
    }

    /// Serves the directory again at the same address (after
    /// [`NodeProcess::kill`]); returns once it accepts connections.
    pub async fn serve(&mut self) {
        assert!(self.child.is_none(), "the node is already running");
        let (child, addr) = spawn_serving(&self.bin, &self.dir, Some(self.addr)).await;
        assert_eq!(addr, self.addr);
        self.child = Some(child);
    }

    /// Runs another command of the binary on the node's directory, as
    /// `signpost-node COMMAND --dir DIR` (`reindex`, say); the node should
    /// not be serving.
    pub fn run(&self, command: &str) -> Output {
        Command::new(&self.bin)
            .args([command, "--dir"])
            .arg(self.dir.path())
            .output()
            .expect("run signpost-node")
    }
}

/// Starts `signpost-node serve` on `dir` (at `addr` when given, else where
/// its config says) and waits for its "Serving on http://ADDR" line, which
/// it prints once it listens. Its other output goes on to this test's
/// output (shown when the test fails), line by line.
async fn spawn_serving(
    bin: &PathBuf,
    dir: &TempDir,
    addr: Option<SocketAddr>,
) -> (Killed, SocketAddr) {
    let mut command = Command::new(bin);
    command
        .args(["serve", "--dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(addr) = addr {
        command.env("SIGNPOST_LISTEN", addr.to_string());
    }
    // Warnings only, as [`crate::logs`] for nodes in the test process.
    if std::env::var_os("SIGNPOST_LOG").is_none() {
        command.env("SIGNPOST_LOG", "warn");
    }
    let mut child = Killed(command.spawn().expect("start signpost-node"));
    let stderr = child.0.stderr.take().expect("the node's stderr");
    let (serving, address) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut serving = Some(serving);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("Serving on http://") {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                if let (Some(tx), Ok(addr)) = (serving.take(), addr.parse::<SocketAddr>()) {
                    let _ = tx.send(addr);
                }
            }
            eprintln!("[signpost-node] {line}");
        }
    });
    match tokio::time::timeout(START_TIMEOUT, address).await {
        Ok(Ok(addr)) => (child, addr),
        Ok(Err(_)) => {
            let status = child.0.wait().expect("wait for the node");
            panic!("signpost-node exited before serving ({status}); its output is above");
        }
        Err(_) => panic!("signpost-node did not start serving within {START_TIMEOUT:?}"),
    }
}

/// Raises this process's soft limit on open files to its hard limit (a
/// child inherits it), so one test can hold thousands of connections; gives
/// the soft limit now in force.
pub fn raise_open_file_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    // `None` is no limit; the soft limit is never above the hard one.
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit).expect("raise the open-file limit");
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}
