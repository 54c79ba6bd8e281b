import Foundation
import LuaKit

/// A tokenizer vocabulary for display (`sample.vocab(path)`): token id -> text, read from
/// a Hugging Face `tokenizer.json` (`model.vocab` as a map token -> id for BPE/WordPiece or
/// a list of [token, score] for Unigram, plus `added_tokens`) or from a plain file with one
/// token per line (id = line number - 1). Byte-level BPE tokens (GPT-2, Llama 3, Qwen:
/// `Ġ` for a space, `Ċ` for a newline) and SentencePiece pieces (`▁`, `<0x0A>`) are decoded
/// to the text they stand for.
final class SampleVocab {
    static let key = "sample.vocab"
    let path: String
    private(set) var texts: [String?] = []

    var count: Int { texts.lazy.filter { $0 != nil }.count }

    /// The display text of `id`, nil if the vocabulary has no such id.
    func text(_ id: Int) -> String? { id >= 0 && id < texts.count ? texts[id] : nil }

    /// The vocabulary loaded in this state, if any.
    static func current(_ s: LuaState) -> SampleVocab? { s.userInfo[key] as? SampleVocab }

    init(path: String) throws {
        self.path = path
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        if path.hasSuffix(".json") || data.first == UInt8(ascii: "{") {
            try readTokenizerJSON(data)
        } else {
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            var tokens = lines.map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
            if tokens.last == "" { tokens.removeLast() }
            let byteLevel = tokens.contains { $0.hasPrefix("Ġ") }
            texts = tokens.map { Self.display($0, byteLevel: byteLevel) }
        }
    }

    private func readTokenizerJSON(_ data: Data) throws {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LuaScriptError("not a tokenizer.json (the top level is not an object)")
        }
        guard let model = root["model"] as? [String: Any], let vocab = model["vocab"] else {
            throw LuaScriptError("not a tokenizer.json (no model.vocab)")
        }
        var pairs: [(String, Int)] = []
        if let map = vocab as? [String: Any] {
            for (tok, v) in map { if let id = (v as? NSNumber)?.intValue { pairs.append((tok, id)) } }
        } else if let list = vocab as? [Any] {
            for (i, entry) in list.enumerated() {
                if let e = entry as? [Any], let tok = e.first as? String { pairs.append((tok, i)) }
            }
        } else {
            throw LuaScriptError("model.vocab is neither a map nor a list")
        }
        for entry in root["added_tokens"] as? [Any] ?? [] {
            if let e = entry as? [String: Any], let tok = e["content"] as? String, let id = (e["id"] as? NSNumber)?.intValue {
                pairs.append((tok, id))
            }
        }
        let decoder = (root["decoder"] as? [String: Any])?["type"] as? String
        let byteLevel = decoder == "ByteLevel" || (decoder == nil && pairs.contains { $0.0.hasPrefix("Ġ") })
        let maxID = pairs.map(\.1).max() ?? -1
        guard maxID < 10_000_000 else { throw LuaScriptError("token id \(maxID) is implausibly large") }
        var texts = [String?](repeating: nil, count: maxID + 1)
        for (tok, id) in pairs where id >= 0 { texts[id] = Self.display(tok, byteLevel: byteLevel) }
        self.texts = texts
    }

    /// GPT-2's bytes_to_unicode, inverted: the printable stand-in character -> the byte.
    static let byteOfChar: [UInt32: UInt8] = {
        var printable: [Int] = Array(33...126) + Array(161...172) + Array(174...255)
        var map: [UInt32: UInt8] = [:]
        for b in printable { map[UInt32(b)] = UInt8(b) }
        var n = 0
        for b in 0..<256 where !printable.contains(b) {
            map[UInt32(256 + n)] = UInt8(b)
            printable.append(b)
            n += 1
        }
        return map
    }()

    /// The text a token stands for.
    static func display(_ token: String, byteLevel: Bool) -> String {
        if byteLevel {
            var bytes: [UInt8] = []
            for u in token.unicodeScalars {
                guard let b = byteOfChar[u.value] else { return token }  // an added token such as <|eot_id|>
                bytes.append(b)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        if token.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">"),
           let b = UInt8(token.dropFirst(3).prefix(2), radix: 16) {
            return String(decoding: [b], as: UTF8.self)
        }
        return token.replacingOccurrences(of: "▁", with: " ")
    }
}

extension SampleStages {
    static func installVocab(_ m: ModuleBuilder) {
        m.function("vocab", doc: """
            sample.vocab([path]) -> count
            Loads a tokenizer vocabulary so that chain:explain shows tokens as text: a Hugging
            Face tokenizer.json (its "model": {"vocab"} and "added_tokens") or a plain file
            with one token per line (the first line is id 0). Byte-level BPE is decoded for
            display (Ġ is a space, Ċ a newline), as are SentencePiece's ▁ and <0x0A>. Returns the number of tokens;
            sample.vocab(false) unloads it, sample.vocab() returns the count loaded (or nil).
            Example: sample.vocab("models/llama3/tokenizer.json")
            """) { a in
            let s = a.state
            if a.isNil(1) {
                if let v = SampleVocab.current(s) { s.push(v.count) } else { s.pushNil() }
                return 1
            }
            if a.type(1) == .boolean && !a.boolean(1) {
                s.userInfo[SampleVocab.key] = nil
                return 0
            }
            let path = try a.path(1)
            do {
                let v = try SampleVocab(path: path)
                s.userInfo[SampleVocab.key] = v
                s.push(v.count)
            } catch let e as LuaScriptError {
                throw a.failure("\(path): \(e.message)")
            } catch {
                throw a.failure("cannot read \(path): \((error as NSError).localizedDescription)")
            }
            return 1
        }
        m.function("token_text", doc: """
            sample.token_text(id) -> string | nil
            The display text of a 0-based token id in the vocabulary loaded by sample.vocab.
            Example: sample.token_text(464)  --> " The"
            """) { a in
            let id = try a.integer(1)
            if let t = SampleVocab.current(a.state)?.text(id) { a.state.push(t) } else { a.state.pushNil() }
            return 1
        }
    }
}
