import XCTest
@testable import AlignMath

/// `SpacyTokenCache` (spaCy's chunk cache, over UTF-8 bytes) against the uncached
/// `SpacyTokenizer` and `SpacySentencizer`: the same tokens, lower-cased texts and sentence
/// starts for a chunk tokenized now and for one taken from the cache (seen in the same text, in
/// an earlier text, or in another order), with special cases that span chunks and infixes.
final class SpacyTokenCacheTests: XCTestCase {
    static let words = ["He", "was", "born", "in", "1942", "the", "The", "U.S.A.", "Dr.", "Mr.", "don't", "I'm", "can't",
                        "it's", "(born", "1942),[2]", "e-mail", "well-known", "3.14", "$5", "50%", "10km", "\"quoted\"",
                        "'single'", "http://example.com", "a@b.com", "etc.", "vs.", "U.K.", "Jan.", "--", "...", "!", "?",
                        ";", ":", "café", "ΟΔΟΣ", "naïve", "—", "[1]", "#tag", "1,000", "12:30", "a.m.", "O'Neil",
                        "rock'n'roll", "gonna", "c'mon", "Let's", ":)", "😀", "x/y", "x/y.", "km/h.", "a-b.m.", "+", "&",
                        "-'.Then", "Dr.ረ", "'s--።", "www.Ҹ]", "ab=ーc", "3.5-ং", "10a.m.", "y", ".", "İstanbul", "ǅ",
                        "\u{1F1E9}\u{1F1EA}", "e\u{301}", "<unk>", "<UNK>", "<s>"]
    static let spaces = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\t", "\u{a0}", " \u{a0}", "\u{2028}", "\u{3000}", " \n "]

    /// SplitMix64, for texts that are the same on every run.
    struct Draw {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
    }

    static func texts() -> [String] {
        var g = Draw(state: 31)
        let blocks: [ClosedRange<UInt32>] = [0x21...0x7E, 0xA1...0x24F, 0x370...0x3FF, 0x400...0x4FF, 0x600...0x6FF,
                                              0x980...0x9FF, 0x1200...0x137F, 0x2010...0x205E, 0x3001...0x30FF, 0x1F300...0x1F64F]
        var out = ["", " ", "  ", "x", ".", "x/y. It works", "km/h. Next", "x/y .", "a-b.m. x", "Go -'.Then stop.",
                   "(born March 31, 1942),[2] is", "Don't stop.\n\nNew paragraph here:  two spaces.\tTabs\there. \u{a0}Done!  "]
        for _ in 0..<400 {
            var t = ""
            for w in 0..<(1 + g.next(14)) {
                if w > 0 { t += spaces[g.next(spaces.count)] }
                if g.next(5) == 0 {
                    for _ in 0..<(1 + g.next(4)) {
                        let b = blocks[g.next(blocks.count)]
                        let v = b.lowerBound + UInt32(g.next(Int(b.upperBound - b.lowerBound) + 1))
                        if let u = Unicode.Scalar(v), !SpacyClass.isSpace(u) { t.unicodeScalars.append(u) }
                        if g.next(3) == 0 { t += [".", "-", "/", ",", "'", ":", "...", "'s"][g.next(8)] }
                    }
                } else {
                    t += words[g.next(words.count)]
                }
            }
            out.append(t + ["", ".", " .", "!", "?", "  "][g.next(6)])
        }
        return out
    }

    private func check(_ cache: SpacyTokenCache, _ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let s = Array(text.unicodeScalars)
        var offsets = [0]
        for u in s { offsets.append(offsets[offsets.count - 1] + UTF8.width(u)) }
        let ranges = SpacyTokenizer().ranges(s)
        let starts = SpacySentencizer().sentenceStarts(s, ranges)
        var copy = text, got: [Int] = []
        let buffer = SpacyTokenCache.Tokens(capacity: 1)  // grown as it fills
        copy.withUTF8 { b in if let p = b.baseAddress { cache.tokenize(p, b.count, into: buffer) } }
        SpacyTokenCache.sentenceStarts(buffer, into: &got)
        let toks = buffer.array
        XCTAssertEqual(toks.map { [Int($0.start), Int($0.end)] }, ranges.map { [offsets[$0.0], offsets[$0.1]] },
                       "\(what): tokens of \(text.debugDescription)", file: file, line: line)
        XCTAssertEqual(toks.map { String(decoding: cache.lower.bytes($0.id), as: UTF8.self) },
                       ranges.map { PythonLower.lower(SpacyTokenizer.string(s, $0.0, $0.1)) },
                       "\(what): lower-cased tokens of \(text.debugDescription)", file: file, line: line)
        XCTAssertEqual(got, starts, "\(what): sentences of \(text.debugDescription)", file: file, line: line)
    }

    func testCachedChunksTokenizeAsUncached() throws {
        var texts = SpacyTokenCacheTests.texts()
        let fixture = try XCTUnwrap(try Fixture.load("detection_selfcheck.json") as? [String: Any])
        let cases = try XCTUnwrap(fixture["tokenizer"] as? [[String: Any]])
        texts += cases.compactMap { $0["text"] as? String }
        let cache = SpacyTokenCache()
        for t in texts {
            check(cache, t, "first")
            check(cache, t, "cached")
        }
        // 12,000 new chunks of 2-16 bytes (short ones are keys of their own, long ones hashed)
        // grow the table several times; the chunks cached before are found again after that
        var many: [String] = []
        for i in 0..<12_000 { many.append(["w\(i)", "Word\(i)longer,", "x\(i).", "\(i)km", "(\(i)"][i % 5]) }
        check(cache, many.joined(separator: " "), "growing")
        for t in texts { check(cache, t, "after growing") }
        let other = SpacyTokenCache()  // every chunk first seen in another text
        for t in texts.reversed() { check(other, t, "reversed") }
        check(other, texts.joined(separator: " "), "all at once")
    }

    func testScoresWithACachePopulatedByEarlierCalls() throws {
        let passage = "Dr. Smith went to Washington. He didn't stay long! The U.S.A. is big, x/y. It works."
        let samples = ["dr. smith went to Washington.", "He stayed long. He didn't.", "x/y. It works", "ΟΔΟΣ and naïve café."]
        let sentences: [SelfCheckNgram.Text] = [.text("Dr. Smith went to Washington."), .text("He didn't stay long!"),
                                                .text("x/y. It works."), .tokens(["ΟΔΟΣ", "<s>"])]
        for n in 1...4 {
            let cache = SpacyTokenCache()  // nothing cached yet
            func score() throws -> SelfCheckNgram.Result {
                try SelfCheckNgram.score(sentences: sentences, passage: .text(passage), samples: samples.map { .text($0) },
                                         n: n, k: 0, cache: cache)
            }
            let cold = try score()
            for _ in 0..<2 {
                let warm = try score()
                XCTAssertEqual(warm.avgNegLogprob.map(\.bitPattern), cold.avgNegLogprob.map(\.bitPattern), "n=\(n)")
                XCTAssertEqual(warm.maxNegLogprob.map(\.bitPattern), cold.maxNegLogprob.map(\.bitPattern), "n=\(n)")
                XCTAssertEqual(warm.docAvgNegLogprob.bitPattern, cold.docAvgNegLogprob.bitPattern, "n=\(n)")
                XCTAssertEqual(warm.docAvgMaxNegLogprob.bitPattern, cold.docAvgMaxNegLogprob.bitPattern, "n=\(n)")
            }
        }
    }
}
