use herald_celery::TaskError;

#[herald::task(name = "tasks.add", bind = true, serializer = "pickle", queue = "q", colour = 1)]
async fn add(x: i64, y: i64) -> Result<i64, TaskError> {
    Ok(x + y)
}

fn main() {
    let _ = Add::task();
}
