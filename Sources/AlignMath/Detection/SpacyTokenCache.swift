import Synchronization

/// spaCy's tokenizer cache (`Tokenizer._cache` in spacy/tokenizer.pyx: the tokens of each
/// whitespace-separated chunk, keyed by the chunk's text) over UTF-8 bytes, for
/// `SelfCheckNgram`: a chunk seen before is a hash lookup and a copy of its tokens; a new one
/// is tokenized by `SpacyTokenizer` (`chunkRanges`, which depends on the chunk's code points
/// only) and stored. Each cached token carries the id of its lower-cased text (Python's
/// `str.lower`, `PythonLower`) in `lower`, and the flags the sentencizer and the special-case
/// pass need, so none of them is computed again for a chunk seen before. The special-case
/// pass (`SpacySpecialMatcher`) runs over the whole text as in `SpacyTokenizer.ranges`, only
/// from tokens that start one of its patterns.
///
/// Not thread-safe: `withCache` lends one to a single caller at a time (a pool, so threads
/// that score at once each get their own). Its tables are dropped between calls once they
/// grow past a few MB.
final class SpacyTokenCache: @unchecked Sendable {
    /// One token: byte offsets into the tokenized text, the id of its lower-cased text in
    /// `lower`, the index of the special-case patterns that start with it (or -1), and flags.
    struct Piece: Equatable {
        var start: Int32
        var end: Int32
        var id: Int32
        var group: Int32
        var flags: UInt8
    }
    /// Every code point is whitespace (`SpacyClass.isSpace`).
    static let blank: UInt8 = 1
    /// One of the sentencizer's punctuation characters.
    static let ender: UInt8 = 2
    /// Every code point is Unicode punctuation (spaCy's `is_punct`).
    static let punct: UInt8 = 4

    /// A reusable buffer of tokens, with the positions of those that start a special-case pattern.
    final class Tokens {
        private(set) var base: UnsafeMutablePointer<Piece>
        private(set) var capacity: Int
        private(set) var count = 0
        var candidates: [Int] = []

        init(capacity: Int = 1024) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

        deinit { base.deallocate() }

        func removeAll() {
            count = 0
            candidates.removeAll(keepingCapacity: true)
        }

        @inline(__always)
        func append(_ piece: Piece) {
            if count == capacity { grow() }
            (base + count).initialize(to: piece)
            count += 1
        }

        private func grow() {
            let bigger = UnsafeMutablePointer<Piece>.allocate(capacity: capacity * 2)
            bigger.moveInitialize(from: base, count: count)
            base.deallocate()
            base = bigger
            capacity *= 2
        }

        @inline(__always)
        subscript(i: Int) -> Piece { base[i] }

        var array: [Piece] { Array(UnsafeBufferPointer(start: base, count: count)) }

        /// Replaces the tokens (the special-case pass).
        func replace(with pieces: [Piece]) {
            count = 0
            for p in pieces { append(p) }
        }
    }

    /// One slot of the chunk table. A chunk of at most 8 bytes is its own key (its bytes, with
    /// its length in `meta`); a longer one is keyed by its hash and compared with the bytes kept
    /// in `arena`. A short chunk that is one token keeps that token here (`value` is its id);
    /// any other chunk's tokens are an `Entry` (`value` is its index).
    private struct Slot {
        var key: UInt64
        var value: Int32
        /// 0 = empty; bit 0 taken, bit 1 the token is here, bit 2 a token starts a special-case
        /// pattern, bits 3-5 the token's flags, bits 8-11 the length (0: longer than 8 bytes),
        /// bits 16-31 the token's pattern group + 1.
        var meta: UInt32
    }

    private struct Entry {
        var start: Int32      // into arena
        var length: Int32
        var first: Int32      // into pieces
        var count: Int32
        var candidate: Bool
    }

