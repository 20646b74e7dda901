use herald_celery::TaskError;

#[herald::task(
    name = "tasks.add",
    max_retries = -1,
    rate_limit = "10/d",
    time_limit = "1s",
    soft_time_limit = "2s",
    acks_late = "yes",
    autoretry_for = ["not a type"]
)]
async fn add(x: i64, y: i64) -> Result<i64, TaskError> {
    Ok(x + y)
}

fn main() {
    let _ = Add::task();
}
