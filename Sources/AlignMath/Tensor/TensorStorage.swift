#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element type of a `Tensor`. Only the two float widths: integer and half-precision
/// data is widened on load, so every kernel has exactly two concrete loops.
public enum DType: String, CustomStringConvertible, Sendable {
    case f32, f64

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 8 }
    /// The name as shown in `description` and accepted by the Lua glue (`"f32"`, `"f64"`).
    public var description: String { rawValue }
    /// The wider of two dtypes: the result type of a binary op (as PyTorch promotes).
    public static func promote(_ a: DType, _ b: DType) -> DType { (a == .f64 || b == .f64) ? .f64 : .f32 }
}

/// The bytes behind one or more tensors: either a malloc'd block or a memory-mapped
/// region of a file (copy-on-write, so writing to a loaded tensor never touches the file).
/// Views (rows, slices, reshapes) hold the same storage; it is freed or unmapped when the
/// last of them goes away.
public final class TensorStorage {
    /// Start of the usable bytes (for a mapping: the mapping base plus the data offset).
    public let base: UnsafeMutableRawPointer
    /// Usable bytes from `base`.
    public let byteCount: Int
    private let owner: Owner

    private enum Owner {
        case malloc(UnsafeMutableRawPointer)
        /// A large block (`bytes`, a multiple of 2 MiB) that goes back to `BlockCache`.
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
    }

    private init(base: UnsafeMutableRawPointer, byteCount: Int, owner: Owner) {
        self.base = base
        self.byteCount = byteCount
        self.owner = owner
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
    /// last large block freed is kept for the next allocation of the same size
    /// (`BlockCache`), so a kernel called in a loop (log_softmax over a batch, as in
    /// the benchmark) does not pay the kernel's zeroing of fresh pages every call
    /// (measured: ~40 ms of system CPU per 524 MB result on the dev box).
    private static func obtain(_ byteCount: Int) -> (UnsafeMutableRawPointer, Owner)? {
        let n = max(byteCount, 1)
        if n >= 8 << 20 {
            guard n <= Int.max - (2 << 20) else { return nil }
            let rounded = (n + (2 << 20) - 1) & ~((2 << 20) - 1)
            if let p = BlockCache.shared.take(rounded) { return (p, .cached(p, bytes: rounded)) }
            var p: UnsafeMutableRawPointer? = nil
            guard posix_memalign(&p, 2 << 20, rounded) == 0, let ptr = p else { return nil }
            #if os(Linux)
            _ = madvise(ptr, rounded, 14)  // MADV_HUGEPAGE (a hint; ignored where unsupported)
            #endif
            return (ptr, .cached(ptr, bytes: rounded))
        }
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, 64, n) == 0, let ptr = p else { return nil }
        return (ptr, .malloc(ptr))
    }

    /// Adopts a mapping made by `mmap` (`length` bytes at `mapping`); the usable bytes
    /// start at `offset`. The mapping is unmapped on deinit.
    public init(mapping: UnsafeMutableRawPointer, length: Int, offset: Int) {
        base = mapping + offset
        byteCount = length - offset
        owner = .mmap(mapping, length)
    }

    deinit {
        switch owner {
        case .malloc(let p): free(p)
        case .cached(let p, let bytes): BlockCache.shared.give(p, bytes)
        case .mmap(let p, let n): munmap(p, n)
        case .none: break
        }
    }

    /// True when the bytes are a mapped file rather than heap memory.
    public var isMapped: Bool { if case .mmap = owner { return true } else { return false } }
}

/// Keeps the most recently freed large tensor block (at most one, at most 4 GiB) for the
/// next allocation of exactly the same rounded size; any other block is freed at once.
/// So memory held beyond live tensors is bounded by one block, the size of a result the
/// program just produced.
final class BlockCache: @unchecked Sendable {
    static let shared = BlockCache()
    private var mutex = pthread_mutex_t()
    private var block: UnsafeMutableRawPointer? = nil
    private var bytes = 0

    private init() { pthread_mutex_init(&mutex, nil) }

    /// The cached block if it has exactly `size` bytes (it leaves the cache), else nil.
    func take(_ size: Int) -> UnsafeMutableRawPointer? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard let b = block, bytes == size else { return nil }
        block = nil
        bytes = 0
        return b
    }

    /// Returns a block: it replaces the cached one (which is freed), or is freed itself
    /// when larger than 4 GiB.
    func give(_ p: UnsafeMutableRawPointer, _ size: Int) {
        if size > 4 << 30 { free(p); return }
        pthread_mutex_lock(&mutex)
        let old = block
        block = p
        bytes = size
        pthread_mutex_unlock(&mutex)
        if let o = old { free(o) }
    }
}