    let tokenizer = SpacyTokenizer()
    /// Lower-cased token texts to ids; "<s>" and "<unk>" are `pad` and `unk`.
    private(set) var lower = TokenInterner(capacity: 1 << 13)
    private(set) var pad: Int32 = 0
    private(set) var unk: Int32 = 0
    private var slots: UnsafeMutablePointer<Slot>
    private var slotCount = 0
    private var shift: UInt64 = 0
    private var used = 0
    private var entries: [Entry] = []
    private var arena: [UInt8] = []
    private var pieces: [Piece] = []
    private var bytes: [UInt8] = []
    /// Work buffers of `SelfCheckNgram` (kept so a call reuses the memory of the last one).
    let textTokens = Tokens(), sentenceTokens = Tokens()
    var counts = NgramCountsStorage()

    init() {
        slots = .allocate(capacity: 1)
        reset()
    }

    deinit { slots.deallocate() }

    private func reset() {
        lower = TokenInterner(capacity: 1 << 13)
        pad = Array("<s>".utf8).withUnsafeBufferPointer { lower.id($0) }
        unk = Array("<unk>".utf8).withUnsafeBufferPointer { lower.id($0) }
        slots.deallocate()
        allocateSlots(1 << 12)
        used = 0
        entries = []
        arena = []
        pieces = []
        counts = NgramCountsStorage()
    }

