import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes behind one or more tensors: either a malloc'd block or a memory-mapped
/// region of a file (copy-on-write, so writing to a loaded tensor never touches the file).
/// Views (rows, slices, reshapes) hold the same storage; it is freed or unmapped when the
/// last of them goes away.
///
/// A *borrowing* storage (`init(borrowingCapacity:)`, `borrow(_:at:)`) shows another
/// storage's bytes, read-only, copy-on-write: it retains the lender, and the first write
/// through any tensor of it (every writer calls `prepareForWrite()` first) copies the
/// bytes into a block of its own and re-points `base`, so the lender is never changed.
/// While borrowed, `base` is the lender's memory: code that writes an existing tensor's
/// elements must go through `prepareForWrite()` (`Tensor.makeWritable()`), and nothing may
/// keep `base` across a call that could write (boxes read it through `cowCell`).
public final class TensorStorage {
    /// Start of the usable bytes (for a mapping: the mapping base plus the data offset; for
    /// a borrowing storage the lender's bytes until the first write, then its own block).
    @exclusivity(unchecked) public private(set) var base: UnsafeMutableRawPointer
    /// Usable bytes from `base`.
    public let byteCount: Int
    private let owner: Owner
    /// The storage whose bytes `base` shows (retained), nil when `base` is this storage's own.
    @exclusivity(unchecked) private var lender: TensorStorage?
    /// The block of a borrowing storage (written on the first write), else nil.
    private let ownBlock: UnsafeMutableRawPointer?
    /// For a borrowing storage: 16 bytes that C reads (LuaShim's `mlshim_cowcell`): the
    /// current `base` at offset 0 and, at offset 8, an Int32 that is 1 while borrowed. Array
    /// boxes of its tensors read and write through it, so they follow `base` when it moves
    /// and hand a write to Swift (which copies first) while the bytes are borrowed.
    public let cowCell: UnsafeMutableRawPointer?
    /// What the owner of these bytes was given when told about them (`attachCharge`);
    /// dropped, and so released, when the storage is freed.
    private var charge: AnyObject?

    private enum Owner {
        case malloc(UnsafeMutableRawPointer)
        /// A block of 1 MiB or more (`bytes`, a multiple of 64 KiB) that goes back to `BlockCache`.
        case cached(UnsafeMutableRawPointer, bytes: Int)
        case mmap(UnsafeMutableRawPointer, Int)
        case none
    }

    /// A new zero-filled block of `byteCount` bytes, 64-byte aligned (for SIMD loads).
    public convenience init(zeroedBytes byteCount: Int) {
        self.init(uninitializedBytes: byteCount)
        memset(base, 0, Swift.max(byteCount, 1))
    }

    /// A new block whose bytes are garbage until written: for kernel outputs that are
    /// written in full, so a huge result costs no extra pass over memory. Stops the process
    /// if the memory cannot be had, as an `Array` would: use `allocate(bytes:zeroed:)` for
    /// a size that a user or a file chose.
    public init(uninitializedBytes byteCount: Int) {
        guard let (p, o) = TensorStorage.obtain(byteCount) else {
            fatalError("AlignMath: out of memory allocating \(byteCount) bytes")
        }
        base = p
        self.byteCount = byteCount
        owner = o
        ownBlock = nil
        cowCell = nil
    }

    private init(base: UnsafeMutableRawPointer, byteCount: Int, owner: Owner) {
        self.base = base
        self.byteCount = byteCount
        self.owner = owner
        ownBlock = nil
        cowCell = nil
    }

    /// A block for a size a user or a file chose (`tensor.zeros{1e6, 1e6}`, an `.npz`
    /// header): throws instead of stopping the process when the memory cannot be had.
    public static func allocate(bytes byteCount: Int, zeroed: Bool) throws -> TensorStorage {
        guard let (p, o) = obtain(byteCount) else {
            let gb = Double(byteCount) / 1e9
            throw AlignMathError.invalidArgument(
                "not enough memory for \(byteCount) bytes (\(gb < 0.01 ? "<0.01" : String(Int(gb.rounded()))) GB)")
        }
        let s = TensorStorage(base: p, byteCount: byteCount, owner: o)
        if zeroed { memset(p, 0, Swift.max(byteCount, 1)) }
        return s
    }

