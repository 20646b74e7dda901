-- POST the body in $BENCH_BODY to the URL given to wrk.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/vnd.schemaregistry.v1+json"
