import LuaKit
import AlignMath

/// How vectors cross between Lua and AlignMath: every function that takes a vector
/// accepts a Lua array of numbers or a `tensor`; vectors come back as tensors.
extension LuaArguments {
    /// The tensor at `index`, if it is one.
    public func tensorIfAny(_ index: Int32) -> Tensor? {
        index <= count ? state.object(at: index, Tensor.self) : nil
    }

    /// The argument as a tensor: a tensor is taken as it is (no copy: any dtype, possibly a
    /// strided view); a Lua array (nested for n-d) becomes a new f64 tensor (bool when every
    /// entry is a boolean).
    public func tensor(_ index: Int32, what: String = "tensor or array of numbers") throws -> Tensor {
        if let t = tensorIfAny(index) { return t }
        guard type(index) == .table else { throw typeError(index, expected: what) }
        return try state.tensorFromTable(at: index, function: function, argument: index)
    }

    /// The argument as a dense f32 or f64 tensor, what a float kernel reads: an f32/f64
    /// tensor as it is when contiguous, else packed; i64/bool tensors and Lua arrays become f64.
    public func floatingTensor(_ index: Int32, what: String = "tensor or array of numbers") throws -> Tensor {
        try tensor(index, what: what).contiguousFloating()
    }

    /// Token ids (0-based vocabulary ids, as a tokenizer gives them) from an i64 tensor, a
    /// float tensor or Lua array of whole numbers; each must lie in `0..<vocab` when given.
    public func tokenIds(_ index: Int32, vocab: Int? = nil, what: String = "token ids") throws -> [Int] {
        var ids: [Int] = []
        if let t = tensorIfAny(index) {
            if t.dtype == .i64 || t.dtype == .bool {
                ids = t.toInt64s().map { Int($0) }
            } else {
                for (k, d) in t.toDoubles().enumerated() {
                    guard let id = Int(exactly: d) else { throw error(index, "\(what) must be whole numbers, entry \(k + 1) is \(d)") }
                    ids.append(id)
                }
            }
        } else {
            guard type(index) == .table else { throw typeError(index, expected: "\(what) (i64 tensor or array of integers)") }
            let n = state.rawLength(at: index)
            ids.reserveCapacity(n)
            for k in 1...max(n, 1) where k <= n {
                _ = state.rawGet(k, of: index)
                defer { state.pop() }
                guard let id = state.integer(at: -1) else {
                    throw error(index, "\(what) must be integers, entry \(k) is \(state.type(at: -1) == .number ? (state.string(at: -1) ?? "?") : state.typeName(at: -1))")
                }
                ids.append(id)
            }
        }
        if let v = vocab {
            for (k, id) in ids.enumerated() where id < 0 || id >= v {
                throw error(index, "\(what): id \(id) (entry \(k + 1)) is outside the vocabulary 0..\(v - 1) (ids are 0-based)")
            }
        }
        return ids
    }

    /// The argument as Swift doubles (from a tensor or a Lua array of numbers/booleans).
    public func doubles(_ index: Int32, what: String = "tensor or array of numbers") throws -> [Double] {
        if let t = tensorIfAny(index) { return t.toDoubles() }
        guard type(index) == .table else { throw typeError(index, expected: what) }
        guard let a = state.numberArray(at: index) else {
            throw error(index, "\(what) expected, got a table with a non-number entry")
        }
        return a
    }

    /// Optional doubles: nil when the argument is nil/absent.
    public func optionalDoubles(_ index: Int32) throws -> [Double]? {
        isNil(index) ? nil : try doubles(index)
    }

    /// A Lua array of booleans (or 0/1 numbers, or a tensor) as Swift booleans.
    public func booleans(_ index: Int32, what: String = "array of booleans") throws -> [Bool] {
        if let t = tensorIfAny(index) { return t.toDoubles().map { $0 != 0 } }
        guard type(index) == .table else { throw typeError(index, expected: what) }
        let n = state.rawLength(at: index)
        var out = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let t = state.rawGet(i + 1, of: index)
            defer { state.pop() }
            switch t {
            case .boolean: out[i] = state.boolean(at: -1)
            case .number: out[i] = (state.number(at: -1) ?? 0) != 0
            default: throw error(index, "\(what) expected, entry \(i + 1) is \(state.typeName(at: -1))")
            }
        }
        return out
    }

    /// A Lua array of strings.
    public func strings(_ index: Int32, what: String = "array of strings") throws -> [String] {
        guard type(index) == .table, let s = state.stringArray(at: index) else { throw typeError(index, expected: what) }
        return s
    }
}