    /// The memory for a block, or nil when it cannot be had.
    /// Large blocks: 2 MiB aligned and marked for transparent huge pages, so the first
    /// touch of a fresh 500 MB result costs 250 page faults instead of 128k; and the
    /// large blocks freed are kept for the next allocations of about the same size
    /// (`BlockCache`), so a kernel called in a loop (log_softmax over a batch, as in
    /// the benchmark) does not pay the kernel's zeroing of fresh pages every call
    /// (measured: ~40 ms of system CPU per 524 MB result on the dev box). Without the
    /// huge-page advice, 20 iterations of `(a * 2 + b) / c` over 1e7 f64 took 100-120 ms of
    /// system time against 10-20 ms with it (39,085 page faults against ~100; 12-05, load 6).
    /// Blocks of 1 to 8 MiB are cached too but get 4 KB pages: rounding them to 2 MiB
    /// would waste up to half of a block.
    private static func obtain(_ byteCount: Int) -> (UnsafeMutableRawPointer, Owner)? {
        let n = max(byteCount, 1)
        if n >= hugeBlock {
            guard n <= Int.max - (2 << 20) else { return nil }
            let rounded = (n + (2 << 20) - 1) & ~((2 << 20) - 1)
            if let (p, bytes) = takeCached(rounded) { return (p, .cached(p, bytes: bytes)) }
            countFresh(rounded)
            var p: UnsafeMutableRawPointer? = nil
            guard posix_memalign(&p, 2 << 20, rounded) == 0, let ptr = p else { return nil }
            #if os(Linux)
            _ = madvise(ptr, rounded, 14)  // MADV_HUGEPAGE (a hint; ignored where unsupported)
            #endif
            return (ptr, .cached(ptr, bytes: rounded))
        }
        if n >= cachedBlock {
            let rounded = (n + (64 << 10) - 1) & ~((64 << 10) - 1)
            if let (p, bytes) = takeCached(rounded) { return (p, .cached(p, bytes: bytes)) }
            countFresh(rounded)
            var p: UnsafeMutableRawPointer? = nil
            guard posix_memalign(&p, 4096, rounded) == 0, let ptr = p else { return nil }
            return (ptr, .cached(ptr, bytes: rounded))
        }
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, 64, n) == 0, let ptr = p else { return nil }
        return (ptr, .malloc(ptr))
    }

    /// A cached block for `bytes`; on a miss, asks the reclaimer (when one is set) to free
    /// dead tensors' blocks, and looks again if it did.
    private static func takeCached(_ bytes: Int) -> (UnsafeMutableRawPointer, Int)? {
        if let b = BlockCache.shared.take(bytes) { return b }
        guard let reclaim = reclaimer.withLock({ $0 }), reclaim(bytes) else { return nil }
        return BlockCache.shared.take(bytes)
    }

    private static func countFresh(_ bytes: Int) {
        freshBlockCount.add(1, ordering: .relaxed)
        freshBlockByteCount.add(bytes, ordering: .relaxed)
    }

    private static let reclaimer = Mutex<(@Sendable (Int) -> Bool)?>(nil)
    private static let freshBlockCount = Atomic<Int>(0)
    private static let freshBlockByteCount = Atomic<Int>(0)

    /// Sets the function a large allocation calls, on its own thread, before it takes a fresh
    /// block from the system because the block cache has none of about its size (nil: none).
    /// It is given the block's bytes and may free tensors that are already dead but not yet
    /// freed (a Lua state whose collector has not run since a loop dropped its last results:
    /// their blocks then go back to the cache); it answers whether it freed anything, and the
    /// cache is asked again if so. Fresh pages cost the kernel's clearing (100-160 ms per
    /// 80 MB here), a collection of a small heap far less. It must not keep the thread long
    /// and may be called again from inside itself (a finalizer that allocates).
    public static func setReclaimer(_ reclaim: (@Sendable (Int) -> Bool)?) {
        reclaimer.withLock { $0 = reclaim }
    }

    /// Whether the block cache holds a block that would serve `byteCount` bytes now.
    public static func cacheCanServe(_ byteCount: Int) -> Bool {
        let n = max(byteCount, 1)
        guard n >= cachedBlock, n <= Int.max - (2 << 20) else { return false }
        let rounded = n >= hugeBlock ? (n + (2 << 20) - 1) & ~((2 << 20) - 1) : (n + (64 << 10) - 1) & ~((64 << 10) - 1)
        return BlockCache.shared.holds(rounded)
    }

    /// Blocks of 1 MiB or more taken fresh from the system (not from the block cache) since
    /// the process started, and their bytes (all threads): for tests and benchmarks.
    public static var freshBlocks: (count: Int, bytes: Int) {
        (freshBlockCount.load(ordering: .relaxed), freshBlockByteCount.load(ordering: .relaxed))
    }

    /// Frees every block the cache holds (tests that count fresh blocks start from an empty cache).
    public static func drainBlockCache() { BlockCache.shared.drain() }

    /// Blocks of at least this many bytes are 2 MiB aligned and advised for huge pages.
    static let hugeBlock = 8 << 20
    /// Blocks of at least this many bytes (and below `hugeBlock`: rounded to 64 KiB) go back
    /// to `BlockCache` when freed, not to malloc, which maps and unmaps chunks this large:
    /// `rl.kl` over 1e6 tokens (an 8,000,000-byte output per call) paid 0.15-0.9 ms of page
    /// faults per 0.6 ms call when its outputs came from malloc.
    static let cachedBlock = 1 << 20

    /// Adopts a mapping made by `mmap` (`length` bytes at `mapping`); the usable bytes
    /// start at `offset`. The mapping is unmapped on deinit.
    public init(mapping: UnsafeMutableRawPointer, length: Int, offset: Int) {
        base = mapping + offset
        byteCount = length - offset
        owner = .mmap(mapping, length)
        ownBlock = nil
        cowCell = nil
    }

    /// A borrowing storage of `byteCount` bytes: a zero-filled block of its own, shown
    /// until `borrow(_:at:)` points it at a lender's bytes.
    public init(borrowingCapacity byteCount: Int) {
        guard let (p, o) = TensorStorage.obtain(byteCount) else {
            fatalError("AlignMath: out of memory allocating \(byteCount) bytes")
        }
        memset(p, 0, Swift.max(byteCount, 1))
        base = p
        self.byteCount = byteCount
        owner = o
        ownBlock = p
        let cell = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)
        cell.storeBytes(of: p, as: UnsafeMutableRawPointer.self)
        cell.storeBytes(of: 0, toByteOffset: 8, as: Int32.self)
        cell.storeBytes(of: 0, toByteOffset: 12, as: Int32.self)
        cowCell = cell
    }

    /// True while `base` shows a lender's bytes (no write has happened since `borrow`).
    public var isBorrowed: Bool { lender != nil }

    /// True for a storage made by `init(borrowingCapacity:)`.
    public var canBorrow: Bool { ownBlock != nil }

    /// Shows the `byteCount` bytes of `lender` at `pointer` (which must lie inside the
    /// lender's bytes; false, and nothing changes, when they do not or this storage cannot
    /// borrow), retaining the lender until the next write or `unborrow`. Every tensor of
    /// this storage then reads the lender's bytes; a write copies them first.
    @discardableResult
    public func borrow(_ lender: TensorStorage, at pointer: UnsafeRawPointer) -> Bool {
        // A lender that itself borrows: retain its lender, whose bytes these are (the
        // borrowing one may move to its own block and let them go).
        let root = lender.lender ?? lender
        guard ownBlock != nil, root !== self else { return false }
        let lo = UnsafeRawPointer(root.base), p = pointer
        guard p >= lo, byteCount <= root.byteCount, p - lo <= root.byteCount - byteCount else { return false }
        self.lender = root
        setBase(UnsafeMutableRawPointer(mutating: p), borrowed: true)
        return true
    }

    /// Shows this storage's own block again without copying (its bytes are what the last
    /// write or `unborrow` left): for a caller about to overwrite every byte.
    public func unborrow() {
        guard let own = ownBlock, lender != nil else { return }
        setBase(own, borrowed: false)
        lender = nil
    }

    /// The gate every write to an existing tensor passes first: a borrowing storage that
    /// still shows its lender's bytes copies them into its own block and shows that (all
    /// tensors of this storage then see the copy). Nothing for any other storage.
    @inline(__always)
    public func prepareForWrite() {
        if lender != nil { copyFromLender() }
    }

    @inline(never)
    private func copyFromLender() {
        guard let own = ownBlock, let l = lender else { return }
        withExtendedLifetime(l) { own.copyMemory(from: base, byteCount: byteCount) }
        setBase(own, borrowed: false)
        lender = nil
    }

    private func setBase(_ p: UnsafeMutableRawPointer, borrowed: Bool) {
        base = p
        if let cell = cowCell {
            cell.storeBytes(of: p, as: UnsafeMutableRawPointer.self)
            cell.storeBytes(of: borrowed ? 1 : 0, toByteOffset: 8, as: Int32.self)
        }
    }

    deinit {
        cowCell?.deallocate()
        switch owner {
        case .malloc(let p): free(p)
        case .cached(let p, let bytes): BlockCache.shared.give(p, bytes)
        case .mmap(let p, let n): munmap(p, n)
        case .none: break
        }
    }

    /// True when the bytes are a mapped file rather than heap memory.
    public var isMapped: Bool { if case .mmap = owner { return true } else { return false } }

    /// Heap bytes this storage owns (0 for a mapped file or borrowed bytes).
    public var heapBytes: Int {
        switch owner {
        case .malloc: return byteCount
        case .cached(_, let bytes): return bytes
        case .mmap, .none: return 0
        }
    }

    /// True once a charge is attached (see `attachCharge`).
    public var isCharged: Bool {
        TensorStorage.chargeLock.lock()
        defer { TensorStorage.chargeLock.unlock() }
        return charge != nil
    }

    /// Attaches `token`, an object that accounts for these bytes somewhere (a Lua state's
    /// external-memory charge) and gives them back when it is released; it is released
    /// when the storage is freed. Only the first token is kept: returns false (and drops
    /// `token`) when one is already attached.
    @discardableResult
    public func attachCharge(_ token: AnyObject) -> Bool {
        TensorStorage.chargeLock.lock()
        defer { TensorStorage.chargeLock.unlock() }
        guard charge == nil else { return false }
        charge = token
        return true
    }

    private static let chargeLock = NSLock()
}

