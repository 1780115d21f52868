-- POST /echo with a 16 KiB body
wrk.method = "POST"
wrk.path = "/echo"
wrk.body = string.rep("a", 16384)
wrk.headers["Content-Type"] = "application/octet-stream"
