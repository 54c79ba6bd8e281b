#!/usr/bin/env python3
"""A small OpenAI-compatible stub for the edge cases a real server will not produce on
demand: 429 then success, a dropped connection, a slow answer, a 500 with a message, one
choice whatever n is. Standard library only; binds 127.0.0.1 on a free port and prints
`port N` on its first line. The prompt (or the last chat message) chooses the behaviour:

  "429:K:tag"   the first K requests with this prompt get 429 (Retry-After: 0), then 200
  "drop:K:tag"  the first K requests are answered by closing the connection
  "slow:S"      answer after S seconds
  "500"         always HTTP 500 with {"error": {"message": "boom from the stub"}}
  anything else 200 with one choice: "echo:<prompt>|seed=<seed>|n=<n>"

GET /stats returns {"max_in_flight": ..., "requests": ...}; POST /stats/reset clears them.
"""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"in_flight": 0, "max_in_flight": 0, "requests": 0, "seen": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.endswith("/stats"):
            with lock:
                self.send_json(200, {"max_in_flight": state["max_in_flight"], "requests": state["requests"]})
        elif self.path.endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "no such path " + self.path}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.endswith("/stats/reset"):
            with lock:
                state.update(in_flight=0, max_in_flight=0, requests=0, seen={})
            return self.send_json(200, {})
        try:
            req = json.loads(raw)
        except ValueError:
            return self.send_json(400, {"error": {"message": "body is not JSON"}})
        with lock:
            state["requests"] += 1
            state["in_flight"] += 1
            state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
        try:
            self.answer(req)
        finally:
            with lock:
                state["in_flight"] -= 1

    def answer(self, req):
        if self.path.endswith("/embeddings"):
            texts = req["input"] if isinstance(req["input"], list) else [req["input"]]
            data = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, float(i)]}
                    for i, t in enumerate(texts)]
            return self.send_json(200, {"object": "list", "data": data, "model": req.get("model", "")})
        chat = self.path.endswith("/chat/completions")
        prompt = req["messages"][-1]["content"] if chat else req.get("prompt", "")
        parts = prompt.split(":")
        with lock:
            seen = state["seen"].get(prompt, 0)
            state["seen"][prompt] = seen + 1
        if parts[0] == "429" and seen < int(parts[1]):
            return self.send_json(429, {"error": {"message": "rate limited by the stub"}}, [("Retry-After", "0")])
        if parts[0] == "drop" and seen < int(parts[1]):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if parts[0] == "slow":
            time.sleep(float(parts[1]))
        if prompt == "500":
            return self.send_json(500, {"error": {"message": "boom from the stub"}})
        text = "echo:%s|seed=%s|n=%s" % (prompt, req.get("seed"), req.get("n"))
        choice = {"index": 0, "finish_reason": "stop"}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
            if req.get("logprobs") is not None:
                choice["logprobs"] = {"tokens": ["echo", ":"], "token_logprobs": [-0.5, -1.5],
                                      "top_logprobs": [{"echo": -0.5, "x": -2.0}, {":": -1.5, ";": -0.7}]}
        self.send_json(200, {"id": "stub", "object": "text_completion", "model": req.get("model", ""),
                             "choices": [choice],
                             "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("port", server.server_address[1], flush=True)
    # stop when the test that started us goes away (its pipe to our stdin closes)
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
