//! The README's transport programs, run as a user runs them: each publishes an order,
//! consumes it, prints that it was charged, and stops on Ctrl-C (SIGINT). Against the real
//! RabbitMQ (127.0.0.1:5672) and tansu (127.0.0.1:9092); `HERALD_AMQP_URL` and
//! `HERALD_KAFKA_BROKERS` override, as in the programs.
//!
//! The programs use the README's names (`shop`, `shop.billing`, `shop.orders`), which no other
//! test uses. An order left in them by an interrupted run is simply charged by the next run:
//! the test waits for the order its own run published.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use herald::testing::Reaper;

/// Generous: a hang, not slowness, is what it detects (joining a consumer group on tansu
/// takes seconds).
const DEADLINE: Duration = Duration::from_secs(120);

fn run_until_charged(program: &str, service: &str) {
    let child = Command::new(program)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the program");
    let mut child = Reaper::new(child);
    let stdout = child.child().stdout.take().expect("stdout");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("  | {line}");
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut next_line = || {
        let left = DEADLINE.saturating_sub(started.elapsed());
        match received.recv_timeout(left) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.child().wait().expect("wait");
                panic!(
                    "{program} ended ({status}) before charging its order: its error is above (is {service} running? `scripts/services`)"
                )
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "{program} printed nothing more within {DEADLINE:?}: is {service} running (`scripts/services`)?"
            ),
        }
    };

    let published = next_line();
    let event_id = published
        .strip_suffix(" published")
        .unwrap_or_else(|| panic!("expected `<event id> published`, got `{published}`"))
        .to_owned();
    loop {
        let line = next_line();
        if line.starts_with(&format!("{event_id} charged: order o-1, 4200 cents")) {
            break;
        }
    }

    let pid = child.child().id().to_string();
    let interrupted = Command::new("kill").args(["-INT", &pid]).status();
    assert!(interrupted.is_ok_and(|s| s.success()), "kill -INT {pid}");
    loop {
        if let Some(status) = child.child().try_wait().expect("wait") {
            assert!(
                status.success(),
                "{program} ended with {status} after Ctrl-C"
            );
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{program} did not stop within {DEADLINE:?} of Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_rabbitmq_program_publishes_handles_and_stops_on_ctrl_c() {
    run_until_charged(env!("CARGO_BIN_EXE_rabbitmq"), "RabbitMQ");
}

#[test]
fn the_kafka_program_publishes_handles_and_stops_on_ctrl_c() {
    run_until_charged(env!("CARGO_BIN_EXE_kafka"), "the Kafka broker");
}
