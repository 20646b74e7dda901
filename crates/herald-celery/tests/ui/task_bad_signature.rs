use herald_celery::TaskError;

#[herald::task(name = "tasks.a")]
fn not_async(x: i64) -> Result<i64, TaskError> {
    Ok(x)
}

#[herald::task(name = "tasks.b")]
async fn no_result(x: i64) -> i64 {
    x
}

#[herald::task(name = "tasks.c")]
async fn borrowed((a, b): (i64, i64), s: &str) -> Result<i64, TaskError> {
    Ok(a + b + s.len() as i64)
}

#[herald::task]
async fn unnamed() -> Result<(), TaskError> {
    Ok(())
}

fn main() {
    let _ = (NotAsync::task(), NoResult::task(), Borrowed::task(), Unnamed::task());
}
