/// Why a model call failed. The message names the URL and what went wrong (refused,
/// timeout, HTTP status with the server's own message), as a researcher needs to fix it.
public struct ModelError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Nothing listens at the address.
        case refused
        /// No answer within the timeout.
        case timeout
        /// The connection broke before the answer was complete.
        case dropped
        /// The server answered with an HTTP error status.
        case status(Int)
        /// The answer was not what OpenAI's API returns.
        case badAnswer
        /// A replay or cassette that must not go live has no answer for the request.
        case notRecorded
        /// Ctrl-C stopped the wait.
        case interrupted
        /// Anything else from the network stack.
        case transport
    }

    public var kind: Kind
    public var url: String
    public var message: String

    public init(_ kind: Kind, url: String, _ message: String) {
        self.kind = kind
        self.url = url
        self.message = message
    }

    public var description: String { url.isEmpty ? message : "\(url): \(message)" }

    /// Worth asking again after a pause: 408, 409, 429 and 5xx answers and a dropped
    /// connection (as OpenAI's own SDK retries). A refused connection and a timeout are not:
    /// at a prompt a fast "is the server running?" beats minutes of waiting.
    public var isRetryable: Bool {
        switch kind {
        case .status(let s): return s == 408 || s == 409 || s == 429 || s >= 500
        case .dropped: return true
        default: return false
        }
    }

    /// The server's own words from an error body: OpenAI's `{"error": {"message": ...}}`,
    /// FastAPI's `{"detail": ...}`, or the start of the text.
    static func serverMessage(_ body: String) -> String {
        if let v = JSONValue.parse(body) {
            if let e = v["error"] {
                if let m = e["message"]?.stringValue { return m }
                if let s = e.stringValue { return s }
            }
            if let d = v["detail"] {
                if let s = d.stringValue { return s }
                if let a = d.arrayValue {
                    return a.map { item -> String in
                        let loc = item["loc"]?.arrayValue?.map { $0.stringValue ?? $0.intValue.map(String.init) ?? "?" }
                        let msg = item["msg"]?.stringValue ?? item.text
                        return loc.map { $0.joined(separator: ".") + ": " + msg } ?? msg
                    }.joined(separator: "; ")
                }
            }
            if let m = v["message"]?.stringValue { return m }
        }
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return "(empty body)" }
        return trimmed.count > 300 ? String(trimmed.prefix(300)) + "..." : trimmed
    }
}

import Foundation