    private func allocateSlots(_ count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: Slot(key: 0, value: 0, meta: 0), count: count)
        slotCount = count
        shift = UInt64(64 - count.trailingZeroBitCount)
    }

    /// The bytes kept between calls, roughly.
    var footprint: Int { slotCount * MemoryLayout<Slot>.stride + arena.count + pieces.count * MemoryLayout<Piece>.stride + counts.footprint }

    private static let pool = Mutex<[SpacyTokenCache]>([])

    /// Runs `body` with a cache no other thread uses meanwhile.
    static func withCache<R>(_ body: (SpacyTokenCache) throws -> R) rethrows -> R {
        let cache = pool.withLock { $0.popLast() } ?? SpacyTokenCache()
        defer {
            if cache.footprint > 32 << 20 || cache.lower.count > 1 << 19 { cache.reset() }
            pool.withLock { if $0.count < 8 { $0.append(cache) } }
        }
        return try body(cache)
    }

    /// The id of a token's lower-cased text given as a string (a caller's token).
    func id(lowering t: String) -> Int32 {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: PythonLower.lower(t).utf8)
        return bytes.withUnsafeBufferPointer { lower.id($0) }
    }

    // MARK: tokenizing

    @inline(__always)
    private static func asciiSpace(_ c: UInt8) -> Bool {
        c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)
    }

    /// The code point at `p[i]` (valid UTF-8) and its length in bytes.
    @inline(__always)
    static func scalar(_ p: UnsafePointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let c = UInt32(p[i])
        if c < 0x80 { return (c, 1) }
        if c < 0xE0 { return ((c & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
        if c < 0xF0 { return ((c & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3) }
        return ((c & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
    }

    @inline(__always)
    private static func isSpace(_ v: UInt32) -> Bool {
        v < 0x80 ? asciiSpace(UInt8(v)) : Unicode.Scalar(v).map(SpacyClass.isSpace) ?? false
    }

    /// Whether the text `p[0..<n]` has whitespace (or its start) just before byte `i`.
    static func spaceBefore(_ p: UnsafePointer<UInt8>, _ i: Int) -> Bool {
        guard i > 0 else { return true }
        var j = i - 1
        while j > 0 && p[j] & 0xC0 == 0x80 { j -= 1 }
        return isSpace(scalar(p, j).0)
    }

    /// Whether the text `p[0..<n]` has whitespace (or its end) at byte `i`.
    static func spaceAt(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Bool {
        i >= n || isSpace(scalar(p, i).0)
    }

    /// The tokens of the UTF-8 text `p[0..<n]`, as `SpacyTokenizer.ranges` gives them (here as
    /// byte offsets), in `out` (emptied first).
    func tokenize(_ p: UnsafePointer<UInt8>, _ n: Int, into out: Tokens) {
        out.removeAll()
        guard n > 0 else { return }
        var i = 0, start = 0
        var inSpace = SpacyTokenCache.isSpace(SpacyTokenCache.scalar(p, 0).0)
        while i < n {
            if !inSpace {
                // ASCII that is neither whitespace nor a control byte never ends a chunk
                while i < n && p[i] > 0x20 && p[i] < 0x80 { i += 1 }
                if i == n { break }
            }
            let c = p[i]
            let space: Bool, width: Int
            if c < 0x80 {
                space = SpacyTokenCache.asciiSpace(c)
                width = 1
            } else {
                let (v, w) = SpacyTokenCache.scalar(p, i)
                space = SpacyTokenCache.isSpace(v)
                width = w
            }
            if space != inSpace {
                if start < i { chunk(p, start, i, n, out) }
                start = c == 0x20 ? i + 1 : i
                inSpace.toggle()
            }
            i += width
        }
        if start < n { chunk(p, start, n, n, out) }
        if !out.candidates.isEmpty { SpacyByteMatcher.apply(p, out, self) }
    }

    /// The bytes `p[a..<a+length]` (length <= 8) as one little-endian word, zero above them.
    @inline(__always)
    private static func pack(_ p: UnsafePointer<UInt8>, _ a: Int, _ length: Int, _ n: Int) -> UInt64 {
        if a + 8 <= n {
            let w = UnsafeRawPointer(p + a).loadUnaligned(as: UInt64.self)
            return length == 8 ? w : w & ((1 << UInt64(8 * length)) &- 1)
        }
        var w: UInt64 = 0
        for k in 0..<length { w |= UInt64(p[a + k]) << UInt64(8 * k) }
        return w
    }

    @inline(__always)
    private func home(short key: UInt64, _ length: Int) -> Int {
        Int(truncatingIfNeeded: ((key &+ UInt64(length)) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    @inline(__always)
    private func home(long hash: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Appends the tokens of the chunk `p[a..<b]` (of the text `p[0..<n]`).
    @inline(__always)
    private func chunk(_ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int, _ n: Int, _ out: Tokens) {
        let length = b - a
        let mask = slotCount - 1
        if length <= 8 {
            let key = SpacyTokenCache.pack(p, a, length, n)
            let lengthBits = UInt32(length) << 8
            var s = home(short: key, length)
            while true {
                let slot = slots[s]
                if slot.meta == 0 { break }
                if slot.key == key && slot.meta & 0xF00 == lengthBits {
                    if slot.meta & 2 != 0 {
                        if slot.meta & 4 != 0 { out.candidates.append(out.count) }
                        out.append(Piece(start: Int32(truncatingIfNeeded: a), end: Int32(truncatingIfNeeded: b), id: slot.value,
                                         group: Int32(slot.meta >> 16) - 1, flags: UInt8((slot.meta >> 3) & 7)))
                    } else {
                        appendEntry(Int(slot.value), a, out)
                    }
                    return
                }
                s = (s + 1) & mask
            }
            fill(p, a, b, key: key, slot: s, out)
        } else {
            let h = hashBytes(p + a, length)
            var s = home(long: h)
            while true {
                let slot = slots[s]
                if slot.meta == 0 { break }
                if slot.key == h && slot.meta & 0xF00 == 0 {
                    let e = entries[Int(slot.value)]
                    if Int(e.length) == length,
                       arena.withUnsafeBufferPointer({ memcmpBytes($0.baseAddress.map { $0 + Int(e.start) }, p + a, length) }) {
                        appendEntry(Int(slot.value), a, out)
                        return
                    }
                }
                s = (s + 1) & mask
            }
            fill(p, a, b, key: h, slot: s, out)
        }
    }

    @inline(__always)
    private func appendEntry(_ k: Int, _ a: Int, _ out: Tokens) {
        let e = entries[k]
        let offset = Int32(truncatingIfNeeded: a)
        pieces.withUnsafeBufferPointer { ps in
            for j in Int(e.first)..<Int(e.first + e.count) {
                var piece = ps[j]
                piece.start &+= offset
                piece.end &+= offset
                if piece.group >= 0 { out.candidates.append(out.count) }
                out.append(piece)
            }
        }
    }

    /// Tokenizes a chunk never seen and stores it at `slot`.
    private func fill(_ p: UnsafePointer<UInt8>, _ a: Int, _ b: Int, key: UInt64, slot: Int, _ out: Tokens) {
        let text = UnsafeBufferPointer(start: p + a, count: b - a)
        // ASCII: one code point per byte, so code-point offsets are byte offsets
        let ascii = text.allSatisfy { $0 < 0x80 }
        let scalars = ascii ? text.map { Unicode.Scalar($0) } : Array(String(decoding: text, as: UTF8.self).unicodeScalars)
        var offsets: [Int] = []
        if !ascii {
            offsets = [Int](repeating: 0, count: scalars.count + 1)
            for (k, u) in scalars.enumerated() { offsets[k + 1] = offsets[k] + UTF8.width(u) }
        }
        var made: [Piece] = []
        for (x0, y0) in tokenizer.chunkRanges(scalars) {
            let x = Swift.min(x0, scalars.count), y = Swift.min(y0, scalars.count)
            made.append(makePiece(scalars, x, y, start: ascii ? x : offsets[x], end: ascii ? y : offsets[y]))
        }
        let short = b - a <= 8
        if short && made.count == 1 && made[0].start == 0 && Int(made[0].end) == b - a && made[0].group < 0xFFFE {
            let m = made[0]
            slots[slot] = Slot(key: key, value: m.id,
                               meta: 1 | 2 | (m.group >= 0 ? 4 : 0) | UInt32(m.flags) << 3 | UInt32(b - a) << 8 | UInt32(m.group + 1) << 16)
        } else {
            entries.append(Entry(start: Int32(arena.count), length: Int32(b - a), first: Int32(pieces.count),
                                 count: Int32(made.count), candidate: made.contains { $0.group >= 0 }))
            pieces.append(contentsOf: made)
            if !short { arena.append(contentsOf: text) }
            slots[slot] = Slot(key: key, value: Int32(entries.count - 1), meta: 1 | (short ? UInt32(b - a) << 8 : 0))
        }
        used += 1
        if used * 10 > slotCount * 7 { grow() }
        // the tokens themselves
        let offset = Int32(truncatingIfNeeded: a)
        for var piece in made {
            piece.start &+= offset
            piece.end &+= offset
            if piece.group >= 0 { out.candidates.append(out.count) }
            out.append(piece)
        }
    }

    private func grow() {
        let old = slots, oldCount = slotCount
        allocateSlots(oldCount * 2)
        let mask = slotCount - 1
        for i in 0..<oldCount where old[i].meta != 0 {
            let slot = old[i]
            let length = Int((slot.meta >> 8) & 0xF)
            var s = length == 0 ? home(long: slot.key) : home(short: slot.key, length)
            while slots[s].meta != 0 { s = (s + 1) & mask }
            slots[s] = slot
        }
        old.deallocate()
    }

    /// The token `s[x..<y]` at bytes `start..<end`: its lower-cased id, flags and pattern group.
    func makePiece(_ s: [Unicode.Scalar], _ x: Int, _ y: Int, start: Int, end: Int) -> Piece {
        bytes.removeAll(keepingCapacity: true)
        var ascii = true
        for i in x..<y {
            let v = s[i].value
            if v >= 128 { ascii = false; break }
            bytes.append(UInt8(v >= 65 && v <= 90 ? v + 32 : v))
        }
        if !ascii {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: PythonLower.lower(SpacyTokenizer.string(s, x, y)).utf8)
        }
        let id = bytes.withUnsafeBufferPointer { lower.id($0) }
        var flags: UInt8 = 0
        if s[x..<y].allSatisfy(SpacyClass.isSpace) { flags |= SpacyTokenCache.blank }
        if y - x == 1 && SpacySentencizer.enderScalars.contains(s[x]) { flags |= SpacyTokenCache.ender }
        if x < y && s[x..<y].allSatisfy(SpacyTokenCache.isPunctuation) { flags |= SpacyTokenCache.punct }
        let group = SpacyByteMatcher.table.index[SpacyExceptionIndex.hash(s, x, y)] ?? -1
        return Piece(start: Int32(start), end: Int32(end), id: id, group: group, flags: flags)
    }

    /// Unicode punctuation (P*) among the ASCII code points, from the same property.
    private static let asciiPunctuation: (UInt64, UInt64) = {
        var low: UInt64 = 0, high: UInt64 = 0
        for v in 0..<128 where Unicode.Scalar(UInt8(v)).properties.generalCategory.isPunctuation {
            if v < 64 { low |= 1 << UInt64(v) } else { high |= 1 << UInt64(v - 64) }
        }
        return (low, high)
    }()

    /// spaCy's `is_punct` of one code point: its general category is P*.
    @inline(__always)
    static func isPunctuation(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        if v < 64 { return (asciiPunctuation.0 >> UInt64(v)) & 1 != 0 }
        if v < 128 { return (asciiPunctuation.1 >> UInt64(v - 64)) & 1 != 0 }
        return u.properties.generalCategory.isPunctuation
    }

    /// `SpacySentencizer.sentenceStarts` over tokens with their flags.
    static func sentenceStarts(_ toks: Tokens, into starts: inout [Int]) {
        starts.removeAll(keepingCapacity: true)
        guard toks.count > 0 else { return }
        starts.append(0)
        var seenPeriod = false
        let p = toks.base
        for i in 0..<toks.count {
            let f = p[i].flags
            let isEnder = f & ender != 0
            if seenPeriod && !isEnder && f & punct == 0 {
                starts.append(i)
                seenPeriod = false
            } else if isEnder {
                seenPeriod = true
            }
        }
    }
}

/// `SpacySpecialMatcher.apply` over UTF-8 tokens (`SpacyTokenCache.Piece`): the same
/// patterns, matches, order and replacements; token texts compared byte by byte (equal bytes
/// of valid UTF-8 are equal code points).
enum SpacyByteMatcher {
    /// The groups of `SpacySpecialMatcher.patterns` (each pattern its tokens' UTF-8 bytes) and
    /// the group of each first token's hash.
    static let table: (index: HashTable64, groups: [[[[UInt8]]]]) = {
        var index: [(UInt64, Int32)] = [], groups: [[[[UInt8]]]] = []
        for (h, patterns) in SpacySpecialMatcher.patterns {
            index.append((h, Int32(groups.count)))
            groups.append(patterns.map { $0.map { piece in
                var v = String.UnicodeScalarView()
                v.append(contentsOf: piece)
                return Array(String(v).utf8)
            } })
        }
        return (HashTable64(index), groups)
    }()

    static func apply(_ p: UnsafePointer<UInt8>, _ out: SpacyTokenCache.Tokens, _ cache: SpacyTokenCache) {
        let groups = table.groups
        var matches: [(start: Int, end: Int)] = []
        for i in out.candidates {
            for pattern in groups[Int(out[i].group)] where i + pattern.count <= out.count {
                var ok = true
                for (k, piece) in pattern.enumerated() {
                    let t = out[i + k]
                    if Int(t.end - t.start) != piece.count { ok = false; break }
                    for j in 0..<piece.count where p[Int(t.start) + j] != piece[j] { ok = false; break }
                    if !ok { break }
                }
                if ok { matches.append((i, i + pattern.count)) }
            }
        }
        if matches.isEmpty { return }
        let kept = SpacySpecialMatcher.filterSpans(matches)
        var result: [SpacyTokenCache.Piece] = []
        result.reserveCapacity(out.count)
        var i = 0, k = 0
        while i < out.count {
            if k < kept.count && kept[k].start == i {
                let m = kept[k]
                k += 1
                let a = Int(out[m.start].start), b = Int(out[m.end - 1].end)
                let text = String(decoding: UnsafeBufferPointer(start: p + a, count: b - a), as: UTF8.self)
                if let pieces = SpacyEnglishExceptions.table[text] {
                    let s = Array(text.unicodeScalars)
                    var offsets = [Int](repeating: 0, count: s.count + 1)
                    for (j, u) in s.enumerated() { offsets[j + 1] = offsets[j] + UTF8.width(u) }
                    var q = 0
                    for piece in pieces {
                        let x = Swift.min(q, s.count), y = Swift.min(q + piece.unicodeScalars.count, s.count)
                        result.append(cache.makePiece(s, x, y, start: a + offsets[x], end: a + offsets[y]))
                        q += piece.unicodeScalars.count
                    }
                } else {
                    for t in m.start..<m.end { result.append(out[t]) }
                }
                i = m.end
            } else {
                result.append(out[i])
                i += 1
            }
        }
        out.replace(with: result)
    }
}
