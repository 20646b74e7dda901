//! Helpers for tests that run a worker as a separate process: finding the fixture binary,
//! killing it for sure, and the SIGKILL-in-the-middle-of-a-stream scenario every transport's
//! crash test plays.

use std::future::Future;
use std::process::Child;
use std::time::Duration;

/// The path of example `name` of the package under test, from a test binary
/// (`target/<profile>/deps/<test>` -> `target/<profile>/examples/<name>`); `cargo test`
/// builds a package's examples.
///
/// # Panics
/// If it is not built, saying how to build it.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let bin = profile_dir.join("examples").join(name);
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --examples` (a plain `cargo test` builds it)",
        bin.display()
    );
    bin
}

/// A child process killed (SIGKILL) and reaped when dropped, so a failing test leaves no
/// worker behind.
#[derive(Debug)]
pub struct Reaper(pub Option<std::process::Child>);

impl Reaper {
    pub fn new(child: std::process::Child) -> Self {
        Reaper(Some(child))
    }

    pub fn child(&mut self) -> &mut std::process::Child {
        self.0.as_mut().expect("the child was taken")
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Reaper {
    /// Sends SIGTERM (a graceful stop) and waits for the process, with its output.
    pub fn terminate(mut self) -> std::process::Output {
        let child = self.0.take().expect("the child was taken");
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait_with_output().expect("wait for the worker")
    }
}

/// Completes on SIGTERM or Ctrl-C: a worker process's shutdown signal.
pub async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// How long the scenario waits for progress before it calls the worker stuck.
const STUCK_AFTER: Duration = Duration::from_secs(120);

/// Waits until `progress` reaches `target`, while `worker` runs; panics if it exits or gets
/// stuck.
async fn wait_for<P, F>(worker: &mut Reaper, progress: &mut P, target: u64, what: &str) -> u64
where
    P: FnMut() -> F,
    F: Future<Output = u64>,
{
    let deadline = tokio::time::Instant::now() + STUCK_AFTER;
    loop {
        let now = progress().await;
        if now >= target {
            return now;
        }
        if let Ok(Some(status)) = worker.child().try_wait() {
            panic!("{what}: the worker exited early ({status}) at {now} of {target}");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: stuck at {now} of {target} for {STUCK_AFTER:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The crash scenario: starts a worker with `spawn`, SIGKILLs it once `progress` (events with
/// an effect) reaches `kill_at`, checks the kill landed mid-stream, waits `pause` (a broker
/// may need the dead consumer's session to expire), starts a second worker and waits until
/// `progress` reaches `total`. Returns the progress seen right after the kill and the
/// second worker, still running (stop it with [`Reaper::terminate`] to check its counters).
pub async fn kill_mid_stream_and_restart<S, P, F>(
    mut spawn: S,
    mut progress: P,
    kill_at: u64,
    total: u64,
    pause: Duration,
) -> (u64, Reaper)
where
    S: FnMut() -> Child,
    P: FnMut() -> F,
    F: Future<Output = u64>,
{
    let mut first = Reaper::new(spawn());
    wait_for(&mut first, &mut progress, kill_at, "first worker").await;
    first.child().kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    let status = first.child().wait().expect("wait");
    assert!(!status.success(), "killed, not exited: {status}");
    let at_kill = progress().await;
    assert!(
        at_kill >= kill_at && at_kill < total,
        "the kill must land mid-stream: {at_kill} of {total} had effects"
    );
    eprintln!("killed the first worker at {at_kill} of {total}");
    tokio::time::sleep(pause).await;
    let mut second = Reaper::new(spawn());
    wait_for(&mut second, &mut progress, total, "second worker").await;
    (at_kill, second)
}
