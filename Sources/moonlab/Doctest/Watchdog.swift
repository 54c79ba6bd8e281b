import Foundation
import LuaKit

/// Stops a doc example that runs too long, as Ctrl-C would (the Lua interrupt), so a
/// doc that loops forever fails in CI instead of hanging it.
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var deadline: Double?
    private var fired = false
    let seconds: Double

    init(seconds: Double) {
        self.seconds = seconds
        let t = Thread { [weak self] in
            while let self {
                Thread.sleep(forTimeInterval: 0.2)
                self.check()
            }
        }
        t.start()
    }

    /// Runs `body` under the time limit; true if the watchdog had to stop it.
    func guarding(_ body: () -> Void) -> Bool {
        lock.withLock { deadline = Date().timeIntervalSince1970 + seconds; fired = false }
        body()
        return lock.withLock { deadline = nil; return fired }
    }

    private func check() {
        lock.withLock {
            guard let d = deadline, Date().timeIntervalSince1970 > d else { return }
            fired = true
            deadline = nil
            LuaInterrupt.raise()
        }
    }
}