/// Keeps freed large tensor blocks (up to `capacity` bytes in all, oldest given back to the
/// system first) for the next allocations of about the same size: a kernel run in a loop
/// (`(a * 2 + b) / c` over 1e7 elements) then reuses pages that are already mapped instead
/// of paying the kernel's zeroing of fresh ones (100-160 ms per 80 MB here). A block serves
/// a request of between 4/5 and all of its size.
final class BlockCache: Sendable {
    static let shared = BlockCache()
    /// Bytes kept at most: 1 GiB, or 1/16 of the machine's memory when that is less.
    let capacity: Int
    /// The cached blocks, oldest first, and their bytes in all.
    // @unchecked Sendable: raw pointers are not Sendable, but a block is the cache's alone from
    // `give` until `take` hands it on (no one else keeps its address), and it lives in `cached`.
    private struct Blocks: @unchecked Sendable {
        var list: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
        var held = 0
    }
    private let cached = Mutex(Blocks())

    private init() {
        capacity = Swift.min(1 << 30, Int(ProcessInfo.processInfo.physicalMemory / 16))
    }

    /// The smallest cached block of `size` to `size * 5/4` bytes (it leaves the cache), or nil.
    func take(_ size: Int) -> (UnsafeMutableRawPointer, Int)? {
        cached.withLock { c in
            let best = BlockCache.best(in: c.list, for: size)
            guard best >= 0 else { return nil }
            let b = c.list.remove(at: best)
            c.held -= b.bytes
            return (b.pointer, b.bytes)
        }
    }

