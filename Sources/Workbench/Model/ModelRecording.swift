import Foundation
import ModelClient
import Synchronization

/// The model calls of one prompt entry, recorded into the session or served back from it
/// in replay (as `ClockTap` does for clock readings).
public final class ModelTap: Sendable {
    /// The current entry: the exchanges it made, and the recording it answers from (replay).
    private struct Entry { var observed: [Exchange] = []; var tape: ExchangeTape? }
    private let entry = Mutex(Entry())

    /// Starts an entry: live (nil) or answering from the entry's recorded exchanges.
    public func begin(replaying recorded: [String]?) {
        let tape = recorded.map { ExchangeTape($0.compactMap { JSONValue.parse($0).flatMap(Exchange.init(json:)) }) }
        entry.withLock { $0 = Entry(observed: [], tape: tape) }
    }

    /// The exchanges of the current entry, as the session file keeps them (JSON objects).
    public var observed: [String] {
        entry.withLock { $0.observed }.map { $0.json.text }
    }

    func record(_ e: Exchange) {
        entry.withLock { $0.observed.append(e) }
    }

    func answer(_ key: String) -> Exchange? {
        entry.withLock { $0.tape }?.take(key)
    }
}

/// A cassette: a JSON Lines file of exchanges. Calls found in it are answered from it; the
/// others are made and their successful answers appended, so a script runs once against
/// the server and from then on without it.
final class Cassette: Sendable {
    let path: String
    private let tape: ExchangeTape
    /// Serialises appends to the file (calls end on the event loop and on the caller's thread).
    private let lock = NSLock()

    init(path: String) throws {
        self.path = path
        var exchanges: [Exchange] = []
        if let text = Platform.readFile(path) {
            for (n, line) in text.split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
                guard let v = JSONValue.parse(String(line)), let e = Exchange(json: v) else {
                    throw CassetteError("\(path):\(n + 1): not a recorded exchange")
                }
                exchanges.append(e)
            }
        }
        tape = ExchangeTape(exchanges)
    }

    func answer(_ key: String) -> Exchange? { tape.take(key) }

    /// Appends a live exchange that succeeded (failures are not kept: the next run tries again).
    func append(_ e: Exchange) {
        guard e.error == nil else { return }
        lock.lock(); defer { lock.unlock() }
        let dir = Platform.parentDirectory(of: path)
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        guard let f = fopen(path, "a") else { return }
        var line = e.json.text + "\n"
        line.withUTF8 { b in _ = fwrite(b.baseAddress, 1, b.count, f) }
        fclose(f)
    }
}

struct CassetteError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
