import NIOCore
import NIOPosix

/// The event loops `moonlab serve` answers on: one thread per `--workers`, each owning one Lua
/// state of every `ServingVersion` (slot `index(of:)`), so a scoring request is read,
/// parsed, scored and written on the thread that read it (`LoopScoringHandler`). A group of
/// its own rather than NIO's singleton: the number of loops must equal the number of states,
/// and the threads are the server's alone. (NIO's threads get glibc's default stack, the
/// process's stack limit, 8 MB here, as a pool worker's thread has for Lua's C stack.)
final class ServingLoops: Sendable {
    let group: MultiThreadedEventLoopGroup
    /// Each loop's slot, by the loop's identity (filled once, then only read).
    private let slots: [ObjectIdentifier: Int]

    init(count: Int) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, count))
        var slots: [ObjectIdentifier: Int] = [:]
        for loop in group.makeIterator() { slots[ObjectIdentifier(loop)] = slots.count }
        self.slots = slots
    }

    var count: Int { slots.count }

    /// The slot of `loop`, one of this group's loops.
    func index(of loop: any EventLoop) -> Int {
        guard let i = slots[ObjectIdentifier(loop)] else {
            preconditionFailure("moonlab serve: a channel on an event loop not of the server's group")
        }
        return i
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}
