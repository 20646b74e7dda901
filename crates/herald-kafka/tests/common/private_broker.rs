//! A tansu broker of the test's own, on a free loopback port, for tests that stop, pause or
//! kill the broker (the shared one on 9092 serves every other test).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use herald_core::testing::Reaper;

pub struct PrivateBroker {
    process: Reaper,
    pub address: String,
}

/// The tansu binary: `HERALD_TANSU`, else the one `scripts/services` installs with cargo.
fn tansu_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("HERALD_TANSU") {
        return path.into();
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo")
        });
    cargo_home.join("bin/tansu")
}

impl PrivateBroker {
    /// Starts a fresh broker (in-memory storage) and waits until it accepts connections.
    pub fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let url = format!("tcp://127.0.0.1:{port}");
        let binary = tansu_binary();
        let child = Command::new(&binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): install it with `scripts/services` or set HERALD_TANSU",
                    binary.display()
                )
            });
        let broker = PrivateBroker {
            process: Reaper::new(child),
            address: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&broker.address).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        broker
    }

    fn signal(&mut self, signal: &str) {
        let pid = self.process.child().id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Freezes the broker: connections stay open and nothing answers (a hung broker or a
    /// network partition), and its state survives.
    pub fn pause(&mut self) {
        self.signal("-STOP");
    }

    pub fn resume(&mut self) {
        self.signal("-CONT");
    }

    /// Kills the broker for good.
    pub fn kill(&mut self) {
        let child = self.process.child();
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");
    }
}