extension LuaOptions {
    /// An option holding a vector (Lua array or tensor); nil when absent.
    public func doubles(_ key: String) throws -> [Double]? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        if let tensor = state.object(at: -1, Tensor.self) { return tensor.toDoubles() }
        guard t == .table, let a = state.numberArray(at: -1) else { throw optionError(key, "a tensor or an array of numbers") }
        return a
    }

    /// An option holding booleans (array of booleans or 0/1 numbers); nil when absent.
    public func booleans(_ key: String) throws -> [Bool]? {
        guard let d = try doublesOrBooleans(key) else { return nil }
        return d.map { $0 != 0 }
    }

    private func doublesOrBooleans(_ key: String) throws -> [Double]? {
        let t = push(key)
        defer { state.pop() }
        if t == .nil { return nil }
        if let tensor = state.object(at: -1, Tensor.self) { return tensor.toDoubles() }
        guard t == .table, let a = state.numberArray(at: -1) else { throw optionError(key, "an array of booleans") }
        return a
    }
}

extension LuaState {
    /// A Lua array of numbers (1-d) or of equal-length arrays of numbers (2-d) read straight
    /// into a new f64 tensor's storage by one C loop per row: the one copy a Lua array costs.
    /// Nil for anything else (deeper nesting, a stray entry, ragged rows), which the generic
    /// walk then reads or reports.
    /// Also says whether the first entry was a boolean (an all-boolean array becomes bool).
    private func numericTableFast(at idx: Int32) throws -> (Tensor, firstIsBoolean: Bool)? {
        let n = rawLength(at: idx)
        guard n > 0 else { return nil }
        let first = rawGet(1, of: idx)
        defer { pop() }
        switch first {
        case .number, .boolean:
            let t = try Tensor.empty([n], dtype: .f64)
            let bad = try t.withMutableDoubles { b -> Int? in
                guard let p = b.baseAddress else { return nil }
                return readNumbers(at: idx, count: n, into: p)
            }
            return bad == nil ? (t, first == .boolean) : nil
        case .table:
            let width = rawLength(at: -1)
            guard width > 0, type(at: -1) == .table else { return nil }
            let inner = rawGet(1, of: -1)
            pop()
            guard inner == .number || inner == .boolean else { return nil }
            let t = try Tensor.empty([n, width], dtype: .f64)
            let ok = try t.withMutableDoubles { b -> Bool in
                guard let p = b.baseAddress else { return false }
                for r in 0..<n {
                    guard rawGet(r + 1, of: idx) == .table else { pop(); return false }
                    defer { pop() }
                    guard rawLength(at: -1) == width, readNumbers(at: -1, count: width, into: p + r * width) == nil else {
                        return false
                    }
                }
                return true
            }
            return ok ? (t, inner == .boolean) : nil
        default:
            return nil
        }
    }

    /// Pushes a tensor as userdata, charging its storage to this state's tensor memory (so
    /// the collector runs when dead tensors pile up). Stack: [] -> [tensor].
    /// Inside a Swift function called from Lua, a tensor that would pass the state's memory
    /// limit is not pushed: nil is, and the function's return raises "not enough memory"
    /// (the tensor is freed as the Swift function ends).
    public func push(tensor: Tensor) {
        guard TensorMemory.of(self).charge(tensor.storage, in: self) else { pushNil(); return }
        push(object: tensor, array: tensor.arrayView)
    }

    /// Pushes element `i` (row-major, 0-based) of `t` as Lua sees it: a float for f32/f64,
    /// an integer for i64, a boolean for bool. Stack: [] -> [value].
    public func push(element i: Int, of t: Tensor) {
        switch t.dtype {
        case .f32, .f64: push(t[flat: i])
        case .i64: push(Int(t.int64(flat: i)))
        case .bool: push(t[flat: i] != 0)
        }
    }

    /// Pushes Swift doubles as a new f64 tensor. Stack: [] -> [tensor].
    public func push(tensorOf values: [Double], shape: [Int]? = nil) throws {
        push(tensor: try Tensor(values, shape: shape))
    }

    /// Pushes token ids (0-based vocabulary ids) as a new 1-d i64 tensor. Stack: [] -> [tensor].
    public func push(ids: [Int]) throws {
        push(tensor: try Tensor(elements: ids.map { Int64($0) }))
    }

