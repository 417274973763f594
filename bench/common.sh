# Sourced by the HTTP benchmark scripts: a scratch folder cleaned up on exit, free ports, and
# the nginx anchor (one worker, keep-alive, a fixed 100-byte JSON body). Before sourcing, set
# `bench_name`; afterwards `$work` is the scratch folder and `pids` the processes to stop.
work=$(mktemp -d "/tmp/souk-$bench_name.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_nginx PORT: nginx on 127.0.0.1:PORT answering every request with the same 100 bytes.
start_nginx() {
  local port="$1" body
  body=$(printf '{"id":1,"title":"Krossovki begovye","price":{"amount":499900,"currency":"RUB"},"in_stock":true,"x":"%s"}' "")
  body=${body:0:99}"}"
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $work/nginx/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$port;
    location / { default_type application/json; return 200 '$body'; }
  }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=($!)
}

# wait_ready PORT LOG [PID]: waits (at most 5 minutes) for soukd's /readyz; prints LOG and fails
# if it does not come, or at once when process PID (soukd) has exited.
wait_ready() {
  for _ in $(seq 1 600); do
    curl -sf "127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    if [[ -n "${3:-}" ]] && ! kill -0 "$3" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
  echo "soukd did not become ready" >&2
  cat "$2" >&2
  return 1
}
