import XCTest
@testable import AlignMath

/// SelfCheckGPT's n-gram score and the spaCy tokenizer/sentencizer port, against
/// Fixtures/detection_selfcheck.json (generate_detection.py: selfcheckgpt's own
/// modeling_ngram.py run over spaCy's English tokenizer and sentencizer).
final class DetectionNgramTests: XCTestCase {
    private func fixture() throws -> [String: Any] {
        try XCTUnwrap(try Fixture.load("detection_selfcheck.json") as? [String: Any])
    }

    private func close(_ a: Double, _ b: Double, _ what: String, tol: Double = 1e-9) {
        XCTAssertEqual(a, b, accuracy: tol * max(1, abs(b)), what)
    }

    func testTokenizerMatchesSpacy() throws {
        let cases = try XCTUnwrap(try fixture()["tokenizer"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 15)
        let tok = SpacyTokenizer(), sent = SpacySentencizer()
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String)
            XCTAssertEqual(tok.tokens(text), c["tokens"] as? [String], "tokens of \(text.prefix(60))")
            XCTAssertEqual(sent.sentences(text), c["sentences"] as? [String], "sentences of \(text.prefix(60))")
        }
    }

    /// spaCy 3.8.18's `_apply_special_cases` (spacy.blank("en") + sentencizer, values from spaCy;
    /// found by Tests/Differential/peer_diff.py): a special case reached only after an infix split
    /// is merged back ("y." is an exception), one with a space inside is not.
    func testSpecialCasesAcrossInfixesAsSpacy() {
        let tok = SpacyTokenizer()
        XCTAssertEqual(tok.tokens("x/y. It works"), ["x", "/", "y.", "It", "works"])
        XCTAssertEqual(tok.tokens("km/h. Next"), ["km", "/", "h.", "Next"])
        XCTAssertEqual(tok.tokens("x/y ."), ["x", "/", "y", "."])
        XCTAssertEqual(tok.tokens("a-b.m. x"), ["a", "-", "b.m", ".", "x"])
        XCTAssertEqual(SpacySentencizer().sentences("x/y. It works"), ["x/y. It works"])
    }

    /// spaCy 3.8.18's ALPHA / ALPHA_LOWER / ALPHA_UPPER are explicit range lists in which uncased
    /// scripts are whole blocks (Ethiopic punctuation, Bengali signs, Katakana's prolonged sound mark
    /// count as letters of both cases); values from spaCy. Unicode properties split these otherwise.
    func testCharacterClassesAsSpacysRanges() {
        let tok = SpacyTokenizer()
        XCTAssertEqual(tok.tokens("Dr.\u{1368} x"), ["Dr.", "\u{1368}", "x"])
        XCTAssertEqual(tok.tokens("'s--\u{1362}"), ["'s", "--", "\u{1362}"])
        XCTAssertEqual(tok.tokens("www.\u{4B8}]"), ["www.\u{4B8}", "]"])
        XCTAssertEqual(tok.tokens("ab=\u{30FC}c"), ["ab", "=", "\u{30FC}c"])
        XCTAssertEqual(tok.tokens("3.5-\u{982}"), ["3.5", "-", "\u{982}"])
    }

    func testBracketCitationSplitsAsSpacy() {
        XCTAssertEqual(SpacyTokenizer().tokens("(born March 31, 1942),[2] is"),
                       ["(", "born", "March", "31", ",", "1942),[2", "]", "is"])
    }

    func testReadmePublishedNumbers() throws {
        let cases = try XCTUnwrap(try fixture()["cases"] as? [[String: Any]])
        let readme = try XCTUnwrap(cases.first { $0["name"] as? String == "readme" })
        let r = try SelfCheckNgram.score(
            sentences: (readme["sentences"] as? [String] ?? []).map { .text($0) },
            passage: .text(readme["passage"] as? String ?? ""),
            samples: (readme["samples"] as? [String] ?? []).map { .text($0) }, n: 1)
        // README.md of potsawee/selfcheckgpt, printed to 6 decimals at sentence level.
        let pub = try XCTUnwrap(readme["published_n1"] as? [String: Any])
        let ps = try XCTUnwrap(pub["sentences"] as? [String: [Double]])
        let pd = try XCTUnwrap(pub["doc"] as? [String: Double])
        XCTAssertEqual(r.avgNegLogprob.count, 2)
        for i in 0..<2 {
            XCTAssertEqual(r.avgNegLogprob[i], ps["avg_neg_logprob"]?[i] ?? .nan, accuracy: 1e-6)
            XCTAssertEqual(r.maxNegLogprob[i], ps["max_neg_logprob"]?[i] ?? .nan, accuracy: 1e-6)
        }
        XCTAssertEqual(r.docAvgNegLogprob, pd["avg_neg_logprob"] ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(r.docAvgMaxNegLogprob, pd["avg_max_neg_logprob"] ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(r.avgNegLogprob[0], 3.184312, accuracy: 1e-6)
        XCTAssertEqual(r.maxNegLogprob[1], 4.57471, accuracy: 1e-5)
        XCTAssertEqual(r.docAvgNegLogprob, 3.218678904916201, accuracy: 1e-12)
    }

    func testAllPassagesAndOrders() throws {
        let cases = try XCTUnwrap(try fixture()["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            XCTAssertEqual(SpacySentencizer().sentences(c["passage"] as? String ?? ""),
                           c["passage_sentences"] as? [String], "\(name) sentences")
            for n in 1...3 {
                let want = try XCTUnwrap(c["n\(n)"] as? [String: Any])
                let ws = try XCTUnwrap(want["sentences"] as? [String: [Double]])
                let wd = try XCTUnwrap(want["doc"] as? [String: Double])
                let r = try SelfCheckNgram.score(
                    sentences: (c["sentences"] as? [String] ?? []).map { .text($0) },
                    passage: .text(c["passage"] as? String ?? ""),
                    samples: (c["samples"] as? [String] ?? []).map { .text($0) }, n: n)
                XCTAssertEqual(r.avgNegLogprob.count, ws["avg_neg_logprob"]?.count)
                for (i, v) in r.avgNegLogprob.enumerated() { close(v, ws["avg_neg_logprob"]?[i] ?? .nan, "\(name) n=\(n) avg \(i)") }
                for (i, v) in r.maxNegLogprob.enumerated() { close(v, ws["max_neg_logprob"]?[i] ?? .nan, "\(name) n=\(n) max \(i)") }
                close(r.docAvgNegLogprob, wd["avg_neg_logprob"] ?? .nan, "\(name) n=\(n) doc avg")
                close(r.docAvgMaxNegLogprob, wd["avg_max_neg_logprob"] ?? .nan, "\(name) n=\(n) doc max")
            }
        }
    }

    func testTokensInsteadOfTextAndUnseen() throws {
        let r = try SelfCheckNgram.score(sentences: [.tokens(["The", "cat"]), .tokens(["a", "dog"])],
                                         passage: .tokens(["the", "cat", "sat"]), samples: [.tokens(["the", "dog"])])
        XCTAssertEqual(r.avgNegLogprob[0], -(log(2.0 / 5) + log(1.0 / 5)) / 2, accuracy: 1e-12)
        XCTAssertEqual(r.maxNegLogprob[1], .infinity)  // "a" unseen, k = 0: -log 0
        let smoothed = try SelfCheckNgram.score(sentences: [.tokens(["a"])], passage: .tokens(["b"]), samples: [], k: 1)
        XCTAssertEqual(smoothed.avgNegLogprob[0], -log(1.0 / 3), accuracy: 1e-12)  // (0+1)/(1+1*2)
        XCTAssertThrowsError(try SelfCheckNgram.score(sentences: [], passage: .text("x"), samples: [], n: 0))
        XCTAssertThrowsError(try SelfCheckNgram.score(sentences: [.tokens([])], passage: .text("x"), samples: []))
    }

    /// selfcheckgpt modeling_ngram.py (4cb9221) with Python 3.11 (values from its formulas, found by
    /// Tests/Differential/peer_diff.py): tokens lower-cased by str.lower (final sigma), and the token
    /// "<unk>" counted into the same dictionary entry unseen unigrams fall back to.
    func testPythonLowerAndTheUnkToken() throws {
        let sigma = try SelfCheckNgram.score(sentences: [.tokens(["ΟΔΟΣ"])], passage: .tokens(["οδος", "x"]),
                                             samples: [.tokens(["y"])])
        XCTAssertEqual(sigma.avgNegLogprob[0], log(3.0), accuracy: 1e-12)  // was +inf ("οδοσ" unseen)
        let unk = try SelfCheckNgram.score(sentences: [.tokens(["zzz"])], passage: .tokens(["<UNK>", "a"]),
                                           samples: [.tokens(["a"])])
        XCTAssertEqual(unk.avgNegLogprob[0], log(3.0), accuracy: 1e-12)  // counts['<unk>'] = 1 of 3
        let unkSmoothed = try SelfCheckNgram.score(sentences: [.tokens(["zzz"])], passage: .tokens(["<UNK>", "a"]),
                                                   samples: [.tokens(["a"])], k: 1)
        XCTAssertEqual(unkSmoothed.avgNegLogprob[0], -log(0.4), accuracy: 1e-12)  // (1 + 1) / (3 + 1 * 2)
        let bigram = try SelfCheckNgram.score(sentences: [.tokens(["zzz"])], passage: .tokens(["<unk>"]),
                                              samples: [], n: 2)
        XCTAssertEqual(bigram.avgNegLogprob[0], .infinity)  // n-grams are tuples, never the '<unk>' key
    }

    /// selfcheckgpt's add() tokenizes each sentence's stripped text again: a sentence that ends
    /// inside a whitespace chunk ("-'.Then") re-tokenizes as - ' . where the whole chunk gave -' and .
    /// (spaCy 3.8.18 and selfcheckgpt 4cb9221; found by Tests/Differential/peer_diff.py).
    func testSentenceEndingInsideAChunkIsTokenizedAgain() throws {
        let r = try SelfCheckNgram.score(sentences: [.text("Go -'.")], passage: .text("Go -'.Then stop."), samples: [])
        // counts: go 1, - 1, ' 1, . 2, then 1, stop 1 (7 tokens)
        XCTAssertEqual(r.avgNegLogprob[0], (3 * log(7.0) + log(3.5)) / 4, accuracy: 1e-12)  // was +inf ("-" unseen)
        XCTAssertEqual(r.maxNegLogprob[0], log(7.0), accuracy: 1e-12)
    }

    func testTokenizingOnceCountsAsSelfcheckgptsSecondPass() throws {
        // selfcheckgpt's add() tokenizes `sent.text.strip()` of every sentence again; the
        // model tokenizes each text once and drops whitespace tokens at sentence ends. Same
        // counts on texts with blank lines, tabs, no-break spaces and runs of spaces:
        let texts = ["Don't stop.\n\nNew paragraph here:  two spaces.\tTabs\there. \u{a0}Done!  ",
                     "A.  B.   C!\n \n D? E... F\u{2028}G.", "  Leading. Trailing.\n\n", "One sentence"]
        let tok = SpacyTokenizer(), sent = SpacySentencizer()
        for n in 1...3 {
            for t in texts {
                var counts: [[String]: Int] = [:], total = 0
                for piece in [t] + texts {
                    for sentence in sent.sentences(piece) {
                        let toks = tok.tokens(sentence).map { $0.lowercased() }
                        let padded = [String](repeating: "<s>", count: n - 1) + toks
                        for g in 0..<toks.count { counts[Array(padded[g..<(g + n)]), default: 0] += 1 }
                        total += toks.count
                    }
                }
                let r = try SelfCheckNgram.score(sentences: [.text("New paragraph here:  two spaces."), .text("C!")],
                                                 passage: .text(t), samples: texts.map { .text($0) }, n: n)
                let probe = tok.tokens("New paragraph here:  two spaces.").map { $0.lowercased() }
                let padded = [String](repeating: "<s>", count: n - 1) + probe
                var sum = 0.0
                for g in 0..<probe.count { sum += -log(Double(counts[Array(padded[g..<(g + n)])] ?? 0) / Double(total)) }
                XCTAssertEqual(r.avgNegLogprob[0], sum / Double(probe.count), accuracy: 1e-12, "n=\(n) \(t.debugDescription)")
            }
        }
    }
}