    /// Builds a tensor from a nested Lua array at `index` (any depth up to
    /// `Tensor.maxRank`, rectangular). Without `dtype`: bool when every entry is a boolean,
    /// else f64 (booleans among numbers count as 0/1). With `dtype = .i64`, integers are
    /// kept exactly (beyond 2^53 too). Arrays of numbers 1-d or 2-d are read by one C loop
    /// per row (`numericTableFast`).
    func tensorFromTable(at index: Int32, function: String, argument: Int32, dtype: DType? = nil) throws -> Tensor {
        if dtype != .i64, let (t, firstIsBoolean) = try numericTableFast(at: absolute(index)) {
            if let d = dtype { return t.converted(to: d) }
            if firstIsBoolean, try t.withDoubles({ $0.allSatisfy { $0 == 0 || $0 == 1 } }) { return t.converted(to: .bool) }
            return t
        }
        var reader = TableTensorReader(state: self, function: function, argument: argument, exactIntegers: dtype == .i64)
        return try reader.read(at: absolute(index), dtype: dtype)
    }
}

/// Reads a nested Lua array into a shape and a flat list of values, checking that it is
/// rectangular and at most `Tensor.maxRank` deep (so a table nested a thousand levels, or
/// one that contains itself, is an error, not a crash).
struct TableTensorReader {
    let state: LuaState
    let function: String
    let argument: Int32
    /// Keep integers as Int64 as well (for an i64 result beyond 2^53).
    let exactIntegers: Bool
    private var shape: [Int] = []
    private var values: [Double] = []
    private var integers: [Int64] = []
    private var leafDepth: Int?  // the depth where numbers live; tables only above it
    private var sawNumber = false

    init(state: LuaState, function: String, argument: Int32, exactIntegers: Bool) {
        self.state = state
        self.function = function
        self.argument = argument
        self.exactIntegers = exactIntegers
    }

    private func fail(_ what: String) -> LuaArgumentError {
        LuaArgumentError(function: function, index: Int(argument), problem: what)
    }

    mutating func read(at index: Int32, dtype: DType?) throws -> Tensor {
        try walk(index, depth: 0)
        if shape.count > 1, shape.last == 0 { shape = [shape[0], 0] }
        guard values.count == shape.reduce(1, *) else {
            throw fail("rows of different lengths; a tensor must be rectangular")
        }
        let dt = dtype ?? (sawNumber || values.isEmpty ? .f64 : .bool)
        if dt == .i64 && exactIntegers { return try Tensor(elements: integers, shape: shape) }
        return try Tensor(values, shape: shape, dtype: dt)
    }

    private mutating func leaf(at depth: Int) throws {
        if leafDepth == nil { leafDepth = depth }
        guard leafDepth == depth else { throw fail("mixed numbers and rows at depth \(depth + 1); a tensor must be rectangular") }
    }

    private mutating func walk(_ at: Int32, depth: Int) throws {
        guard depth < Tensor.maxRank else {
            throw fail("arrays nested more than \(Tensor.maxRank) deep (a tensor has at most \(Tensor.maxRank) axes)")
        }
        let s = state
        // Each level keeps its row on the stack while reading the next: make room for it.
        guard s.checkStack(4) else { throw fail("not enough Lua stack to read arrays nested \(depth) deep") }
        let n = s.rawLength(at: at)
        if depth == shape.count { shape.append(n) } else if shape[depth] != n {
            throw fail("rows of different lengths (\(shape[depth]) vs \(n)); a tensor must be rectangular")
        }
        if n > 0 && leafDepth == nil && depth == 0 { values.reserveCapacity(n) }
        for i in 1...max(n, 1) where i <= n {
            let t = s.rawGet(i, of: at)
            defer { s.pop() }
            switch t {
            case .number:
                try leaf(at: depth)
                sawNumber = true
                values.append(s.number(at: -1) ?? 0)
                if exactIntegers { integers.append(s.integer(at: -1).map { Int64($0) } ?? Int64.fromDouble(s.number(at: -1) ?? 0)) }
            case .boolean:
                try leaf(at: depth)
                let b = s.boolean(at: -1)
                values.append(b ? 1 : 0)
                if exactIntegers { integers.append(b ? 1 : 0) }
            case .table:
                if let d = leafDepth, depth >= d { throw fail("mixed numbers and rows at depth \(depth + 1); a tensor must be rectangular") }
                try walk(s.absolute(-1), depth: depth + 1)
            case .userdata where s.object(at: -1, Tensor.self) != nil:
                throw fail("a table of tensors; stack them (tensor.stack) or pass the tensor itself")
            default:
                throw fail("tensor or array of numbers expected, entry \(i) is \(s.typeName(at: -1))")
            }
        }
    }
}

