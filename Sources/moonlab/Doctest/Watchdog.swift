import Foundation
import LuaKit
import Synchronization

/// Stops a doc example that runs too long, as Ctrl-C would (the Lua interrupt), so a
/// doc that loops forever fails in CI instead of hanging it.
final class Watchdog: Sendable {
    /// When the example being run must stop (nil: none running), and whether it was stopped.
    private let watch = Mutex<(deadline: Double?, fired: Bool)>((nil, false))
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
        let deadline = Date().timeIntervalSince1970 + seconds
        watch.withLock { $0 = (deadline, false) }
        body()
        return watch.withLock { w in
            w.deadline = nil
            return w.fired
        }
    }

    private func check() {
        watch.withLock { w in
            guard let d = w.deadline, Date().timeIntervalSince1970 > d else { return }
            w = (nil, true)
            LuaInterrupt.raise()
        }
    }
}