    /// Whether `take(size)` would find a block now.
    func holds(_ size: Int) -> Bool {
        cached.withLock { BlockCache.best(in: $0.list, for: size) >= 0 }
    }

    private static func best(in list: [(pointer: UnsafeMutableRawPointer, bytes: Int)], for size: Int) -> Int {
        var best = -1
        for (i, b) in list.enumerated() where b.bytes >= size && b.bytes <= size + size / 4 {
            if best < 0 || b.bytes < list[best].bytes { best = i }
        }
        return best
    }

    /// Returns a block to the cache, freeing the oldest ones when over capacity (or the
    /// block itself when it alone is larger than the capacity).
    func give(_ p: UnsafeMutableRawPointer, _ size: Int) {
        if size > capacity { free(p); return }
        let capacity = self.capacity
        let evicted = cached.withLock { c in
            var evicted: [UnsafeMutableRawPointer] = []
            c.list.append((p, size))
            c.held += size
            while c.held > capacity, !c.list.isEmpty {
                let old = c.list.removeFirst()
                c.held -= old.bytes
                evicted.append(old.pointer)
            }
            return evicted
        }
        for e in evicted { free(e) }
    }

    /// Frees every cached block (tests, and a host that wants its memory back).
    func drain() {
        let all = cached.withLock { c in
            defer { c = Blocks() }
            return c.list
        }
        for b in all { free(b.pointer) }
    }
}