extension Tensor {
    /// What C's fast `t[i]` may read: the first axis of a 1-d tensor (its length for any
    /// tensor with axes, for `#t` and ipairs).
    var arrayView: LuaArrayView {
        guard ndim == 1 else { return LuaArrayView(data: nil, length: ndim == 0 ? -1 : shape[0], strideBytes: 0, kind: .none) }
        let kind: LuaArrayView.Kind
        switch dtype {
        case .f32: kind = .f32
        case .f64: kind = .f64
        case .i64: kind = .i64
        case .bool: kind = .bool
        }
        // A copy-on-write storage (a Lua stage's view of the chain's row) moves its bytes:
        // the box reads them through its cell, and sends writes to Swift while borrowed.
        return LuaArrayView(data: storage.base + offset * dtype.size, length: shape[0],
                            strideBytes: strides[0] * dtype.size, kind: kind,
                            cell: storage.cowCell.map { UnsafeRawPointer($0) }, cellOffset: offset * dtype.size)
    }
}

/// What a state's tensors hold outside the Lua heap. Lua's collector sees a tensor as a
/// small box, so a loop making temporaries (`(a * 2 + b) / c` over 1e7 elements) would pile
/// up gigabytes of dead storage before it ran. Every storage pushed into the state is
/// charged to the state's external memory (`LuaState.chargeExternal`, which the memory
/// ceiling also counts) until the storage is freed; when the charged bytes pass a
/// threshold, the collector runs, as the state's mode allows:
///
/// - Generational mode (every workbench state starts in it, as `lua5.4` itself does): a
///   minor collection, which traverses the young objects (the dead temporaries' boxes) and
///   the old ones written since, not the whole heap; the next threshold is what is then live
///   plus 64 MiB. A tensor that stayed alive through two minor collections is old, and if it
///   dies later only a full collection frees it: when the live bytes after a minor
///   collection are past twice those after the last full one (at least 64 MiB more), a full
///   collection runs. With the six 1e6-entry tables of `Benchmarks/lua_numbers.lua rl` alive
///   (a 96 MB Lua heap), a full collection costs 7-11 ms where a minor one costs microseconds:
///   `rl.kl` k1 over 1e6 tokens went from 1.4 to 0.76 ms of CPU per call (BENCHMARKS.md).
/// - Incremental mode (a script that called `collectgarbage("incremental")`: moonlab does
///   not switch it back): a full collection, and the next threshold is what is then live
///   plus the larger of 64 MiB and the Lua heap. A collection's cost follows the Lua heap
///   (what it marks), not the tensor bytes, so the step need not grow with the live tensors;
///   with the heap term a state with a large heap still collects at most once per heap's
///   worth of tensors, and dead blocks go back to the block cache soon enough for the next
///   outputs to reuse them. Steps of 2x and then 1.5x the live bytes left 3-4 dead 80 MB
///   temporaries waiting in `(a * 2 + b) / c` over 1e7 elements, each a fresh block whose
///   pages the kernel had to supply and clear (200-350 ms of system time over 20
///   iterations; 10-20 ms with this step, peak 575 -> 495 MB).
public final class TensorMemory {
    /// External bytes at which the next tensor-driven collection runs.
    public private(set) var threshold = TensorMemory.minimumStep
    /// Full collections run because of tensor memory (for tests and benchmarks).
    public private(set) var collections = 0
    /// Minor collections run because of tensor memory (generational mode).
    public private(set) var minorCollections = 0
    /// Collections run because a large allocation found no cached block (`reclaim`), minor
    /// and full (also counted in `minorCollections` and `collections`).
    public private(set) var reclaimCollections = 0
    /// Generational mode: external bytes past which a minor collection is followed by a full one.
    private var fullThreshold = TensorMemory.minimumStep
    /// Bytes charged since the last collection this type ran, and since the last full one:
    /// at most what a minor (a full) collection could find dead among the tensors.
    private var chargedSinceCollection = 0
    private var chargedSinceFull = 0
    /// True while `reclaim` runs (a finalizer it runs may allocate).
    private var reclaiming = false
    /// Bytes that must be charged since the last full collection before `reclaim` runs
    /// another: 0, or what was live after one of its full collections that freed no block of
    /// the size wanted (a loop keeping its results: the next full one comes once as many bytes
    /// again came, so they are a few, not one per allocation).
    private var reclaimFullAfter = 0
    static let minimumStep = 64 << 20
    private static let key = "moonlab.tensor.memory"

    /// The tensor memory of `state` (made on first use; shared with its coroutines).
    public static func of(_ state: LuaState) -> TensorMemory {
        if let m = state.userInfo[key] as? TensorMemory { return m }
        let m = TensorMemory()
        state.userInfo[key] = m
        return m
    }

    /// Charges `storage` to `state` (once; a storage keeps the first state it was pushed
    /// into) and collects when the charged bytes passed the threshold. False when the
    /// charge was refused (over the memory limit inside a Swift function; see
    /// `LuaState.chargeExternalOrRefuse`).
    @discardableResult
    func charge(_ storage: TensorStorage, in state: LuaState) -> Bool {
        let bytes = storage.heapBytes
        var charged = 0
        if bytes > 0 && !storage.isCharged {
            guard let c = state.chargeExternalOrRefuse(bytes) else { return false }
            storage.attachCharge(c)
            charged = bytes
            chargedSinceCollection += bytes
            chargedSinceFull += bytes
        }
        guard state.externalMemory > threshold else { return true }
        if state.generationalCollector {
            minor(state)
            if state.externalMemory > fullThreshold { full(state) }
        } else {
            full(state)
        }
        // A storage charged now is not in Lua yet: these collections could not free it, the
        // next may (a result the script drops once this call returns).
        chargedSinceCollection = charged
        chargedSinceFull = max(chargedSinceFull, charged)
        return true
    }

    private func minor(_ state: LuaState) {
        state.collectStep()
        minorCollections += 1
        chargedSinceCollection = 0
        threshold = state.externalMemory + TensorMemory.minimumStep
    }

    private func full(_ state: LuaState) {
        state.collectGarbage()
        collections += 1
        chargedSinceCollection = 0
        chargedSinceFull = 0
        let live = state.externalMemory
        threshold = live + (state.generationalCollector ? TensorMemory.minimumStep : max(TensorMemory.minimumStep, state.memoryUsed))
        fullThreshold = live + max(TensorMemory.minimumStep, live)
    }

    /// Called (through `TensorStorage.setReclaimer`) when a Swift function of `state` is about
    /// to take a fresh block of `bytes` because the block cache has none: the tensors that
    /// earlier calls returned and the script dropped (`timeit(function() return t:sort() end)`,
    /// each call's 160 MB of results dead once the next call starts) may still wait for the
    /// collector, which the charge steps run only every 64 MiB past what was live, and in
    /// generational mode only minor collections, which do not free tensors that grew old.
    /// Their blocks are what this allocation wants: fresh pages cost the kernel's clearing,
    /// 100-160 ms per 80 MB on the dev VM, which made the first calls of a process 1.5-2.5x
    /// slower than the later ones. So: a minor collection (generational mode) when at least
    /// `bytes` were charged since the last collection; then, if the cache still has no block,
    /// a full one when at least `bytes` were charged since the last full one and the Lua
    /// heap, which a full collection marks (about 0.1 ms per MB), is at most 4x `bytes` (its
    /// marking then costs at most a fifth of the fresh pages it may save) and, after a full
    /// one that found no block, once as many bytes as were then live came since. True when
    /// it collected.
    func reclaim(_ bytes: Int, in state: LuaState) -> Bool {
        guard !reclaiming else { return false }
        reclaiming = true
        defer { reclaiming = false }
        var collected = false
        // The block about to be allocated is charged when pushed: the charge step must not
        // collect again for it (a second collection right after this one finds little dead,
        // and makes the temporaries on the stack old, which only a full collection frees).
        defer { if collected { threshold += bytes } }
        if state.generationalCollector && chargedSinceCollection >= bytes {
            minor(state)
            reclaimCollections += 1
            collected = true
            if TensorStorage.cacheCanServe(bytes) { return true }
        }
        if chargedSinceFull >= max(bytes, reclaimFullAfter) && state.memoryUsed <= 4 * bytes {
            full(state)
            reclaimCollections += 1
            collected = true
            reclaimFullAfter = TensorStorage.cacheCanServe(bytes) ? 0 : state.externalMemory
        }
        return collected
    }

    /// Points `TensorStorage`'s reclaimer at the tensor memory of the state whose Swift
    /// function is allocating (once per process; allocations outside such calls, and on
    /// other threads, reclaim nothing).
    static let installReclaimer: Void = {
        TensorStorage.setReclaimer { bytes in
            guard let state = LuaState.runningOnThisThread,
                  let memory = state.userInfo[TensorMemory.key] as? TensorMemory else { return false }
            return memory.reclaim(bytes, in: state)
        }
    }()
}
